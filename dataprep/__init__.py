"""Data preparation for the Porto Seguro pipeline: contract check, deterministic split, lineage manifest.

Pure functions live in contract/split/manifest/parquet/layout; `dataprep.job.prepare` is the wiring the
Databricks notebook calls.
"""
from dataprep.errors import ContractViolation, DataPrepError, Problem
from dataprep.layout import Containers

__all__ = ["Containers", "ContractViolation", "DataPrepError", "Problem"]
