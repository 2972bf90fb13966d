"""`make deploy ENV=qa` at the HTTP boundary: the real SDKs (azure-mgmt-datafactory, azure-mgmt-resource-
deployments, databricks-sdk, azure-ai-ml) against the loopback fake of ARM, Databricks and Azure ML."""
from __future__ import annotations

import logging
import re

import pytest

from azure_deploy import cli
from azure_deploy.deploy import deploy
from azure_deploy.errors import StateError, StepFailed
from azure_deploy.plan import DeployTemplate
from azure_deploy.source import load_source
from tests.azure.conftest import CLIENT_SECRET, TOKEN

FACTORY = "adf-porto-qa"


def deployed(fake, target, started=("InputCsvCreated",)):
    """The factory as the current source deploys it, with the given triggers running."""
    fake.add_factory(FACTORY)
    for (folder, name), body in load_source(target).objects.items():
        fake.put_object(FACTORY, folder, name, body["properties"], "Started" if name in started else "Stopped")


def index(calls: list[str], pattern: str) -> int:
    found = [i for i, call in enumerate(calls) if re.search(pattern, call, re.I)]
    assert found, f"no request matches {pattern!r} in:\n" + "\n".join(calls)
    return found[0]


def test_deploy_stops_changed_triggers_first_deletes_in_order_after_and_starts_last(fake, target, credential,
                                                                                     publisher):
    deployed(fake, target)
    trigger = dict(fake.objects[(FACTORY, "trigger", "InputCsvCreated")])
    fake.objects[(FACTORY, "trigger", "InputCsvCreated")] = {**trigger, "typeProperties": {
        **trigger["typeProperties"], "blobPathEndsWith": ".txt"}}  # deployed differs from the source
    # Objects the source no longer has, one per folder, with a pipeline that calls another.
    fake.put_object(FACTORY, "trigger", "OldTrigger", {"type": "ScheduleTrigger", "typeProperties": {
        "recurrence": {"frequency": "Day", "interval": 1}}, "pipelines": []}, "Started")
    fake.put_object(FACTORY, "pipeline", "OldChild", {"activities": []})
    fake.put_object(FACTORY, "pipeline", "OldParent", {"activities": [{
        "name": "CallChild", "type": "ExecutePipeline", "typeProperties": {
            "pipeline": {"referenceName": "OldChild", "type": "PipelineReference"}, "waitOnCompletion": True}}]})
    fake.put_object(FACTORY, "dataset", "OldDataset", {"type": "Json", "linkedServiceName": {
        "referenceName": "OldVault", "type": "LinkedServiceReference"}})
    fake.put_object(FACTORY, "linkedService", "OldVault", {"type": "AzureKeyVault", "typeProperties": {
        "baseUrl": "https://kv.vault.azure.net/"}})
    fake.put_object(FACTORY, "linkedService", "OldBlob", {"type": "AzureBlobStorage", "typeProperties": {
        "serviceEndpoint": "https://old.blob.core.windows.net"}})

    deploy(target, credential, publisher=publisher, revision="abc12345", say=lambda line: None)

    calls = fake.changes()
    assert [c.split(" ")[0] + " " + c.split("/factories/adf-porto-qa/")[-1] for c in calls if "DataFactory" in c] == [
        "POST triggers/InputCsvCreated/stop",
        "POST triggers/InputCsvCreated/unsubscribeFromEvents",
        "POST triggers/OldTrigger/stop",
        "DELETE triggers/OldTrigger",
        "DELETE pipelines/OldParent",   # callers before the pipelines they call
        "DELETE pipelines/OldChild",
        "DELETE datasets/OldDataset",
        "DELETE linkedservices/OldBlob",
        "DELETE linkedservices/OldVault",  # Key Vault last
        "POST triggers/InputCsvCreated/subscribeToEvents",
        "POST triggers/InputCsvCreated/start",
    ]
    everything = fake.calls()
    arm = index(everything, r"PUT .*/Microsoft.Resources/deployments/adf-porto-qa-abc12345$")
    unsubscribe = index(everything, r"unsubscribeFromEvents$")
    # the blob trigger's subscription is polled until Disabled before the template goes in
    polls = [i for i, c in enumerate(everything) if c.endswith("getEventSubscriptionStatus")]
    assert unsubscribe < polls[0] < polls[1] < arm
    assert index(everything, r"DELETE .*/triggers/OldTrigger") > arm
    assert index(everything, r"POST /api/2.0/workspace/import") > index(everything, r"DELETE .*/linkedservices/OldVault")
    assert index(everything, r"PUT .*/batchEndpoints/porto-training-qa/deployments/") > arm
    assert index(everything, r"triggers/InputCsvCreated/start$") > index(everything, r"PUT .*/batchEndpoints/porto-training-qa$")
    # the end state: what the source says, running
    assert fake.trigger_state[(FACTORY, "InputCsvCreated")] == "Started"
    assert not any(name.startswith("Old") for _, _, name in fake.objects)
    body = fake.requests[arm].json()
    assert body["properties"]["mode"] == "Incremental"
    assert body["properties"]["parameters"]["factoryName"] == {"value": FACTORY}


