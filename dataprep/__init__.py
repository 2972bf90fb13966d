"""Data preparation for the Porto Seguro pipeline: data contract, cleaning, deterministic split, lineage manifest.

contract_spec: the contract (spec/factory.yaml `data_contract:`) as records and as the pipeline's JSON parameter;
contract: file-level checks; rows: row-level checks and cleaning (shared with Spark); split: the per-row rule;
stream: the bounded-memory local pass; spark: the same functions under mapInArrow; outputs/parquet: writers;
manifest/layout: lineage and URLs; job: the storage wiring the Databricks notebook calls.
"""
from dataprep.errors import ContractViolation, DataPrepError, Problem
from dataprep.layout import Containers

__all__ = ["Containers", "ContractViolation", "DataPrepError", "Problem"]
