"""The data contract lives in spec/factory.yaml: loading, its JSON form (the pipeline's baseParameter), its
agreement with the column statistics the synthetic generator uses, and its own consistency checks."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from dataprep.contract_spec import DataContract, load_contract, normalize_name
from dataprep.errors import ParameterError
from dataprep.manifest import ids_sha256 as reference_ids_sha256
from dataprep.stream import ids_sha256

ROOT = Path(__file__).resolve().parents[2]


def test_the_generated_pipeline_passes_exactly_the_spec_contract(contract):
    pipeline = json.loads((ROOT / "generated/factory/pipeline/PrepareAndTrain.json").read_text())
    parameter = pipeline["properties"]["activities"][0]["typeProperties"]["baseParameters"]["data_contract"]
    assert DataContract.from_json(parameter) == contract
    assert DataContract.from_json(contract.to_json()) == contract


def test_the_contract_agrees_with_the_column_statistics(contract, columns):
    assert contract.names == [c.name for c in columns]
    for spec, rule in zip(columns, contract.columns):
        assert rule.type == spec.dtype and rule.kind == spec.kind.partition("(")[0]
        assert rule.missing == (spec.min == -1), rule.name
        low = rule.min if rule.min is not None else min(rule.values)
        high = rule.max if rule.max is not None else (max(rule.values) if rule.values else np.inf)
        present_min = 0 if spec.min == -1 else spec.min
        assert low <= present_min and spec.max <= high, rule.name


@pytest.mark.parametrize(("name", "normal"), [(" PS-Car-13 ", "ps_car_13"), ("ps_ind_02_cat", "ps_ind_02_cat"),
                                              ("Target", "target"), ("a..b  c", "a_b_c")])
def test_normalize_name(name, normal):
    assert normalize_name(name) == normal


@pytest.mark.parametrize(("change", "message"), [
    ({"drop_columns": ("ps_*", "id")}, r"would drop \['id'\], which the split needs"),
    ({"policy": "skip"}, "rows.policy must be reject or quarantine"),
    ({"output_format": "xlsx"}, "output_format must be parquet or csv"),
    ({"id_column": "policy_id"}, "'policy_id' is not one of the columns"),
])
def test_an_inconsistent_contract_is_refused(contract, change, message):
    with pytest.raises(ParameterError, match=message):
        replace(contract, **change)


def test_a_widget_that_is_not_a_contract_is_named():
    with pytest.raises(ParameterError, match="widget 'data_contract' is not a data contract"):
        DataContract.from_json('{"name": "x"}')


def test_cleaning_globs_select_columns(contract):
    cleaned = replace(contract, drop_columns=("ps_calc_*",), missing_to_null=("ps_*_cat",))
    assert len(cleaned.dropped()) == 20 and all(n.startswith("ps_calc_") for n in cleaned.dropped())
    assert "ps_car_03_cat" in cleaned.nulled() and "ps_car_04_cat" not in cleaned.nulled()  # never missing
    assert len(cleaned.output_names()) == 39


def test_streamed_id_digest_equals_the_reference(tmp_path):
    ids = np.random.default_rng(0).choice(np.arange(1, 10**7), size=50_000, replace=False)
    assert ids_sha256(ids) == reference_ids_sha256(ids)
    assert ids_sha256(np.array([], dtype=np.int64)) == reference_ids_sha256(np.array([], dtype=np.int64))


def test_load_contract_reads_the_spec_section():
    assert load_contract().name == "porto_seguro_train" and load_contract().id_column == "id"
