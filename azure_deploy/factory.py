"""The factory's side of a deploy, through azure-mgmt-datafactory: read what is deployed, stop and start
triggers (with their Event Grid subscriptions), delete objects. Also the run API the smoke test uses."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.datafactory import DataFactoryManagementClient, models

from azure_deploy.clients import mgmt_kwargs
from azure_deploy.errors import StateError
from azure_deploy.source import ObjectKey
from azure_deploy.target import Target

# folder -> (SDK resource model, operations attribute)
RESOURCES: dict[str, tuple[type, str]] = {
    "trigger": (models.TriggerResource, "triggers"),
    "pipeline": (models.PipelineResource, "pipelines"),
    "dataflow": (models.DataFlowResource, "data_flows"),
    "dataset": (models.DatasetResource, "datasets"),
    "linkedService": (models.LinkedServiceResource, "linked_services"),
    "integrationRuntime": (models.IntegrationRuntimeResource, "integration_runtimes"),
}
BUILT_IN = {("integrationRuntime", "AutoResolveIntegrationRuntime")}  # every factory has it; never deleted
UNSUBSCRIBED = {"Disabled", "Unprovisioned"}
SUBSCRIBED = {"Enabled"}


def normalize(folder: str, body: dict) -> dict:
    """A body as the SDK model serializes it, so what ADF returns and what the template deploys compare
    field by field (ids, etags and defaults aside)."""
    model_cls, _ = RESOURCES[folder]
    model = model_cls.deserialize({"name": body.get("name"), "properties": body["properties"]})
    data = model.serialize(keep_readonly=True)
    return {"name": body.get("name"), "properties": data.get("properties", {})}


@dataclass
class FactoryState:
    """What is deployed now: every object by (folder, name), and the triggers that are Started."""
    objects: dict[ObjectKey, dict] = field(default_factory=dict)
    started: set[str] = field(default_factory=set)


class FactoryOps:
    def __init__(self, target: Target, credential: TokenCredential,
                 sleep: Callable[[float], None] = time.sleep, poll_seconds: float = 5, timeout: float = 600):
        if target.endpoints.polling_interval is not None:
            poll_seconds = target.endpoints.polling_interval
        self.target, self.sleep, self.poll_seconds, self.timeout = target, sleep, poll_seconds, timeout
        self.client = DataFactoryManagementClient(credential, target.subscription_id,
                                                  **mgmt_kwargs(credential, target.endpoints))
        self.rg, self.factory = target.resource_group, target.factory_name

    # --- state ----------------------------------------------------------------------------------------
    def read_state(self) -> FactoryState:
        try:
            self.client.factories.get(self.rg, self.factory)
        except ResourceNotFoundError:
            raise StateError(f"factory {self.factory} does not exist in resource group {self.rg} "
                             f"(subscription {self.target.subscription_id})\n  fix: `terraform -chdir=terraform/"
                             f"environments/{self.target.env} apply` creates it; then `make infra-outputs "
                             f"ENV={self.target.env}`") from None
        state = FactoryState()
        for folder, (_, attribute) in RESOURCES.items():
            for resource in getattr(self.client, attribute).list_by_factory(self.rg, self.factory):
                if (folder, resource.name) in BUILT_IN:
                    continue
                data = resource.serialize(keep_readonly=True)
                state.objects[(folder, resource.name)] = normalize(
                    folder, {"name": resource.name, "properties": data.get("properties", {})})
                if folder == "trigger" and resource.properties.runtime_state == "Started":
                    state.started.add(resource.name)
        return state

    # --- triggers -------------------------------------------------------------------------------------
    def stop_trigger(self, name: str, blob_events: bool) -> None:
        self.client.triggers.begin_stop(self.rg, self.factory, name).result()
        if blob_events:
            self.client.triggers.begin_unsubscribe_from_events(self.rg, self.factory, name).result()
            self._wait_subscription(name, UNSUBSCRIBED)

    def start_trigger(self, name: str, blob_events: bool) -> None:
        if blob_events:
            self.client.triggers.begin_subscribe_to_events(self.rg, self.factory, name).result()
            self._wait_subscription(name, SUBSCRIBED)
        self.client.triggers.begin_start(self.rg, self.factory, name).result()

    def _wait_subscription(self, name: str, wanted: set[str]) -> None:
        deadline = time.monotonic() + self.timeout
        while True:
            status = self.client.triggers.get_event_subscription_status(self.rg, self.factory, name).status
            if status in wanted:
                return
            if time.monotonic() > deadline:
                raise StateError(f"trigger {name}: its Event Grid subscription is still {status} after "
                                 f"{self.timeout:.0f}s (waiting for {' or '.join(sorted(wanted))})\n  fix: check "
                                 "that Microsoft.EventGrid is registered in the subscription, then deploy again")
            self.sleep(self.poll_seconds)

    # --- objects --------------------------------------------------------------------------------------
    def delete(self, folder: str, name: str) -> None:
        _, attribute = RESOURCES[folder]
        getattr(self.client, attribute).delete(self.rg, self.factory, name)

    # --- runs (smoke) ---------------------------------------------------------------------------------
    def create_run(self, pipeline: str, parameters: dict[str, Any]) -> str:
        return self.client.pipelines.create_run(self.rg, self.factory, pipeline, parameters=parameters).run_id

    def get_run(self, run_id: str) -> models.PipelineRun:
        return self.client.pipeline_runs.get(self.rg, self.factory, run_id)

    def activity_runs(self, run: models.PipelineRun) -> list[models.ActivityRun]:
        from datetime import datetime, timedelta

        start = run.run_start or datetime.now(UTC) - timedelta(days=1)
        end = run.run_end or datetime.now(UTC) + timedelta(minutes=5)
        filters = models.RunFilterParameters(last_updated_after=start - timedelta(minutes=5),
                                             last_updated_before=end + timedelta(minutes=5))
        result, runs = None, []
        while True:
            filters.continuation_token = result.continuation_token if result else None
            result = self.client.activity_runs.query_by_pipeline_run(self.rg, self.factory, run.run_id, filters)
            runs += result.value
            if not result.continuation_token:
                return runs

    def latest_run(self, pipeline: str, status: str = "Succeeded", days: int = 30) -> models.PipelineRun | None:
        from datetime import datetime, timedelta

        now = datetime.now(UTC)
        filters = models.RunFilterParameters(
            last_updated_after=now - timedelta(days=days), last_updated_before=now + timedelta(minutes=5),
            filters=[models.RunQueryFilter(operand="PipelineName", operator="Equals", values=[pipeline]),
                     models.RunQueryFilter(operand="Status", operator="Equals", values=[status])],
            order_by=[models.RunQueryOrderBy(order_by="RunEnd", order="DESC")])
        runs = self.client.pipeline_runs.query_by_factory(self.rg, self.factory, filters).value
        return runs[0] if runs else None
