"""Test-set metrics and the quality gate (pure functions). Higher AUC is better."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import log_loss, roc_auc_score

from training.errors import QualityGateError


@dataclass(frozen=True)
class Metrics:
    auc: float
    gini: float
    logloss: float
    best_iteration: int
    test_rows: int
    test_positive_rate: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def normalized_gini(auc: float) -> float:
    """The competition metric: normalized Gini = 2 * AUC - 1."""
    return 2.0 * auc - 1.0


def evaluate(booster: lgb.Booster, x: pd.DataFrame, y: pd.Series, *, best_iteration: int) -> Metrics:
    scores = np.asarray(booster.predict(x), dtype="float64")
    auc = float(roc_auc_score(y, scores))
    return Metrics(
        auc=auc,
        gini=normalized_gini(auc),
        logloss=float(log_loss(y, scores, labels=[0, 1])),
        best_iteration=int(best_iteration),
        test_rows=int(len(y)),
        test_positive_rate=float(np.mean(y)),
    )


def score_other_model(booster: lgb.Booster, x: pd.DataFrame, y: pd.Series) -> tuple[float | None, str]:
    """(test AUC, "") of another model (production) on the candidate's test data, or (None, why) when that
    model needs features the data lacks. Its own feature list selects the columns, in its order."""
    needed = list(booster.feature_name())
    missing = [c for c in needed if c not in x.columns]
    if missing:
        return None, f"it needs feature(s) {missing[:5]}{' ...' if len(missing) > 5 else ''} that the data lacks"
    scores = np.asarray(booster.predict(x[needed]), dtype="float64")
    return float(roc_auc_score(y, scores)), ""


def passes_gate(auc: float, min_auc: float) -> bool:
    # Higher is better: a model passes when its AUC reaches the minimum.
    # (The sample's evaluate step compared AUC as if lower were better, so no good model could ever win.)
    return auc >= min_auc


def check_gate(metrics: Metrics, min_auc: float) -> None:
    if not passes_gate(metrics.auc, min_auc):
        raise QualityGateError(
            f"test AUC {metrics.auc:.4f} (gini {metrics.gini:.4f}) is below the gate min_auc={min_auc:.4f}; "
            f"the model was not registered (higher AUC is better; check the data or lower the gate deliberately)"
        )
