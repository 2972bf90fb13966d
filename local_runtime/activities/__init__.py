"""Activity runners, registered by ADF activity `type`. Importing this package registers them all."""
from local_runtime.activities.registry import RUNNERS, register  # noqa: F401
from local_runtime.activities import (  # noqa: F401  (registration side effect)
    control, databricks, loops, metadata, pipelines, transfer, web)