def test_a_new_environment_gets_everything_and_the_endpoint_default(fake, target, credential, publisher):
    fake.add_factory(FACTORY)
    deploy(target, credential, publisher=publisher, revision="abc12345", say=lambda line: None)

    release = publisher.registered[0]
    assert (release.component, release.version) in fake.components
    assert fake.workspace["/Shared/porto-seguro/data_prepare"] == (target.notebooks_dir / "data_prepare.py").read_bytes()
    imported = next(r for r in fake.requests if r.path.endswith("/workspace/import")).json()
    assert {k: imported[k] for k in ("format", "language", "overwrite")} == {
        "format": "SOURCE", "language": "PYTHON", "overwrite": True}
    endpoint = fake.endpoints["porto-training-qa"]
    assert endpoint["properties"]["defaults"]["deploymentName"] == release.deployment
    deployment = fake.ml_deployments[("porto-training-qa", release.deployment)]
    config = deployment["properties"]["deploymentConfiguration"]
    assert config["deploymentConfigurationType"] == "PipelineComponent"
    assert config["componentId"]["assetId"].endswith(f"/components/{release.component}/versions/{release.version}")
    assert config["settings"]["default_compute"] == target.training_compute == "cpu-porto-qa"  # Terraform's cluster
    assert not [r for r in fake.requests if "/computes/" in r.path and r.method != "GET"]  # read, never created
    assert fake.trigger_state[(FACTORY, "InputCsvCreated")] == "Started"
    stop_calls = [c for c in fake.changes() if c.endswith("/stop")]
    assert stop_calls == []  # nothing was running


def test_second_deploy_changes_nothing_and_sends_the_same_deployment(fake, target, credential, publisher):
    fake.add_factory(FACTORY)
    deploy(target, credential, publisher=publisher, revision="abc12345", say=lambda line: None)
    first = next(r for r in fake.requests if "Microsoft.Resources/deployments" in r.path and r.method == "PUT")
    fake.clear()
    lines: list[str] = []
    plan = deploy(target, credential, publisher=publisher, revision="abc12345", say=lines.append)

    assert [type(step) for step in plan.steps] == [DeployTemplate]
    assert fake.changes() == [f"PUT {first.path}"]
    second = next(r for r in fake.requests if r.method == "PUT")
    assert second.json() == first.json()
    assert len(publisher.registered) == 1
    assert "  unchanged: trigger InputCsvCreated" in lines[0]


def test_a_running_trigger_whose_pipeline_changed_keeps_running(fake, target, credential, publisher):
    deployed(fake, target)
    pipeline = fake.objects[(FACTORY, "pipeline", "PrepareAndTrain")]
    fake.objects[(FACTORY, "pipeline", "PrepareAndTrain")] = {**pipeline, "description": "older"}
    deploy(target, credential, publisher=publisher, revision="abc12345", say=lambda line: None)
    assert not [c for c in fake.changes() if "/triggers/" in c]
    assert fake.objects[(FACTORY, "pipeline", "PrepareAndTrain")]["description"] != "older"


