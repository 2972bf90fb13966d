"""Deterministic LightGBM training with early stopping on a split of the training data (pure function)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import lightgbm as lgb
import pandas as pd
from sklearn.model_selection import train_test_split

from training.config import TrainingConfig
from training.features import categorical_columns


@dataclass(frozen=True)
class TrainedModel:
    booster: lgb.Booster
    best_iteration: int
    features: list[str]
    categorical: list[str]
    model_text: str  # LightGBM's text model, exactly what mlflow.lightgbm writes to model.lgb

    @property
    def model_sha256(self) -> str:
        return hashlib.sha256(self.model_text.encode("utf-8")).hexdigest()


def carve_validation(
    x: pd.DataFrame, y: pd.Series, *, fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series, pd.Series]:
    """A stratified, seeded validation split of the TRAINING data; the test output is never looked at here."""
    x_fit, x_val, y_fit, y_val = train_test_split(x, y, test_size=fraction, random_state=seed, stratify=y)
    return x_fit, x_val, y_fit, y_val


def train_model(x: pd.DataFrame, y: pd.Series, config: TrainingConfig) -> TrainedModel:
    features = list(x.columns)
    categorical = categorical_columns(features)
    x_fit, x_val, y_fit, y_val = carve_validation(
        x, y, fraction=config.validation_fraction, seed=config.seed
    )
    params = config.lightgbm_params()
    # Nothing is imputed or encoded outside LightGBM (-1/NaN are its missing values, `_cat` codes go in raw);
    # its one fitted transform, the feature binning, is built from the fit rows only: the validation set
    # reuses those bins (reference=fit_set) and the test rows never reach this function.
    # The Datasets get the params too, so `verbose=-1` applies while they bin the data. (LightGBM's worker
    # threads may still print the expected "negative categorical value -> missing" warning: its log level is
    # thread-local. The CLI keeps stdout clean by pointing it at stderr while training.)
    fit_set = lgb.Dataset(x_fit, label=y_fit, categorical_feature=categorical, params=params)
    val_set = lgb.Dataset(x_val, label=y_val, reference=fit_set, categorical_feature=categorical, params=params)
    booster = lgb.train(
        params,
        fit_set,
        num_boost_round=config.num_boost_round,
        valid_sets=[val_set],
        valid_names=["validation"],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, verbose=False)],
    )
    best = booster.best_iteration or booster.current_iteration()
    # Keep only the trees up to the best iteration so the saved model, its hash and its predictions agree.
    final = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return TrainedModel(
        booster=final,
        best_iteration=best,
        features=features,
        categorical=categorical,
        model_text=final.model_to_string(),
    )
