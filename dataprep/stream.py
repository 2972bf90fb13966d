"""One streaming pass over a delivered CSV: check, clean, split and write, in bounded memory.

The file is read in chunks cut at line ends (CHUNK_BYTES each), so memory does not grow with the file;
each chunk is hashed (sha256 of the exact bytes), parsed by pyarrow with the contract's types (threads),
checked row by row (dataprep.rows), cleaned, split per row (keyed_hash(seed, id) < cutoff[target],
dataprep.split) and appended to the train/test writers. Outputs go to staging names (`*.partial`) and are
renamed only once the whole file has passed: a rejected file leaves nothing in the output folder. Only the
ids, labels and line numbers (13 bytes a row) are kept for the whole file: id uniqueness, quotas, digests.
"""
from __future__ import annotations

import csv
import hashlib
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from dataprep.contract import EXAMPLE_LINES, NO_ROWS, check_head, fail, utf8_problem
from dataprep.contract_spec import DataContract
from dataprep.errors import Problem
from dataprep.outputs import OutputWriter
from dataprep.rows import Finding, arrow_schema, bad_row_mask, clean, output_schema, row_findings, typed_from_text
from dataprep.split import class_cutoffs, in_test_by_class, keyed_hash

CHUNK_BYTES = 8 << 20
BAND = 0.02  # half-width of the waiting band, as a share of the hash range (see _Band)
_NON_BLANK = re.compile(rb"\S")
QUARANTINE_FIELDS = ("line", "column", "rule", "value", "problem", "fix", "row")


@dataclass
class Side:
    rows: int = 0
    positives: int = 0

    def as_dict(self, ids: np.ndarray) -> dict:
        return {"rows": self.rows, "positive_rate": self.positives / self.rows if self.rows else 0.0,
                "ids_sha256": ids_sha256(ids)}


@dataclass(frozen=True)
class Prepared:
    """What one pass did; paths are the committed (renamed) outputs."""

    sha256: str
    bytes: int
    rows: int  # data rows read
    accepted: int
    quarantined: int
    columns: list[str]  # output columns
    train: dict
    test: dict
    train_path: Path
    test_path: Path
    quarantine_path: Path | None
    input_positive_rate: float  # over the accepted rows


@dataclass
class _Tally:
    """Row-level problems aggregated per (column, rule) for the rejection message."""

    problems: dict = field(default_factory=dict)
    bad_rows: int = 0

    def add(self, key: tuple, what: str, fix: str, column: str | None, lines: np.ndarray) -> None:
        entry = self.problems.setdefault(key, [what, fix, column, [], 0])
        entry[3].extend(int(x) for x in lines[: EXAMPLE_LINES - len(entry[3])])
        entry[4] += int(lines.size)

    def as_problems(self) -> list[Problem]:
        return [Problem(what, fix, column=column, lines=tuple(lines), count=count)
                for what, fix, column, lines, count in self.problems.values()]


def ids_sha256(ids: np.ndarray) -> str:
    """sha256 of the sorted ids as decimal strings joined by "\\n" (same bytes as dataprep.manifest.ids_sha256),
    built by Arrow so that 3 million ids do not become 3 million Python strings."""
    if ids.size == 0:
        return hashlib.sha256(b"").hexdigest()
    text = pc.binary_join_element_wise(pa.array(np.sort(ids)).cast(pa.string()), "\n", "")
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32, count=len(text) + 1)
    data = text.buffers()[2]
    return hashlib.sha256(memoryview(data)[offsets[0]: offsets[-1] - 1]).hexdigest()


def _chunks(source: BinaryIO, size: int, digest) -> Iterator[bytes]:
    """The source in pieces of about `size` bytes, each ending at a line end (the last one may not)."""
    rest = b""
    while True:
        block = source.read(size)
        digest.update(block)
        if not block:
            if rest:
                yield rest
            return
        data = rest + block
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        rest = data[cut + 1:]
        yield data[: cut + 1]


def _lookahead(items: Iterator[bytes]) -> Iterator[tuple[bytes, bytes | None]]:
    """(item, the item after it or None)."""
    current = next(items, None)
    while current is not None:
        following = next(items, None)
        yield current, following
        current = following