def test_a_failed_step_stops_the_sequence_and_names_it(fake, target, credential, publisher):
    deployed(fake, target)
    trigger = fake.objects[(FACTORY, "trigger", "InputCsvCreated")]
    fake.objects[(FACTORY, "trigger", "InputCsvCreated")] = {**trigger, "annotations": ["old"]}
    fake.fail("PUT", r"/Microsoft\.Resources/deployments/", status=409, code="DeploymentActive")
    with pytest.raises(StepFailed, match=r"step 2/\d+ failed: deploy ARM template as deployment "
                                         r"adf-porto-qa-abc12345 .*DeploymentActive|step 2/\d+ failed: deploy ARM") as err:
        deploy(target, credential, publisher=publisher, revision="abc12345", say=lambda line: None)
    assert isinstance(err.value.remaining[0], DeployTemplate)
    assert [str(s) for s in err.value.remaining][-1].startswith("subscribe trigger InputCsvCreated")
    after = fake.changes()[index(fake.changes(), r"PUT .*/deployments/"):]
    assert len(after) == 1  # nothing after the failed deployment: no delete, no upload, no start
    assert fake.trigger_state[(FACTORY, "InputCsvCreated")] == "Stopped"


def test_the_cli_prints_the_failed_step_and_the_remaining_plan(fake, target, credential, monkeypatch, capsys):
    fake.add_factory(FACTORY)
    use_fake_through_cli(monkeypatch, fake, credential)
    fake.fail("POST", r"/api/2\.0/workspace/import", status=500, code="INTERNAL_ERROR")
    assert cli.main(["deploy", "--env", "qa"]) == 1
    err = capsys.readouterr().err
    assert re.search(r"deploy failed at step 2/\d+: import notebook data_prepare.py to Databricks "
                     r"/Shared/porto-seguro/data_prepare", err)
    remaining = err.split("remaining plan", 1)[1]
    assert re.search(r"\n  2\. import notebook .*\n  3\. register Azure ML pipeline component", remaining)
    assert "start trigger InputCsvCreated" in remaining
    assert not [c for c in fake.changes() if "/start" in c]


def test_a_state_read_failure_changes_nothing_and_prints_the_plan(fake, target, credential, publisher):
    fake.add_factory(FACTORY)
    fake.fail("GET", r"/factories/adf-porto-qa/datasets$", status=500)
    lines: list[str] = []
    with pytest.raises(StateError, match="read the factory's current state failed"):
        deploy(target, credential, publisher=publisher, revision="abc12345", say=lines.append)
    assert fake.changes() == []
    assert "deploy ARM template as deployment adf-porto-qa-abc12345" in lines[0]


def test_a_missing_factory_says_to_run_terraform(fake, target, credential, publisher):
    with pytest.raises(StateError, match=r"(?s)factory adf-porto-qa does not exist .*terraform"):
        deploy(target, credential, publisher=publisher, revision="abc12345", say=lambda line: None)


def test_a_missing_compute_cluster_stops_the_deploy_before_any_change(fake, target, credential, publisher):
    fake.add_factory(FACTORY)
    del fake.computes["cpu-porto-qa"]  # Terraform not applied since the cluster moved into it
    lines: list[str] = []
    with pytest.raises(StateError, match=r"(?s)compute cluster cpu-porto-qa \(environments\.qa\.azure_ml\.training_compute\)"
                                         r" does not exist in Azure ML workspace mlw-porto-qa\n  fix: Terraform owns the "
                                         r"training cluster: `terraform -chdir=terraform/environments/qa apply`, then "
                                         r"`make infra-outputs ENV=qa`.*the deployer does not create it"):
        deploy(target, credential, publisher=publisher, revision="abc12345", say=lines.append)
    assert fake.changes() == []
    assert publisher.registered == []
    assert "register Azure ML pipeline component" in lines[0]  # the plan against an unknown state is still shown


def test_a_compute_of_another_kind_under_the_clusters_name_is_refused(fake, target, credential, publisher):
    fake.add_factory(FACTORY)
    fake.computes["cpu-porto-qa"] = "ComputeInstance"  # someone's workstation under that name
    with pytest.raises(StateError, match=r"compute cpu-porto-qa in Azure ML workspace mlw-porto-qa is of type "
                                         r"computeinstance, not a compute cluster \(AmlCompute\)"):
        deploy(target, credential, publisher=publisher, revision="abc12345", say=lambda line: None)
    assert fake.changes() == []


