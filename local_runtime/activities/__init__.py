"""Activity runners, registered by ADF activity `type`. Importing this package registers them all."""
from local_runtime.activities import control, databricks, lookup, loops, metadata, pipelines, transfer, web  # noqa: F401  (registration side effect)
from local_runtime.activities.registry import RUNNERS, register  # noqa: F401