def _parse(chunk: bytes, contract: DataContract, *, typed: bool) -> tuple[pa.Table | None, list[str]]:
    """(table, texts of rows with the wrong field count); table None when a typed cell did not parse."""
    ragged: list[str] = []

    def skip(row) -> str:
        ragged.append(row.text)
        return "skip"

    schema = arrow_schema(contract, text=not typed)
    try:
        table = pacsv.read_csv(
            pa.BufferReader(chunk),
            read_options=pacsv.ReadOptions(column_names=schema.names, block_size=1 << 20),
            parse_options=pacsv.ParseOptions(delimiter=contract.delimiter, invalid_row_handler=skip),
            # No null markers: missing values are coded, so an empty cell or "NA" is an error.
            convert_options=pacsv.ConvertOptions(column_types=schema, null_values=[], strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid:
        if typed:
            return None, []
        raise
    return table, ragged


def _line_numbers(chunk: bytes, first_line: int, width: int, delimiter: bytes) -> tuple[np.ndarray, list[int], list[bytes]]:
    """Slow path, for chunks with blank or ragged lines: (line of each parsed row, ragged lines, all lines)."""
    lines = chunk.split(b"\n")
    rows, ragged = [], []
    for number, raw in enumerate(lines, start=first_line):
        line = raw.rstrip(b"\r")
        if line:
            (rows if line.count(delimiter) + 1 == width else ragged).append(number)
    return np.asarray(rows, dtype=np.int64), ragged, lines


def file_cutoffs(source: BinaryIO, contract: DataContract, *, seed: int, test_fraction: float,
                 chunk_bytes: int = CHUNK_BYTES) -> dict:
    """The per-class cutoffs of contract.split_method. `quota` needs the class sizes first: a cheap pre-pass that
    parses only the id and target columns (8 bytes a row kept); `hash` needs nothing from the file."""
    if contract.split_method == "hash":
        return class_cutoffs(np.empty(0), np.array([0, 1]), seed=seed, test_fraction=test_fraction, method="hash")
    start = source.tell()
    ids, labels = [], []
    keep = [contract.id_column, contract.target_column]
    first = True
    for chunk in _chunks(source, chunk_bytes, hashlib.sha256()):
        if first:
            offset, _ = check_head(chunk, contract, source="input")  # a file-level problem ends the pre-pass
            chunk, first = chunk[offset:], False
        if not _NON_BLANK.search(chunk) or utf8_problem(chunk, first_line=1) is not None:
            continue  # the main pass reports what is wrong with this chunk
        chunk_ids, chunk_labels = _id_and_target(chunk, contract, keep)
        ids.append(chunk_ids)
        labels.append(chunk_labels)
    source.seek(start)
    all_ids = np.concatenate(ids) if ids else np.empty(0, dtype=np.int64)
    return class_cutoffs(all_ids, np.concatenate(labels) if labels else np.empty(0, dtype=np.int64), seed=seed,
                         test_fraction=test_fraction, method="quota")


def _id_and_target(chunk: bytes, contract: DataContract, keep: list[str]) -> tuple[np.ndarray, np.ndarray]:
    def read(kind: pa.DataType) -> pa.Table:
        return pacsv.read_csv(pa.BufferReader(chunk), read_options=pacsv.ReadOptions(column_names=contract.names),
                              parse_options=pacsv.ParseOptions(delimiter=contract.delimiter,
                                                               invalid_row_handler=lambda row: "skip"),
                              convert_options=pacsv.ConvertOptions(include_columns=keep,
                                                                   column_types={n: kind for n in keep}))
    try:
        table = read(pa.int64())
    except pa.ArrowInvalid:
        # Rows whose id or target do not parse are refused by the main pass anyway: leave them out here.
        table = read(pa.string())
        ok = [pc.match_substring_regex(table.column(n), r"^-?[0-9]{1,18}$") for n in keep]
        table = table.filter(pc.and_(*ok)).cast(pa.schema([(n, pa.int64()) for n in keep]))
    return table.column(keep[0]).to_numpy(), table.column(keep[1]).to_numpy()


def prepare_stream(source: BinaryIO, contract: DataContract, *, seed: int, test_fraction: float, out_dir: Path,
                   source_name: str = "input", chunk_bytes: int = CHUNK_BYTES, cutoffs: dict | None = None) -> Prepared:
    """Check, clean and split `source` into out_dir/train.<fmt> and out_dir/test.<fmt> (+ quarantine.csv).

    Raises ContractViolation, leaving nothing in out_dir, when the file breaks the contract beyond its row policy.
    split.method quota without given `cutoffs` is still one pass: rows whose hash lies in a band around
    test_fraction * 2**64 wait in a staging file until the per-class cutoffs are known at the end; only when a
    cutoff falls outside the band (small files) is the (seekable) source read a second time with them.
    """
    if cutoffs is None and contract.split_method == "hash":
        cutoffs = class_cutoffs(np.empty(0), np.array([0, 1]), seed=seed, test_fraction=test_fraction, method="hash")
    start = source.tell()
    try:
        return _attempt(source, contract, seed, test_fraction, out_dir, source_name, chunk_bytes, cutoffs)
    except _OutsideBand as outside:
        source.seek(start)
        return _attempt(source, contract, seed, test_fraction, out_dir, source_name, chunk_bytes, outside.cutoffs)


class _OutsideBand(Exception):
    def __init__(self, cutoffs: dict) -> None:
        super().__init__("a per-class cutoff fell outside the band")
        self.cutoffs = cutoffs


@dataclass(frozen=True)
class _Band:
    """Hash range whose rows wait for the per-class cutoffs: +-BAND around test_fraction * 2**64. At 595,212 rows
    it is ~7 standard deviations of the positive class's cutoff and holds ~4% of the rows."""

    low: np.uint64
    high: np.uint64

    @classmethod
    def around(cls, test_fraction: float) -> _Band:
        centre, width = test_fraction * 2.0**64, BAND * 2.0**64
        return cls(np.uint64(max(centre - width, 0)), np.uint64(min(centre + width, 2.0**64 - 4096)))

    def holds(self, cutoffs: dict) -> bool:
        return all(int(self.low) <= c <= int(self.high) for c in cutoffs.values())


def _attempt(source, contract, seed, test_fraction, out_dir, source_name, chunk_bytes, cutoffs) -> Prepared:
    out_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    suffix = contract.output_format
    final = {"train": out_dir / f"train.{suffix}", "test": out_dir / f"test.{suffix}",
             "quarantine": out_dir / "quarantine.csv", "band": out_dir / "band.parquet"}
    staging = {name: path.with_name(path.name + ".partial") for name, path in final.items()}
    schema = output_schema(contract)
    writers = {side: OutputWriter(staging[side], contract.output_format, schema) for side in ("train", "test")}
    band = None
    if cutoffs is None:
        band = _Band.around(test_fraction)
        writers["band"] = OutputWriter(staging["band"], "parquet", schema)
    quarantine_file = open(staging["quarantine"], "w", newline="", encoding="utf-8")
    quarantine = csv.writer(quarantine_file)
    quarantine.writerow(QUARANTINE_FIELDS)
    committed = False
    try:
        stats = _run(source, contract, seed, test_fraction, cutoffs, band, source_name, chunk_bytes, digest,
                     writers, quarantine, staging["band"])
        for writer in writers.values():
            writer.close()
        quarantine_file.close()
        # Commit: the renames happen only after every check passed; the quarantine file only when it has rows.
        for side in ("train", "test"):
            os.replace(staging[side], final[side])
        if stats["quarantined"]:
            os.replace(staging["quarantine"], final["quarantine"])
        committed = True
    finally:
        for writer in writers.values():
            writer.close()
        quarantine_file.close()
        for path in staging.values():
            path.unlink(missing_ok=True)
        if not committed:
            for path in final.values():
                path.unlink(missing_ok=True)
    return Prepared(sha256=digest.hexdigest(), train_path=final["train"], test_path=final["test"],
                    quarantine_path=final["quarantine"] if stats["quarantined"] else None, **stats)


def _run(source, contract, seed, test_fraction, cutoffs, band, source_name, chunk_bytes, digest, writers, quarantine,
         band_path) -> dict:
    width, delimiter = len(contract.names), contract.delimiter.encode()
    target = contract.target_column
    tally, sides = _Tally(), {"train": Side(), "test": Side()}
    ids, lines_of_ids, all_labels = [], [], []
    # Kept for the whole file: a byte a row for the label when the contract's label values allow it.
    values = contract.column(target).values
    label_dtype = np.int8 if values and all(-128 <= v < 128 for v in values) else np.int64
    total_bytes = rows_read = 0
    next_line = 1
    header_done = False
    # The next chunk's typed CSV parse runs on a worker thread (pyarrow releases the GIL) while this one is
    # checked, split and written; only the first chunk, which carries the header, is parsed in line.
    pool, ahead = ThreadPoolExecutor(max_workers=1), None
    try:
        for chunk, following in _lookahead(_chunks(source, chunk_bytes, digest)):
            parsed, ahead = ahead, (pool.submit(_parse, following, contract, typed=True) if following else None)
            total_bytes += len(chunk)
            if not header_done:
                offset, _ = check_head(chunk, contract, source=source_name)
                chunk, next_line, header_done = chunk[offset:], 2, True
            first_line, newlines = next_line, chunk.count(b"\n")
            next_line += newlines
            if (problem := utf8_problem(chunk, first_line=first_line)) is not None:
                fail(source_name, [problem], contract)
            if not _NON_BLANK.search(chunk):  # blank lines only (strip() would copy 8 MB to find out)
                continue
            table, ragged = parsed.result() if parsed is not None else _parse(chunk, contract, typed=True)
            findings: list[Finding] = []
            if table is None:  # some cell did not parse: read as text to say which, keep the rest
                text, ragged = _parse(chunk, contract, typed=False)
                table, findings = typed_from_text(text, contract)
            findings += row_findings(table, contract)
            expected = newlines + (0 if chunk.endswith(b"\n") else 1)
            if findings or ragged or table.num_rows != expected:
                row_lines, ragged_lines, raw_lines = _line_numbers(chunk, first_line, width, delimiter)
            else:  # one row per line: no scan needed
                row_lines, ragged_lines, raw_lines = np.arange(first_line, first_line + table.num_rows), [], None
            rows_read += table.num_rows + len(ragged_lines)
            if ragged_lines:
                what = f"the row does not have {width} fields"
                fix = f"give every row exactly {width} '{contract.delimiter}'-separated values (look for stray or missing delimiters)"
                tally.add(("", "field_count"), what, fix, None, np.asarray(ragged_lines))
                for line in ragged_lines:
                    quarantine.writerow([line, "", "field_count", "", what, fix, _raw(raw_lines, line, first_line)])
            bad = bad_row_mask(table.num_rows, findings)
            tally.bad_rows += int(bad.sum()) + len(ragged_lines)
            records = []
            for finding in findings:
                tally.add((finding.column, finding.rule), finding.what, finding.fix, finding.column, row_lines[finding.rows])
                if contract.policy == "quarantine":
                    for row, value in zip(finding.rows.tolist(), finding.values(table)):
                        line = int(row_lines[row])
                        records.append([line, finding.column, finding.rule, value, finding.what, finding.fix,
                                        _raw(raw_lines, line, first_line)])
            quarantine.writerows(sorted(records, key=lambda r: r[0]))  # file order (stable: column order within a line)
            good = table.filter(pa.array(~bad)) if bad.any() else table
            if good.num_rows == 0:
                continue
            row_ids = good.column(contract.id_column).to_numpy()
            labels = good.column(target).to_numpy()
            ids.append(row_ids)
            all_labels.append(labels.astype(label_dtype))
            lines_of_ids.append((row_lines[~bad] if bad.any() else row_lines).astype(np.int32))
            cleaned = clean(good, contract)
            if band is None:
                route = (~in_test_by_class(row_ids, labels, seed, cutoffs)).astype(np.int8)  # 0 test, 1 train
            else:
                hashes = keyed_hash(row_ids, seed)
                route = np.where(hashes < band.low, 0, np.where(hashes >= band.high, 1, 2)).astype(np.int8)  # 2 waits
            _write_routed(cleaned, route, writers)
    finally:
        pool.shutdown(cancel_futures=True)
    if not header_done:
        check_head(b"", contract, source=source_name)
    if rows_read == 0:
        fail(source_name, [NO_ROWS], contract)
    all_ids = np.concatenate(ids) if ids else np.empty(0, dtype=np.int64)
    all_lines = np.concatenate(lines_of_ids) if ids else np.empty(0, dtype=np.int64)
    if problem := _duplicate_ids(all_ids, all_lines, contract):
        fail(source_name, [problem, *tally.as_problems()], contract)
    _apply_policy(tally, rows_read, contract, source_name)
    labels = np.concatenate(all_labels) if all_labels else np.empty(0, dtype=np.int64)
    if band is not None:
        # Exact per-class quotas over the accepted rows, now that the classes are known.
        cutoffs = class_cutoffs(all_ids, labels, seed=seed, test_fraction=test_fraction, method="quota")
        if not band.holds(cutoffs):
            raise _OutsideBand(cutoffs)
        writers["band"].close()
        for batch in pq.ParquetFile(band_path).iter_batches():
            waiting = pa.Table.from_batches([batch])
            mask = in_test_by_class(waiting.column(contract.id_column).to_numpy(),
                                    waiting.column(target).to_numpy(), seed, cutoffs)
            writers["test"].write(waiting.filter(pa.array(mask)))
            writers["train"].write(waiting.filter(pa.array(~mask)))
    flags = in_test_by_class(all_ids, labels, seed, cutoffs)
    for side, mask in (("test", flags), ("train", ~flags)):
        sides[side].rows, sides[side].positives = int(mask.sum()), int(labels[mask].sum())
    accepted = int(all_ids.size)
    return {"bytes": total_bytes, "rows": rows_read, "accepted": accepted, "quarantined": rows_read - accepted,
            "columns": contract.output_names(), "train": sides["train"].as_dict(all_ids[~flags]),
            "test": sides["test"].as_dict(all_ids[flags]),
            "input_positive_rate": int(labels.sum()) / accepted if accepted else 0.0}


def _write_routed(table: pa.Table, route: np.ndarray, writers: dict) -> None:
    """One gather in route order, then contiguous slices: cheaper than a boolean filter per destination."""
    order = np.argsort(route, kind="stable")  # stable: each side keeps the file's row order
    counts = np.bincount(route, minlength=3)
    gathered = table.take(pa.array(order))
    offset = 0
    for side, count in zip(("test", "train", "band"), counts.tolist()):
        if count:
            writers[side].write(gathered.slice(offset, count))
        offset += count


def _raw(raw_lines: list[bytes] | None, line: int, first_line: int) -> str:
    if raw_lines is None:
        return ""
    return raw_lines[line - first_line].rstrip(b"\r").decode("utf-8", "replace")


def _duplicate_ids(ids: np.ndarray, lines: np.ndarray, contract: DataContract) -> Problem | None:
    # File-level on purpose: which copy of a repeated id is right cannot be decided here, and the id is the
    # split key and the lineage key, so a file with repeated ids is rejected whatever the row policy.
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return None
    repeated = np.unique(ordered[1:][same])
    rows = np.unique(np.concatenate([order[1:][same], order[:-1][same]]))
    dup_lines = np.sort(lines[rows])
    return Problem(f"ids are not unique: {repeated.size} id value(s) repeat, e.g. id {int(repeated[0])}",
                   "each row is one policy: drop the repeated rows or correct their ids (a file with repeated ids "
                   "is rejected whatever the row policy)", column=contract.id_column,
                   lines=tuple(int(x) for x in dup_lines[:EXAMPLE_LINES]), count=int(dup_lines.size))


def _apply_policy(tally: _Tally, rows: int, contract: DataContract, source: str) -> None:
    if not tally.bad_rows:
        return
    share = tally.bad_rows / rows
    if contract.policy == "reject":
        fail(source, tally.as_problems(), contract, note=" (rows.policy is reject: one bad row rejects the file)")
    if share > contract.max_quarantined_share:
        fail(source, tally.as_problems(), contract,
             note=f"; {tally.bad_rows} of {rows} rows ({share:.2%}) break it, more than the "
                  f"{contract.max_quarantined_share:.2%} the quarantine policy sets aside "
                  "(rows.max_quarantined_share), so the whole file is rejected")
