"""The pure parts of the evaluate-and-register gate and of the training config: decision rules, the config
file the generator renders from the spec, and the determinism keys the config may not override."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from training_builders import porto_frame, split

from generator.render import render_training_config
from generator.spec import load_spec
from training import ConfigError, TrainingConfig, load_config
from training.evaluate import score_other_model
from training.features import split_xy, validate_frame
from training.promotion import NOT_PROMOTED, PROMOTED, REJECTED, ProductionScore, decide
from training.train import train_model

GENERATED_CONFIG = Path(__file__).resolve().parents[2] / "generated" / "azureml" / "training-config.json"


def decision(candidate: float, production: float | None | ProductionScore, margin: float = 0.001,
             min_auc: float = 0.55):
    if isinstance(production, float):
        production = ProductionScore(version="3", auc=production)
    return decide(candidate, production, min_auc=min_auc, margin=margin, alias="production")


def test_the_first_model_is_promoted_when_no_model_holds_the_alias():
    d = decision(0.70, None)
    assert d.outcome == PROMOTED and d.promote and d.register
    assert "no model holds the alias 'production' yet" in d.reason
    assert d.metrics() == {"candidate_auc": 0.70} and "promotion.production_version" not in d.tags()


def test_higher_auc_wins_lower_loses():
    better, worse = decision(0.72, 0.70), decision(0.68, 0.70)
    assert better.outcome == PROMOTED and "beats production" in better.reason
    assert worse.outcome == NOT_PROMOTED and worse.register and not worse.promote
    assert "does not beat production by the margin; registered without the alias" in worse.reason
    assert worse.improvement == pytest.approx(-0.02)


@pytest.mark.parametrize(("candidate", "production", "margin", "outcome"), [
    (0.7100, 0.7000, 0.010, PROMOTED),       # exactly the margin
    (0.7099, 0.7000, 0.010, NOT_PROMOTED),   # just short of it
    (0.7010, 0.7000, 0.001, PROMOTED),       # 0.001 in floating point is 0.000999...; still the margin
    (0.7000, 0.7000, 0.0, NOT_PROMOTED),     # equal never churns the alias, even with margin 0
    (0.7001, 0.7000, 0.0, PROMOTED),
])
def test_the_margin_is_respected(candidate, production, margin, outcome):
    assert decision(candidate, production, margin=margin).outcome == outcome


def test_below_the_floor_is_rejected_even_against_a_worse_production():
    d = decision(0.54, 0.51)
    assert d.outcome == REJECTED and not d.register and "below the floor min_auc=0.5500" in d.reason


def test_a_production_model_that_cannot_score_the_data_is_replaced():
    d = decision(0.70, ProductionScore("4", None, "it needs feature(s) ['ps_calc_01'] that the data lacks"))
    assert d.outcome == PROMOTED and "production version 4 cannot score this test data" in d.reason
    assert "ps_calc_01" in d.reason and d.improvement is None


def test_the_decision_is_recorded_as_tags_metrics_and_output():
    d = decision(0.7200, 0.7000)
    assert d.tags() == {"promotion.decision": "promoted", "promotion.reason": d.reason,
                        "promotion.alias": "production", "promotion.margin": "0.001",
                        "promotion.production_version": "3"}
    assert d.metrics() == pytest.approx({"candidate_auc": 0.72, "production_auc": 0.70, "production_gini": 0.40,
                                         "auc_improvement": 0.02})
    out = d.as_dict()
    assert out["outcome"] == "promoted" and out["production_version"] == "3" and out["production_auc"] == 0.70
    json.dumps(out)  # goes into the job's output JSON


def test_score_other_model_uses_its_own_features_and_says_what_is_missing():
    train, test = split(porto_frame(1500, seed=5))
    x, y = split_xy(train)
    model = train_model(x.drop(columns=["ps_calc_01"]), y, TrainingConfig(num_boost_round=20))
    xt, yt = split_xy(test)
    auc, why = score_other_model(model.booster, xt, yt)  # an extra column in the data is fine
    assert 0.5 < auc <= 1 and why == ""
    auc, why = score_other_model(model.booster, xt.drop(columns=["ps_car_13", "ps_ind_03"]), yt)
    assert auc is None and why == "it needs feature(s) ['ps_ind_03', 'ps_car_13'] that the data lacks"


def test_categorical_codes_may_be_nulls_after_data_prep():
    frame = porto_frame(600, seed=3)
    frame["ps_car_01_cat"] = frame["ps_car_01_cat"].where(frame["ps_car_01_cat"] >= 0)  # -1 -> NaN, float
    assert frame["ps_car_01_cat"].dtype == "float64" and frame["ps_car_01_cat"].isna().any()
    validate_frame(frame, name="t")
    x, y = split_xy(frame)
    assert train_model(x, y, TrainingConfig(num_boost_round=5)).best_iteration >= 1


# --- the config ------------------------------------------------------------------------------------------

def test_the_generated_config_is_the_specs_training_section():
    spec = load_spec()
    assert json.loads(GENERATED_CONFIG.read_text()) == render_training_config(spec) == spec.data["training"]
    config = load_config(GENERATED_CONFIG)
    assert config.lightgbm == spec.data["training"]["lightgbm"]
    assert (config.model_name, config.promotion_alias, config.promotion_margin, config.min_auc) == (
        spec.data["training"]["model_name"], spec.data["training"]["promotion_alias"],
        spec.data["training"]["promotion_margin"], spec.data["training"]["min_auc"])


def test_determinism_is_not_configurable():
    params = TrainingConfig(seed=7, num_threads=3).lightgbm_params()
    assert {k: params[k] for k in ("seed", "deterministic", "force_row_wise", "num_threads", "verbose")} == \
        {"seed": 7, "deterministic": True, "force_row_wise": True, "num_threads": 3, "verbose": -1}
    with pytest.raises(ConfigError, match=r"lightgbm: \['n_jobs', 'seed'\] are set by the training code"):
        TrainingConfig(lightgbm={"objective": "binary", "seed": 1, "n_jobs": 4})


@pytest.mark.parametrize(("doc", "message"), [
    ({"learning_rate": 0.1}, r"unknown key\(s\) \['learning_rate'\]"),
    ({"seed": "42"}, "seed must be int, got '42'"),
    ({"min_auc": True}, "min_auc must be a number, got True"),
    ({"promotion_margin": -0.1}, r"promotion_margin must be in \[0, 1\)"),
    ({"validation_fraction": 0}, r"validation_fraction must be in \(0, 1\)"),
    ({"lightgbm": {"num_leaves": [31]}}, r"lightgbm: values must be numbers, strings or booleans; not for \['num_leaves'\]"),
])
def test_a_bad_config_file_names_the_file_and_the_key(tmp_path, doc, message):
    path = tmp_path / "training-config.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ConfigError, match=f"^{re.escape(str(path))}: {message}"):
        load_config(path)


def test_a_missing_config_file_says_how_to_make_it(tmp_path):
    with pytest.raises(ConfigError, match="training config not found; run `make generate`"):
        load_config(tmp_path / "nope.json")


def test_spec_schema_refuses_a_reserved_lightgbm_key(tmp_path):
    from generator.errors import SpecErrors
    from generator.spec import DEFAULT_SPEC

    text = DEFAULT_SPEC.read_text().replace("    num_leaves: 31\n", "    num_leaves: 31\n    deterministic: false\n", 1)
    assert "deterministic: false" in text
    (tmp_path / "factory.yaml").write_text(text)
    with pytest.raises(SpecErrors) as info:
        load_spec(tmp_path / "factory.yaml")
    assert [e.key for e in info.value.errors] == ["training.lightgbm"]


def test_the_validation_split_is_a_stratified_seeded_carve_of_the_training_rows():
    from training.train import carve_validation

    x, y = split_xy(split(porto_frame(1500, seed=9))[0])
    x_fit, x_val, y_fit, y_val = carve_validation(x, y, fraction=0.1, seed=42)
    assert set(x_val.index) | set(x_fit.index) == set(x.index) and not set(x_val.index) & set(x_fit.index)
    assert len(x_val) == round(0.1 * len(x)) and abs(y_val.mean() - y.mean()) < 0.01
    again = carve_validation(x, y, fraction=0.1, seed=42)[1]
    assert list(again.index) == list(x_val.index)
