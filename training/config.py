"""Training parameters: one frozen dataclass, logged to MLflow as the run's params."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TrainingConfig:
    """LightGBM and gate settings. Defaults are the project's baseline model.

    Early stopping watches a validation split carved from the *training* output only (stratified, seeded):
    the test output stays untouched until the final evaluation.
    """

    objective: str = "binary"
    metric: str = "auc"
    learning_rate: float = 0.05
    num_leaves: int = 31
    num_boost_round: int = 400
    early_stopping_rounds: int = 50
    validation_fraction: float = 0.1
    seed: int = 42
    deterministic: bool = True
    force_row_wise: bool = True
    num_threads: int = 2
    verbose: int = -1
    # The quality gate: higher AUC is better. (The sample compared AUC as if lower were better.)
    min_auc: float = 0.55

    def __post_init__(self) -> None:
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")
        if not 0.0 <= self.min_auc <= 1.0:
            raise ValueError(f"min_auc must be in [0, 1], got {self.min_auc}")
        if self.num_boost_round < 1 or self.early_stopping_rounds < 1:
            raise ValueError("num_boost_round and early_stopping_rounds must be >= 1")

    def lightgbm_params(self) -> dict[str, Any]:
        """The parameter dict handed to ``lightgbm.train`` (rounds and early stopping go separately)."""
        return {
            "objective": self.objective,
            "metric": self.metric,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "seed": self.seed,
            "deterministic": self.deterministic,
            "force_row_wise": self.force_row_wise,
            "num_threads": self.num_threads,
            "verbose": self.verbose,
        }

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
