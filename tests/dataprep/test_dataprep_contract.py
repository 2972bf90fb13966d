"""The contract check of the streaming pass: valid files come back typed and split, broken ones are refused with
line, column and fix, and leave nothing in the output folder."""
from __future__ import annotations

import io
import re
from dataclasses import replace

import pyarrow.parquet as pq
import pytest

from dataprep.contract import MAX_PROBLEMS
from dataprep.errors import ContractViolation, DataPrepError
from dataprep.stream import prepare_stream
from dataprep_builders import BROKEN, set_cell, to_csv, valid_frame


def prep(data: bytes, contract, out, **options):
    return prepare_stream(io.BytesIO(data), contract, seed=0, test_fraction=0.2, out_dir=out,
                          source_name="train.csv", **options)


def violation(data: bytes, contract, out) -> ContractViolation:
    with pytest.raises(ContractViolation) as caught:
        prep(data, contract, out)
    assert sorted(p.name for p in out.iterdir()) == []  # nothing partial, no staging file left behind
    return caught.value


def read(path):
    return pq.read_table(path)


def test_valid_file_comes_back_with_the_contract_names_and_types(contract, columns, tmp_path):
    df = valid_frame(columns, 300)
    result = prep(to_csv(df), contract, tmp_path)
    train, test = read(result.train_path), read(result.test_path)
    assert train.column_names == test.column_names == contract.names
    assert [str(t) for t in train.schema.types] == ["int64" if c.type == "int64" else "double" for c in contract.columns]
    assert (result.rows, result.accepted, result.quarantined) == (300, 300, 0)
    assert train.num_rows + test.num_rows == 300 and result.quarantine_path is None
    ids = train.column("id").to_pylist() + test.column("id").to_pylist()
    assert sorted(ids) == sorted(df["id"].tolist())


def test_crlf_line_ends_a_utf8_bom_and_blank_lines_are_tolerated(contract, columns, tmp_path):
    data = to_csv(valid_frame(columns, 50))
    variant = b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n").replace(b"\r\n", b"\r\n\r\n", 3)
    a, b = prep(data, contract, tmp_path / "a"), prep(variant, contract, tmp_path / "b")
    assert read(a.train_path).equals(read(b.train_path)) and read(a.test_path).equals(read(b.test_path))


def test_synthetic_generator_output_passes_the_contract(contract, tmp_path):
    synthetic = pytest.importorskip("synthetic")
    assert prep(to_csv(synthetic.generate(400, 3)), contract, tmp_path).accepted == 400


@pytest.mark.parametrize("case", BROKEN, ids=lambda case: case.name)
def test_broken_file_is_refused_with_line_column_and_fix(case, strict, columns, tmp_path):
    error = violation(case.build(valid_frame(columns, 40)), strict, tmp_path)
    assert isinstance(error, DataPrepError)
    message = str(error)
    assert message.startswith("train.csv breaks the data contract 'porto_seguro_train' (data_contract in spec/factory.yaml)")
    for pattern in case.expect:
        assert re.search(pattern, message), f"{pattern!r} not in:\n{message}"
    assert error.problems and all(problem.fix for problem in error.problems)


def test_problems_in_later_chunks_keep_their_line_numbers(strict, columns, tmp_path):
    data = set_cell(to_csv(valid_frame(columns, 400)), 350, "ps_ind_01", "9")
    message = str(violation(data, strict, tmp_path))  # 1 kB chunks: the bad row is dozens of chunks in
    assert "line 352, column 'ps_ind_01': value 9 is outside" in message
    with pytest.raises(ContractViolation, match="line 352, column 'ps_ind_01'"):
        prep(data, strict, tmp_path, chunk_bytes=1024)


def test_line_numbers_count_blank_lines(strict, columns, tmp_path):
    lines = set_cell(to_csv(valid_frame(columns, 20)), 5, "target", "7").split(b"\n")
    data = b"\n".join(lines[:3] + [b"", b"\r"] + lines[3:])  # data row 5 moves from line 7 to line 9
    assert "line 9, column 'target': value 7 is not one of" in str(violation(data, strict, tmp_path))


def test_several_problems_are_reported_together_in_file_order(strict, columns, tmp_path):
    data = to_csv(valid_frame(columns, 30))
    data = set_cell(data, 10, "ps_car_13", "")
    data = set_cell(data, 2, "ps_car_04_cat", "-1")
    data = set_cell(data, 6, "id", "-3")
    data = set_cell(data, 8, "ps_calc_01", "nan")
    message = str(violation(data, strict, tmp_path))
    found = re.findall(r"line (\d+), column '([^']+)'", message)
    assert found == [("4", "ps_car_04_cat"), ("8", "id"), ("10", "ps_calc_01"), ("12", "ps_car_13")]
    assert "-1 (missing) is not allowed in this column" in message
    assert "value -3 is outside the allowed range [1, ...]" in message
    assert "'nan' is not a number" in message
    assert "the value is empty" in message