def test_another_compute_cluster_publishes_another_deployment(target):
    from dataclasses import replace

    from azure_deploy.azureml import training_release
    from azure_deploy.deploy import training_pipeline

    pipeline = training_pipeline(load_source(target))
    here, other = training_release(target, pipeline), training_release(replace(target, training_compute="cpu-big"), pipeline)
    assert (here.compute, other.compute) == ("cpu-porto-qa", "cpu-big")
    assert here.deployment != other.deployment  # the default compute is part of what a deployment is


def use_fake_through_cli(monkeypatch, fake, credential):
    monkeypatch.setenv("AZURE_DEPLOY_ARM_URL", fake.base_url)
    monkeypatch.setenv("AZURE_DEPLOY_DATABRICKS_HOST", fake.base_url)
    monkeypatch.setenv("AZURE_DEPLOY_AZUREML_URL", fake.base_url)
    monkeypatch.setenv("AZURE_DEPLOY_POLL_SECONDS", "0")
    monkeypatch.setattr("azure_deploy.clients.default_credential", lambda: credential)
    # Component registration uploads code to blob storage: mark it registered instead (see conftest).
    monkeypatch.setattr("azure_deploy.azureml.AzureMLPublisher.register_component",
                        lambda self, release: fake.components.add((release.component, release.version)))


def test_dry_run_without_credentials_sends_no_request(fake, monkeypatch, capsys):
    monkeypatch.delenv("AZURE_CLIENT_SECRET")
    monkeypatch.setenv("AZURE_DEPLOY_ARM_URL", fake.base_url)
    monkeypatch.setenv("AZURE_DEPLOY_DATABRICKS_HOST", fake.base_url)
    monkeypatch.setenv("AZURE_DEPLOY_AZUREML_URL", fake.base_url)
    assert cli.main(["deploy", "--env", "qa", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert fake.requests == []
    assert "planning against an unknown current state" in out
    for expected in ("stop trigger InputCsvCreated", "deploy ARM template", "import notebook data_prepare.py",
                     "register Azure ML pipeline component", "create batch endpoint porto-training-qa",
                     "start trigger InputCsvCreated", "dry run: nothing was changed"):
        assert expected in out


def test_dry_run_with_credentials_only_reads(fake, credential, monkeypatch, capsys):
    fake.add_factory(FACTORY)
    use_fake_through_cli(monkeypatch, fake, credential)
    assert cli.main(["deploy", "--env", "qa", "--dry-run"]) == 0
    assert fake.requests and fake.changes() == []
    assert "start trigger InputCsvCreated: new" in capsys.readouterr().out


def test_no_secret_in_any_request_or_log(fake, credential, monkeypatch, capsys, caplog):
    fake.add_factory(FACTORY)
    use_fake_through_cli(monkeypatch, fake, credential)
    caplog.set_level(logging.DEBUG)
    assert cli.main(["deploy", "--env", "qa"]) == 0
    captured = capsys.readouterr()
    logs = caplog.text + captured.out + captured.err
    assert fake.requests
    for request in fake.requests:
        where = f"{request.method} {request.url}"
        for secret in (TOKEN, CLIENT_SECRET):
            assert secret not in request.url and secret not in request.body, where
            assert all(secret not in value for key, value in request.headers.items()
                       if key.lower() != "authorization"), where
        assert not re.search(r"[?&]sig=", request.url + request.body), where
        if "/fake/operations/" not in request.path:
            assert request.headers.get("Authorization") == f"Bearer {TOKEN}" or \
                request.path == "/.well-known/databricks-config", where
    assert TOKEN not in logs and CLIENT_SECRET not in logs


def test_an_endpoint_that_scores_elsewhere_than_the_factory_posts_fails_its_step(fake, target, credential):
    from dataclasses import replace

    from tests.azure.conftest import RecordingPublisher

    fake.add_factory(FACTORY)
    target = replace(target, training_endpoint_uri="https://porto-training-qa.northeurope.inference.ml.azure.com/jobs")
    publisher = RecordingPublisher(target, credential, fake)
    with pytest.raises(StepFailed, match=r"create batch endpoint porto-training-qa .* scores at "
                                         r"'https://porto-training-qa\.westeurope\.inference\.ml\.azure\.com/jobs'"):
        deploy(target, credential, publisher=publisher, revision="abc12345", say=lambda line: None)
    assert not [c for c in fake.changes() if "/batchEndpoints/porto-training-qa/deployments/" in c]
