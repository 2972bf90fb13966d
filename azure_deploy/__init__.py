"""Deploy the generated factory, its notebooks and the training endpoint to an Azure environment (dev, qa,
prod): plan, then apply. Facade; the work is in the modules below.

  target.py    the environment's coordinates from the spec; endpoint overrides
  source.py    generated/arm resolved into factory objects; the notebooks the pipelines run
  clients.py   SDK client construction (credentials, base URLs, polling)
  factory.py   azure-mgmt-datafactory: state, triggers (and their event subscriptions), deletes, runs
  arm.py       azure-mgmt-resource-deployments: the incremental template deployment
  databricks.py  databricks-sdk: notebook import
  azureml.py   azure-ai-ml: pipeline component on a batch endpoint
  plan.py      the plan as data; steps.py applies it; deploy.py ties them together
  runs.py      smoke runs and finding a run's manifest
"""
from azure_deploy.deploy import deploy, plan_deploy
from azure_deploy.errors import AzureDeployError, ConfigError, RunFailed, StateError, StepFailed
from azure_deploy.plan import Plan
from azure_deploy.target import Endpoints, Target, load_target

__all__ = ["AzureDeployError", "ConfigError", "Endpoints", "Plan", "RunFailed", "StateError", "StepFailed", "Target",
           "deploy", "load_target", "plan_deploy"]
