"""The evaluate-and-register gate against real Azurite and a real MLflow sqlite store: the first model is
promoted, a better one takes the alias, a worse one is registered without it, the margin holds, a production
model that cannot score the new data is replaced, and every decision is on the run, the version and the output."""
from __future__ import annotations

import pytest
from mlflow.tracking import MlflowClient
from training_builders import porto_frame, split

from training import QualityGateError, TrainingConfig, run

WEAK = dict(lightgbm={"objective": "binary", "metric": "auc", "learning_rate": 0.05, "num_leaves": 2},
            num_boost_round=1, min_auc=0.5)  # one stump: above the floor, clearly worse than the baseline


@pytest.fixture(scope="module")
def frames():
    return split(porto_frame(5000, seed=21))


@pytest.fixture(scope="module")
def published(publish, frames):
    return publish(*frames)


def train(published, store, model: str, **config) -> dict:
    return run(published.manifest_url, tracking_uri=store, config=TrainingConfig(model_name=model, **config))


def holder(client: MlflowClient, model: str, alias: str = "production") -> str:
    return str(client.get_model_version_by_alias(model, alias).version)


@pytest.fixture(scope="module")
def history(published, store) -> list[dict]:
    """One model's life: a weak first model, a strong one, a weak one again, the strong one again."""
    return [train(published, store, "gate-life", **WEAK), train(published, store, "gate-life"),
            train(published, store, "gate-life", **WEAK), train(published, store, "gate-life")]


def test_the_first_model_is_promoted(history, client):
    first = history[0]
    assert first["promoted"] is True and first["model_version"] == "1"
    assert first["decision"]["outcome"] == "promoted" and first["decision"]["production_version"] is None
    assert "no model holds the alias 'production' yet" in first["decision"]["reason"]
    run_ = client.get_run(first["mlflow_run_id"])
    assert run_.data.tags["promotion.decision"] == "promoted" and "production_auc" not in run_.data.metrics


def test_a_better_model_takes_the_alias_scored_against_production_on_the_same_test_data(history, client):
    first, better = history[0], history[1]
    assert better["promoted"] is True and better["model_version"] == "2"
    assert better["decision"]["production_version"] == "1"
    # Production was re-scored on this run's test data: the same data and model give exactly its own test AUC.
    assert better["decision"]["production_auc"] == pytest.approx(first["metrics"]["auc"], abs=1e-12)
    assert better["metrics"]["auc"] - first["metrics"]["auc"] > 0.05
    run_ = client.get_run(better["mlflow_run_id"])
    assert run_.data.metrics["production_auc"] == pytest.approx(first["metrics"]["auc"])
    assert run_.data.metrics["auc_improvement"] == pytest.approx(better["metrics"]["auc"] - first["metrics"]["auc"])


def test_a_worse_model_is_registered_without_the_alias(history, client):
    worse = history[2]
    assert worse["promoted"] is False and worse["registered"] is True and worse["model_version"] == "3"
    assert worse["decision"]["outcome"] == "not_promoted" and worse["decision"]["auc_improvement"] < 0
    run_ = client.get_run(worse["mlflow_run_id"])
    assert run_.info.status == "FINISHED"  # losing is a result, not a failure
    assert run_.data.tags["promotion.decision"] == "not_promoted"
    assert "does not beat production by the margin" in run_.data.tags["promotion.reason"]
    version = client.get_model_version("gate-life", "3")
    assert version.tags["promotion.decision"] == "not_promoted" and version.aliases == []
    assert version.tags["promotion.production_version"] == "2"


def test_an_identical_model_does_not_move_the_alias(history, client):
    same = history[3]
    assert same["model_sha256"] == history[1]["model_sha256"] and same["decision"]["auc_improvement"] == 0
    assert same["promoted"] is False and holder(client, "gate-life") == "2"


