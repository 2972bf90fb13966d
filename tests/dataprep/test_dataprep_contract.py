"""The CSV contract check: valid files come back typed, broken ones are refused with line, column and fix."""
from __future__ import annotations

import re

import pyarrow as pa
import pytest

from dataprep.contract import MAX_PROBLEMS, check_csv
from dataprep.errors import ContractViolation, DataPrepError
from dataprep_builders import BROKEN, set_cell, to_csv, valid_frame


def violation(data: bytes, columns) -> ContractViolation:
    with pytest.raises(ContractViolation) as caught:
        check_csv(data, columns, source="train.csv")
    return caught.value


def test_valid_file_comes_back_with_the_contract_names_and_types(columns):
    df = valid_frame(columns, 300)
    table = check_csv(to_csv(df), columns)
    assert table.column_names == [c.name for c in columns]
    assert [str(t) for t in table.schema.types] == ["int64" if c.dtype == "int64" else "double" for c in columns]
    assert table.num_rows == 300
    assert table.column("id").to_pylist() == df["id"].tolist()  # row order as in the file


def test_crlf_line_ends_a_utf8_bom_and_blank_lines_are_tolerated(columns):
    data = to_csv(valid_frame(columns, 50))
    variant = b"\xef\xbb\xbf" + data.replace(b"\n", b"\r\n").replace(b"\r\n", b"\r\n\r\n", 3)
    assert check_csv(variant, columns).equals(check_csv(data, columns))


def test_synthetic_generator_output_passes_the_contract(columns):
    synthetic = pytest.importorskip("synthetic")
    df = synthetic.generate(400, 3)
    assert check_csv(to_csv(df), columns).num_rows == 400


@pytest.mark.parametrize("case", BROKEN, ids=lambda case: case.name)
def test_broken_file_is_refused_with_line_column_and_fix(case, columns):
    error = violation(case.build(valid_frame(columns, 40)), columns)
    assert isinstance(error, DataPrepError)
    message = str(error)
    assert message.startswith("train.csv breaks the Porto Seguro column contract")
    for pattern in case.expect:
        assert re.search(pattern, message), f"{pattern!r} not in:\n{message}"
    assert error.problems and all(problem.fix for problem in error.problems)


def test_line_numbers_count_blank_lines(columns):
    lines = set_cell(to_csv(valid_frame(columns, 20)), 5, "target", "7").split(b"\n")
    data = b"\n".join(lines[:3] + [b"", b"\r"] + lines[3:])  # data row 5 moves from line 7 to line 9
    assert "line 9, column 'target': target must be 0 or 1, found 7" in str(violation(data, columns))


def test_row_with_wrong_field_count_is_reported_with_its_line(columns):
    lines = to_csv(valid_frame(columns, 20)).split(b"\n")
    lines[6] += b",1"
    error = violation(b"\n".join(lines), columns)
    assert re.search(r"line 7: the row does not have 59 fields.*Fix: give every row exactly 59", str(error))


def test_several_problems_are_reported_together_in_file_order(columns):
    data = to_csv(valid_frame(columns, 30))
    data = set_cell(data, 10, "ps_car_13", "")
    data = set_cell(data, 2, "ps_car_04_cat", "-1")
    data = set_cell(data, 6, "id", "-3")
    data = set_cell(data, 8, "ps_calc_01", "nan")
    message = str(violation(data, columns))
    found = re.findall(r"line (\d+), column '([^']+)'", message)
    assert found == [("4", "ps_car_04_cat"), ("8", "id"), ("10", "ps_calc_01"), ("12", "ps_car_13")]
    assert "-1 (missing) is not allowed in this column" in message
    assert "id must be a positive integer, found -3" in message
    assert "'nan' is not a number" in message
    assert "the value is empty" in message


def test_non_finite_float_that_pyarrow_parses_is_refused(columns):
    data = set_cell(to_csv(valid_frame(columns, 10)), 1, "ps_reg_03", "inf")
    assert "line 3, column 'ps_reg_03': value inf is not a finite number" in str(violation(data, columns))


def test_one_problem_per_column_lists_example_lines_and_a_count(columns):
    data = to_csv(valid_frame(columns, 40))
    for row in range(0, 40, 4):
        data = set_cell(data, row, "ps_ind_06_bin", "3")
    message = str(violation(data, columns))
    assert "lines 2, 6, 10, 14, 18 (+5 more), column 'ps_ind_06_bin': value 3 is outside" in message


def test_problems_are_capped_and_the_rest_counted(columns):
    data = to_csv(valid_frame(columns, 10))
    int_columns = [c.name for c in columns if c.kind.startswith(("bin", "ordinal"))]
    for name in int_columns:
        data = set_cell(data, 1, name, "x")
    error = violation(data, columns)
    assert len(error.problems) == MAX_PROBLEMS
    assert error.unreported == len(int_columns) - MAX_PROBLEMS
    assert f"{len(int_columns)} problems" in str(error)
    assert f"and {len(int_columns) - MAX_PROBLEMS} more problem(s) not listed" in str(error)


def test_header_with_a_near_miss_name_suggests_the_contract_name(columns):
    data = to_csv(valid_frame(columns, 5).rename(columns={"ps_car_13": "PS_CAR_13"}))
    message = str(violation(data, columns))
    assert "column 'PS_CAR_13': unexpected column at position 37" in message
    assert "column 'ps_car_13': the header lacks this column" in message


@pytest.mark.parametrize("tail", [b"", b"\n", b"\n\n \r\n"])
def test_header_followed_by_nothing_but_blank_lines_has_no_data_rows(columns, tail):
    header = ",".join(c.name for c in columns).encode()
    assert "line 2: the file has a header but no data rows" in str(violation(header + tail, columns))


def test_file_without_a_header_line_gets_one_clear_problem(columns):
    data = b"\n".join(to_csv(valid_frame(columns, 5)).split(b"\n")[1:])
    error = violation(data, columns)
    assert len(error.problems) == 1
    assert "line 1: the first line is not the header" in str(error) and "Fix: make the first line the header" in str(error)


def test_problem_details_are_structured(columns):
    error = violation(set_cell(to_csv(valid_frame(columns, 10)), 0, "target", "5"), columns)
    [problem] = error.problems
    assert problem.to_dict() == {"what": "target must be 0 or 1, found 5", "column": "target", "lines": [2],
                                 "count": 1, "fix": problem.fix}
    assert isinstance(check_csv(to_csv(valid_frame(columns, 3)), columns), pa.Table)
