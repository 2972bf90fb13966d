"""Training parameters: one frozen dataclass, read from the config file the generator renders from the spec's
``training:`` section (generated/azureml/training-config.json), logged to MLflow as the run's params."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from training.errors import ConfigError

DEFAULT_MODEL_NAME = "porto-seguro-safe-driver"
DEFAULT_EXPERIMENT = "porto-seguro-training"

# Keys the code sets itself so that training is reproducible; a config that sets them (or an alias LightGBM
# would read instead) is refused rather than silently overridden.
RESERVED_LIGHTGBM_KEYS = frozenset({
    "seed", "random_seed", "random_state", "deterministic", "force_row_wise", "force_col_wise",
    "num_threads", "num_thread", "nthread", "nthreads", "n_jobs", "verbose", "verbosity",
    "num_iterations", "num_iteration", "n_iter", "num_tree", "num_trees", "num_round", "num_rounds",
    "num_boost_round", "n_estimators", "max_iter", "early_stopping_round", "early_stopping_rounds",
    "early_stopping", "n_iter_no_change",
})


def _baseline_lightgbm() -> dict[str, Any]:
    return {"objective": "binary", "metric": "auc", "learning_rate": 0.05, "num_leaves": 31}


_NUMBER = (int, float)
_TYPES: dict[str, type | tuple[type, ...]] = {
    "model_name": str, "experiment": str, "promotion_alias": str, "seed": int, "num_threads": int,
    "num_boost_round": int, "early_stopping_rounds": int, "validation_fraction": _NUMBER, "min_auc": _NUMBER,
    "promotion_margin": _NUMBER,
}


@dataclass(frozen=True)
class TrainingConfig:
    """Model, early stopping and gate settings. Defaults are the project's baseline model (and the spec's values).

    Early stopping watches a validation split carved from the *training* output only (stratified, seeded):
    the test output stays untouched until the final evaluation.
    """

    model_name: str = DEFAULT_MODEL_NAME
    experiment: str = DEFAULT_EXPERIMENT
    lightgbm: Mapping[str, Any] = field(default_factory=_baseline_lightgbm)  # free LightGBM params
    seed: int = 42
    num_threads: int = 2  # fixed: LightGBM's result depends on the thread count even in deterministic mode
    num_boost_round: int = 400
    early_stopping_rounds: int = 50
    validation_fraction: float = 0.1
    # The floor: a candidate below it fails the run and is not registered. Higher AUC is better.
    min_auc: float = 0.55
    # Promotion: the candidate takes `promotion_alias` only if its test AUC beats the aliased model's AUC on
    # the same test data by at least `promotion_margin` (and strictly).
    promotion_alias: str = "production"
    promotion_margin: float = 0.001

    def __post_init__(self) -> None:
        for f in fields(self):
            kind = _TYPES.get(f.name)
            value = getattr(self, f.name)
            if kind and (not isinstance(value, kind) or isinstance(value, bool)):
                raise ConfigError(f"{f.name} must be {getattr(kind, '__name__', 'a number')}, got {value!r}")
        if not isinstance(self.lightgbm, Mapping):
            raise ConfigError(f"lightgbm must be a mapping of LightGBM parameters, got {self.lightgbm!r}")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ConfigError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")
        if not 0.0 <= self.min_auc <= 1.0:
            raise ConfigError(f"min_auc must be in [0, 1], got {self.min_auc}")
        if not 0.0 <= self.promotion_margin < 1.0:
            raise ConfigError(f"promotion_margin must be in [0, 1), got {self.promotion_margin}")
        if self.num_boost_round < 1 or self.early_stopping_rounds < 1 or self.num_threads < 1:
            raise ConfigError("num_boost_round, early_stopping_rounds and num_threads must be >= 1")
        if not self.model_name or not self.promotion_alias or not self.experiment:
            raise ConfigError("model_name, experiment and promotion_alias must not be empty")
        reserved = sorted(RESERVED_LIGHTGBM_KEYS & set(self.lightgbm))
        if reserved:
            raise ConfigError(f"lightgbm: {reserved} are set by the training code (seed, threads, rounds and "
                              f"early stopping have their own keys); remove them from lightgbm")
        bad = [k for k, v in self.lightgbm.items() if not isinstance(v, (str, int, float, bool))]
        if bad:
            raise ConfigError(f"lightgbm: values must be numbers, strings or booleans; not for {bad}")

    def lightgbm_params(self) -> dict[str, Any]:
        """The parameter dict handed to ``lightgbm.train`` (rounds and early stopping go separately)."""
        return {
            **self.lightgbm,
            # Reproducible: same data + same config -> the same model bytes, on any machine with this LightGBM.
            "seed": self.seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.num_threads,
            "verbose": -1,
        }

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "lightgbm": dict(self.lightgbm)}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any], *, source: str = "config") -> TrainingConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(doc) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {unknown}; known keys: {sorted(known)}")
        try:
            return cls(**doc)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        except TypeError as exc:
            raise ConfigError(f"{source}: {exc}") from None


def load_config(path: str | Path) -> TrainingConfig:
    """Read a training config JSON (as generated from the spec); every error names the file."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: training config not found; run `make generate` (it renders "
                          f"generated/azureml/training-config.json from the spec's training: section)") from None
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a JSON object, found {type(doc).__name__}")
    return TrainingConfig.from_dict(doc, source=str(path))