def test_the_margin_is_respected(published, store, client, history):
    gain = history[1]["metrics"]["auc"] - history[0]["metrics"]["auc"]
    train(published, store, "gate-margin", **WEAK)
    short = train(published, store, "gate-margin", promotion_margin=round(gain + 0.005, 6))
    assert short["promoted"] is False and holder(client, "gate-margin") == "1"
    assert f"margin {gain + 0.005:.4f}" in short["decision"]["reason"]
    enough = train(published, store, "gate-margin", promotion_margin=round(gain - 0.005, 6))
    assert enough["promoted"] is True and holder(client, "gate-margin") == enough["model_version"] == "3"


def test_the_alias_name_comes_from_the_config(published, store, client):
    result = train(published, store, "gate-alias", promotion_alias="champion")
    assert result["promoted"] and holder(client, "gate-alias", "champion") == "1"
    assert {k: str(v) for k, v in client.get_registered_model("gate-alias").aliases.items()} == {"champion": "1"}


def test_a_production_model_that_cannot_score_the_new_data_is_replaced(publish, frames, store, client):
    train(publish(*frames), store, "gate-contract")
    dropped = [f.drop(columns=["ps_calc_01", "ps_calc_02"]) for f in frames]  # e.g. the contract drops ps_calc_*
    result = train(publish(*dropped), store, "gate-contract")
    assert result["promoted"] is True and holder(client, "gate-contract") == "2"
    assert result["decision"]["production_auc"] is None
    assert "production version 1 cannot score this test data" in result["decision"]["reason"]
    assert "ps_calc_01" in result["decision"]["reason"]


def test_below_the_floor_records_both_scores_and_registers_nothing(published, store, client, history):
    with pytest.raises(QualityGateError, match="below the gate min_auc=0.9900"):
        train(published, store, "gate-life", min_auc=0.99, experiment="gate-floor")
    (failed,) = client.search_runs([client.get_experiment_by_name("gate-floor").experiment_id])
    assert failed.info.status == "FAILED" and failed.data.tags["promotion.decision"] == "rejected"
    assert failed.data.metrics["production_auc"] == pytest.approx(history[1]["metrics"]["auc"])
    assert len(client.search_model_versions("name = 'gate-life'")) == 4 and holder(client, "gate-life") == "2"


def test_an_alias_moved_by_a_concurrent_job_is_compared_again_before_promoting(published, store, client, monkeypatch):
    from training import register

    train(published, store, "gate-race", **WEAK)                       # v1, production
    train(published, store, "gate-race", promotion_margin=0.9)         # v2: strong, registered without the alias
    real = register.log_and_register_model

    def while_registering(**kwargs):  # another job promotes v2 between our comparison and our alias move
        registration = real(**kwargs)
        client.set_registered_model_alias("gate-race", "production", "2")
        return registration

    monkeypatch.setattr(register, "log_and_register_model", while_registering)
    result = train(published, store, "gate-race")                      # v3: identical to v2
    assert result["promoted"] is False and holder(client, "gate-race") == "2"
    assert result["decision"]["production_version"] == "2" and result["decision"]["auc_improvement"] == 0
    assert client.get_model_version("gate-race", "3").tags["promotion.decision"] == "not_promoted"
    assert client.get_run(result["mlflow_run_id"]).data.tags["promotion.production_version"] == "2"


def test_a_production_model_that_cannot_be_loaded_fails_the_run_instead_of_being_replaced(published, store, client,
                                                                                       tmp_path):
    from training import TrainingError

    client.create_registered_model("gate-broken")
    client.create_model_version("gate-broken", source=(tmp_path / "gone").as_uri())
    client.set_registered_model_alias("gate-broken", "production", "1")
    with pytest.raises(TrainingError, match=r"production model models:/gate-broken/1 \(alias 'production'\) cannot "
                                            r"be loaded .*move the alias to a loadable version"):
        train(published, store, "gate-broken")
    assert len(client.search_model_versions("name = 'gate-broken'")) == 1 and holder(client, "gate-broken") == "1"
