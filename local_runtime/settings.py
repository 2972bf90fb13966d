"""Where the local runtime keeps its state and which loopback ports it uses (overridable by environment)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    home: Path                 # all local state: Azurite data, runtime db, MLflow store, logs
    azurite_port: int
    runtime_port: int          # the runtime's loopback HTTP server (Azure ML stand-in)
    notebook_root: str         # workspace folder that maps onto the project's notebooks/
    notebooks_dir: Path
    poll_seconds: float        # how often triggers look at storage and the executor at the queue

    @property
    def db_path(self) -> Path:
        return self.home / "runtime" / "runtime.db"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def mlflow_dir(self) -> Path:
        return self.home / "mlflow"

    @property
    def mlflow_tracking_uri(self) -> str:
        return f"sqlite:///{self.mlflow_dir / 'mlflow.db'}"

    def azurite_account_url(self, account: str = "devstoreaccount1") -> str:
        return f"http://127.0.0.1:{self.azurite_port}/{account}"


def load_settings() -> Settings:
    env = os.environ
    return Settings(
        home=Path(env.get("LOCAL_HOME", PROJECT_ROOT / ".local")).resolve(),
        azurite_port=int(env.get("AZURITE_BLOB_PORT", "10000")),
        runtime_port=int(env.get("LOCAL_RUNTIME_PORT", "8790")),
        notebook_root=env.get("LOCAL_NOTEBOOK_ROOT", "/Shared/porto-seguro"),
        notebooks_dir=Path(env.get("LOCAL_NOTEBOOKS_DIR", PROJECT_ROOT / "notebooks")).resolve(),
        poll_seconds=float(env.get("LOCAL_POLL_SECONDS", "1")),
    )
