"""One root exception and a few domain subclasses; messages say what was expected, what was found, what to do."""
from __future__ import annotations


class TrainingError(Exception):
    """Root of every error the training pipeline raises on purpose."""


class ConfigError(TrainingError, ValueError):
    """The training config is malformed; the message names the file and the key."""


class ManifestError(TrainingError):
    """The lineage manifest is malformed or is not the one the caller asked for."""


class IntegrityError(TrainingError):
    """Bytes downloaded from storage do not hash to what the manifest promised."""


class DataError(TrainingError):
    """The train/test data do not have the shape training needs."""


class QualityGateError(TrainingError):
    """The trained model did not reach the quality gate, so it was not registered."""