def test_non_finite_float_that_pyarrow_parses_is_refused(strict, columns, tmp_path):
    data = set_cell(to_csv(valid_frame(columns, 10)), 1, "ps_reg_03", "inf")
    assert "line 3, column 'ps_reg_03': value inf is not a finite number" in str(violation(data, strict, tmp_path))


def test_one_problem_per_column_lists_example_lines_and_a_count(strict, columns, tmp_path):
    data = to_csv(valid_frame(columns, 40))
    for row in range(0, 40, 4):
        data = set_cell(data, row, "ps_ind_06_bin", "3")
    message = str(violation(data, strict, tmp_path))
    assert "lines 2, 6, 10, 14, 18 (+5 more), column 'ps_ind_06_bin': value 3 is not one of" in message


def test_problems_are_capped_and_the_rest_counted(strict, columns, tmp_path):
    data = to_csv(valid_frame(columns, 10))
    int_columns = [c.name for c in columns if c.kind.startswith(("bin", "ordinal"))]
    for name in int_columns:
        data = set_cell(data, 1, name, "x")
    error = violation(data, strict, tmp_path)
    assert len(error.problems) == MAX_PROBLEMS
    assert error.unreported == len(int_columns) - MAX_PROBLEMS
    assert f"{len(int_columns)} problems" in str(error)


def test_header_names_are_normalised_before_matching(contract, columns, tmp_path):
    df = valid_frame(columns, 20).rename(columns={"ps_car_13": " PS-Car-13 ", "target": "Target"})
    result = prep(to_csv(df), contract, tmp_path)
    assert read(result.train_path).column_names == contract.names


def test_header_with_a_near_miss_name_suggests_the_contract_name(contract, columns, tmp_path):
    message = str(violation(to_csv(valid_frame(columns, 5).rename(columns={"ps_car_13": "ps_car_13x"})), contract,
                            tmp_path))
    assert "column 'ps_car_13x': unexpected column at position 37; did you mean 'ps_car_13'?" in message
    assert "column 'ps_car_13': the header lacks this column" in message


@pytest.mark.parametrize("tail", [b"", b"\n", b"\n\n \r\n"])
def test_header_followed_by_nothing_but_blank_lines_has_no_data_rows(contract, tail, tmp_path):
    header = ",".join(contract.names).encode()
    assert "line 2: the file has a header but no data rows" in str(violation(header + tail, contract, tmp_path))


def test_file_without_a_header_line_gets_one_clear_problem(contract, columns, tmp_path):
    data = b"\n".join(to_csv(valid_frame(columns, 5)).split(b"\n")[1:])
    error = violation(data, contract, tmp_path)
    assert len(error.problems) == 1
    assert "line 1: the first line is not the header" in str(error)


def test_problem_details_are_structured(strict, columns, tmp_path):
    error = violation(set_cell(to_csv(valid_frame(columns, 10)), 0, "target", "5"), strict, tmp_path)
    [problem] = error.problems
    assert problem.to_dict() == {"what": "value 5 is not one of the allowed values [0, 1]", "column": "target",
                                 "lines": [2], "count": 1, "fix": problem.fix}


def test_a_semicolon_contract_reads_semicolon_files(contract, columns, tmp_path):
    result = prep(to_csv(valid_frame(columns, 30), sep=";"), replace(contract, delimiter=";"), tmp_path)
    assert result.accepted == 30


@pytest.mark.parametrize("band", [0.2, 1e-12], ids=["one_pass_band_holds", "cutoff_outside_band_second_pass"])
def test_quota_split_is_exact_in_one_pass_or_two(contract, columns, tmp_path, monkeypatch, band):
    from dataprep import stream
    from dataprep.split import split_indices

    monkeypatch.setattr(stream, "BAND", band)
    reads = []
    original = stream._attempt
    monkeypatch.setattr(stream, "_attempt", lambda *a: reads.append(1) or original(*a))
    df = valid_frame(columns, 3000, seed=12)
    result = prep(to_csv(df), replace(contract, split_method="quota"), tmp_path)
    assert len(reads) == (1 if band == 0.2 else 2)
    _, test_rows = split_indices(df["id"].to_numpy(), df["target"].to_numpy(), test_fraction=0.2, seed=0)
    assert sorted(read(result.test_path).column("id").to_pylist()) == sorted(df["id"].to_numpy()[test_rows].tolist())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test.parquet", "train.parquet"]  # no band file left
