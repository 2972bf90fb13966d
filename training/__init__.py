"""Train, evaluate and register the Porto Seguro model from a data-prep lineage manifest."""
from training.config import TrainingConfig
from training.errors import DataError, IntegrityError, ManifestError, QualityGateError, TrainingError
from training.pipeline import DEFAULT_EXPERIMENT, DEFAULT_MODEL_NAME, run

__all__ = [
    "DEFAULT_EXPERIMENT",
    "DEFAULT_MODEL_NAME",
    "DataError",
    "IntegrityError",
    "ManifestError",
    "QualityGateError",
    "TrainingConfig",
    "TrainingError",
    "run",
]
