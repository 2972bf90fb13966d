# Databricks notebook source
# MAGIC %md
# MAGIC # Data prepare: Porto Seguro train.csv -> train/test Parquet + lineage manifest
# MAGIC
# MAGIC Called by the ADF pipeline's DatabricksNotebook activity when a CSV lands in the input container.
# MAGIC All logic lives in `dataprep.job.prepare`; this notebook only reads widgets and wires them in:
# MAGIC
# MAGIC 1. checks the file against the data contract (`data_contract` widget: the JSON the generator renders from
# MAGIC    `data_contract:` in spec/factory.yaml); a bad file is copied to `<rejected>/<run id>/` with a
# MAGIC    `.reason.json` and the run fails with the reason; bad rows under the spec's threshold are quarantined
# MAGIC    to `<rejected>/<run id>/<file>.quarantine.csv` (one reason a line) instead;
# MAGIC 2. cleans as the contract declares (name normalisation, missing code to null, dropped columns);
# MAGIC 3. splits 80/20 per row by a keyed hash of `id` (stable under re-delivery and re-ordering);
# MAGIC 4. archives the input bytes write-once under `<archive>/inputs/sha256/<sha256>.csv`;
# MAGIC 5. writes `<training>/<run id>/train.parquet` and `<testing>/<run id>/test.parquet` (or `.csv`);
# MAGIC 6. writes `<archive>/runs/<run id>/manifest.json` last (its presence marks the run complete); it records the
# MAGIC    trigger, the delivered blob's etag/version, the archived contract, code and parameters (the lineage).
# MAGIC
# MAGIC On Databricks (`spark` defined) the transformation runs on Spark with the same functions (`mapInArrow`);
# MAGIC elsewhere it is one bounded-memory streaming pass.
# MAGIC
# MAGIC Exit value (JSON, `@activity('...').output.runOutput`): manifest URL and sha256, output URLs, row counts
# MAGIC (input, accepted, quarantined, train, test).

# COMMAND ----------

import json

from dataprep.job import Containers, input_blob_url, prepare, widget_contract, widget_float, widget_int

# Widgets arrive as strings from the activity's baseParameters.
input_folder_path = dbutils.widgets.get("input_folder_path")  # @triggerBody().folderPath: <container>/<folder>
input_file_name = dbutils.widgets.get("input_file_name")  # @triggerBody().fileName
pipeline_run_id = dbutils.widgets.get("pipeline_run_id")  # @pipeline().RunId
# Which trigger delivered the file, for the lineage record; optional so that a manual run still works.
for name in ("trigger_name", "trigger_type", "trigger_time"):
    dbutils.widgets.text(name, "")
trigger = {"name": dbutils.widgets.get("trigger_name"), "type": dbutils.widgets.get("trigger_type"),
           "time": dbutils.widgets.get("trigger_time")}
storage_account_url = dbutils.widgets.get("storage_account_url")
containers = Containers(
    training=dbutils.widgets.get("training_container"),
    testing=dbutils.widgets.get("testing_container"),
    rejected=dbutils.widgets.get("rejected_container"),
    archive=dbutils.widgets.get("archive_container"),
)
test_fraction = widget_float("test_fraction", dbutils.widgets.get("test_fraction"))
split_seed = widget_int("split_seed", dbutils.widgets.get("split_seed"))
contract = widget_contract(dbutils.widgets.get("data_contract"))  # rendered from spec/factory.yaml
# Databricks defines `spark`; the local notebook host sets it to None.
session = globals().get("spark")

# COMMAND ----------

# A ContractViolation propagates on purpose: it fails the Databricks run and so the ADF activity, with the reason.
result = prepare(
    input_blob_url(storage_account_url, input_folder_path, input_file_name),
    pipeline_run_id=pipeline_run_id,
    storage_account_url=storage_account_url,
    containers=containers,
    test_fraction=test_fraction,
    split_seed=split_seed,
    contract=contract,
    spark=session,
    trigger=trigger,
)

# COMMAND ----------

dbutils.notebook.exit(json.dumps(result))
