"""File-level contract checks: the things that make a whole file unreadable, so the file is rejected.

Compressed bytes, an empty file, bytes that are not UTF-8, a wrong delimiter and a header that is not the
contract's columns. Row-level rules live in dataprep.rows; the streaming pass in dataprep.stream calls both.
"""
from __future__ import annotations

import csv
import difflib

from dataprep.contract_spec import DataContract, normalize_name
from dataprep.errors import ContractViolation, Problem

MAX_PROBLEMS = 20  # per file: enough to fix a batch at once, short enough to read in an ADF error
EXAMPLE_LINES = 5  # line numbers shown per problem
BOM = b"\xef\xbb\xbf"  # tolerated: Excel's "CSV UTF-8" writes it and it is still UTF-8
# Leading bytes of the compressed formats people actually send instead of a CSV.
MAGIC = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz",
         b"\x28\xb5\x2f\xfd": "zstd", b"7z\xbc\xaf\x27\x1c": "7z"}
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

NO_ROWS = Problem("the file has a header but no data rows", "upload a file with at least one data row after the header",
                  lines=(2,))


def fail(source: str, problems: list[Problem], contract: DataContract, note: str = "") -> None:
    # Listed in file order, so the reader can walk down the file once.
    problems = sorted(problems, key=lambda p: p.lines[0] if p.lines else 0)
    raise ContractViolation(source, problems[:MAX_PROBLEMS], unreported=max(0, len(problems) - MAX_PROBLEMS),
                            contract=contract.name, note=note)


def check_head(head: bytes, contract: DataContract, *, source: str) -> tuple[int, list[str]]:
    """Check the first bytes of the file (at least its header line); returns (offset of the first data line,
    header names as in the file). Raises ContractViolation."""
    if not head.strip():
        fail(source, [Problem("the file is empty" if not head else "the file holds only whitespace",
                              "upload the CSV with its header line and at least one data row", lines=(1,))], contract)
    for magic, name in MAGIC.items():
        if head.startswith(magic):
            fail(source, [Problem(f"the file is {name}-compressed (it starts with the {name} signature), "
                                  f"but the contract declares compression '{contract.compression}'",
                                  "upload the uncompressed .csv (decompress it first)", lines=(1,))], contract)
    start = len(BOM) if head.startswith(BOM) else 0
    end = head.find(b"\n", start)
    header = head[start: end if end >= 0 else len(head)]
    if (problem := utf8_problem(header, first_line=1)) is not None:
        fail(source, [problem], contract)
    fields, problems = header_problems(header.decode("utf-8"), contract)
    if problems:
        fail(source, problems, contract)
    return (end + 1 if end >= 0 else len(head)), fields


def utf8_problem(data: bytes, *, first_line: int) -> Problem | None:
    if data.isascii():  # the common case, and far cheaper than decoding
        return None
    bad: list[tuple[int, int]] = []  # (offset, byte)
    start = 0
    while len(bad) < EXAMPLE_LINES:
        try:
            data[start:].decode("utf-8")
            break
        except UnicodeDecodeError as exc:
            bad.append((start + exc.start, data[start + exc.start]))
            start += exc.end
    if not bad:
        return None
    lines = tuple(dict.fromkeys(first_line + data.count(b"\n", 0, offset) for offset, _ in bad))
    return Problem(f"byte 0x{bad[0][1]:02X} is not valid UTF-8 (the file is in another encoding, e.g. Latin-1)",
                   "save the file as UTF-8 (Excel: 'CSV UTF-8'); the contract's values are plain ASCII numbers",
                   lines=lines, count=len(lines))


def header_problems(header: str, contract: DataContract) -> tuple[list[str], list[Problem]]:
    names, delimiter = contract.names, contract.delimiter
    text = header.rstrip("\r")
    fields = next(csv.reader([text], delimiter=delimiter), [])
    matched = [normalize_name(f) for f in fields] if contract.normalize_names else list(fields)
    if len(fields) == 1:
        for other, label in DELIMITERS.items():
            if other != delimiter and other in text:
                return fields, [Problem(f"the header is separated by {label}s, not {DELIMITERS[delimiter]}s",
                                        f"export the file {DELIMITERS[delimiter]}-separated (delimiter "
                                        f"'{delimiter}'), with '.' as the decimal point", lines=(1,))]
    if not set(matched) & set(names):
        return fields, [Problem(f"the first line is not the header: none of its {len(fields)} fields is a contract "
                                f"column", f"make the first line the header: {','.join(names[:4])},... "
                                "(data_contract.columns in spec/factory.yaml)", lines=(1,))]
    problems = []
    for position, name in enumerate(names):
        if name not in matched:
            after = f", after '{names[position - 1]}'" if position else ""
            required = " (the target is required in a training file)" if name == contract.target_column else ""
            problems.append(Problem(f"the header lacks this column (expected at position {position + 1}{after})"
                                    f"{required}", f"add the column; the header must be exactly the contract's "
                                    f"{len(names)} names, in order", column=name, lines=(1,)))
    for position, (field, name) in enumerate(zip(fields, matched)):
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(Problem(f"unexpected column at position {position + 1}{hint}",
                                    "remove the column or rename it to the contract's name", column=field, lines=(1,)))
    for name in dict.fromkeys(m for m in matched if matched.count(m) > 1 and m in names):
        positions = [str(i + 1) for i, m in enumerate(matched) if m == name]
        problems.append(Problem(f"the column appears {len(positions)} times (positions {', '.join(positions)})",
                                "keep exactly one copy of the column", column=name, lines=(1,)))
    if not problems and matched != names:
        wrong = [i for i, (m, n) in enumerate(zip(matched, names)) if m != n]
        shown = "; ".join(f"position {i + 1} holds '{fields[i]}', expected '{names[i]}'" for i in wrong[:3])
        problems.append(Problem(f"the columns are out of order: {shown}",
                                f"reorder the columns as in the contract: {', '.join(names[:4])}, ... "
                                "(data_contract.columns in spec/factory.yaml)", column=fields[wrong[0]], lines=(1,)))
    return fields, problems
