"""Where the local runtime keeps its state and which loopback ports it uses (overridable by environment)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INTERNAL_PORT_OFFSET = 10  # Azurite's own port defaults to the public blob port + 10


@dataclass(frozen=True)
class Settings:
    home: Path                 # all local state: Azurite data, runtime db, MLflow store, logs
    azurite_port: int          # the blob endpoint everyone talks to: the Event Grid stand-in in front of Azurite
    runtime_port: int          # the runtime's loopback HTTP server (Azure ML stand-in)
    notebook_root: str         # workspace folder that maps onto the project's notebooks/
    notebooks_dir: Path
    poll_seconds: float        # how often triggers read new events and the executor looks at the queue
    azurite_internal_port: int = 0  # where Azurite itself listens; 0 means azurite_port + INTERNAL_PORT_OFFSET

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

    @property
    def azurite_upstream_port(self) -> int:
        return self.azurite_internal_port or self.azurite_port + INTERNAL_PORT_OFFSET

    def azurite_account_url(self, account: str = "devstoreaccount1") -> str:
        """The account as users and pipelines address it: through the Event Grid stand-in."""
        return f"http://127.0.0.1:{self.azurite_port}/{account}"

    def azurite_internal_url(self, account: str = "devstoreaccount1") -> str:
        """Azurite itself: writes here raise no storage events (only the stand-in and benchmarks use it)."""
        return f"http://127.0.0.1:{self.azurite_upstream_port}/{account}"


def load_settings() -> Settings:
    env = os.environ
    return Settings(
        home=Path(env.get("LOCAL_HOME", PROJECT_ROOT / ".local")).resolve(),
        azurite_port=int(env.get("AZURITE_BLOB_PORT", "10000")),
        runtime_port=int(env.get("LOCAL_RUNTIME_PORT", "8790")),
        notebook_root=env.get("LOCAL_NOTEBOOK_ROOT", "/Shared/porto-seguro"),
        notebooks_dir=Path(env.get("LOCAL_NOTEBOOKS_DIR", PROJECT_ROOT / "notebooks")).resolve(),
        poll_seconds=float(env.get("LOCAL_POLL_SECONDS", "1")),
        azurite_internal_port=int(env.get("AZURITE_INTERNAL_PORT", "0")),
    )
