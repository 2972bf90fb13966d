"""Train, evaluate and register the Porto Seguro model from a data-prep lineage manifest."""
from training.config import DEFAULT_EXPERIMENT, DEFAULT_MODEL_NAME, TrainingConfig, load_config
from training.errors import ConfigError, DataError, IntegrityError, ManifestError, QualityGateError, TrainingError
from training.pipeline import run

__all__ = [
    "DEFAULT_EXPERIMENT",
    "DEFAULT_MODEL_NAME",
    "ConfigError",
    "DataError",
    "IntegrityError",
    "ManifestError",
    "QualityGateError",
    "TrainingConfig",
    "TrainingError",
    "load_config",
    "run",
]
