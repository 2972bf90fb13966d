"""One root error for Azure deployment; every message says what was expected, what was found and how to fix it."""
from __future__ import annotations


class AzureDeployError(Exception):
    """Root of the Azure deployer's user-facing errors."""


class ConfigError(AzureDeployError):
    """The spec, the generated artifacts or the environment cannot be deployed as they are."""


class StateError(AzureDeployError):
    """The target's current state could not be read, or is not what a deploy can work from."""


class StepFailed(AzureDeployError):
    """A plan step failed. Carries the step, its position and the steps that did not run."""

    def __init__(self, index: int, total: int, step: object, cause: BaseException, remaining: list):
        self.index, self.total, self.step, self.cause, self.remaining = index, total, step, cause, remaining
        super().__init__(f"step {index}/{total} failed: {step}: {one_line(cause)}")


class RunFailed(AzureDeployError):
    """A pipeline run did not succeed (smoke) or its data failed a check (integration)."""


def one_line(exc: BaseException) -> str:
    """The first line of an exception, with its type: Azure errors append request ids, headers and bodies."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
