"""A local runtime for Azure Data Factory artifacts: deploys the generated ARM template, runs blob event
triggers against Azurite, executes pipeline JSON (expressions, dependencies, policies, activities), runs
Databricks notebooks in a local notebook host and stands in for the Azure ML batch endpoint."""
