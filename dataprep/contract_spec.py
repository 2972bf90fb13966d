"""The data contract as typed records: read from spec/factory.yaml (`data_contract:`) or from the compact JSON the
generator renders into the prepare activity's `data_contract` baseParameter (how it reaches Databricks).

The JSON form is canonical (sorted keys, no spaces) so the same spec always renders the same parameter bytes,
and `make diff` shows a contract change as a change of that parameter.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from dataprep.errors import ParameterError

SPEC_PATH = Path(__file__).resolve().parent.parent / "spec" / "factory.yaml"
KINDS = ("id", "label", "bin", "cat", "ordinal", "continuous")
TYPES = ("int64", "float64")
_NOT_NAME = re.compile(r"[^0-9a-z]+")


def normalize_name(name: str) -> str:
    """Trimmed, lower-case, every run of non-alphanumerics as one '_' (what the original sample did, made stable)."""
    return _NOT_NAME.sub("_", name.strip().lower()).strip("_")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    kind: str
    min: float | None = None
    max: float | None = None
    values: tuple[int, ...] | None = None
    missing: bool = False  # the missing code is allowed


@dataclass(frozen=True)
class DataContract:
    name: str
    columns: tuple[Column, ...]
    id_column: str = "id"
    target_column: str = "target"
    missing_code: int = -1
    delimiter: str = ","
    encoding: str = "utf-8"
    compression: str = "none"
    policy: str = "reject"
    max_quarantined_share: float = 0.0
    normalize_names: bool = True
    missing_to_null: tuple[str, ...] = ()
    drop_columns: tuple[str, ...] = ()
    output_format: str = "parquet"
    split_method: str = "hash"

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        problems = []
        if len(set(names)) != len(names):
            problems.append("column names repeat")
        for role in (self.id_column, self.target_column):
            if role not in names:
                problems.append(f"{role!r} is not one of the columns")
        for column in self.columns:
            if column.type not in TYPES or column.kind not in KINDS:
                problems.append(f"{column.name}: type must be one of {TYPES} and kind one of {KINDS}")
        if self.policy not in ("reject", "quarantine") or not 0 <= self.max_quarantined_share <= 1:
            problems.append("rows.policy must be reject or quarantine, max_quarantined_share in [0, 1]")
        if self.split_method not in ("hash", "quota"):
            problems.append("split.method must be hash or quota")
        if self.output_format not in ("parquet", "csv"):
            problems.append("cleaning.output_format must be parquet or csv")
        kept = {self.id_column, self.target_column} & set(self.dropped())
        if kept:
            problems.append(f"cleaning.drop_columns would drop {sorted(kept)}, which the split needs")
        if problems:
            raise ParameterError(f"data contract {self.name!r} is invalid: " + "; ".join(problems)
                                 + " (fix data_contract: in spec/factory.yaml)")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def dropped(self) -> list[str]:
        return [n for n in self.names if any(fnmatch.fnmatchcase(n, g) for g in self.drop_columns)]

    def nulled(self) -> list[str]:
        return [c.name for c in self.columns if c.missing
                and any(fnmatch.fnmatchcase(c.name, g) for g in self.missing_to_null)]

    def output_names(self) -> list[str]:
        dropped = set(self.dropped())
        return [n for n in self.names if n not in dropped]

    # --- spec section <-> records <-> compact JSON ---------------------------------------------------------

    @classmethod
    def from_spec(cls, section: dict) -> DataContract:
        f, rows, cleaning = section["file"], section["rows"], section["cleaning"]
        columns = tuple(Column(name=c["name"], type=c["type"], kind=c["kind"], min=c.get("min"), max=c.get("max"),
                               values=tuple(c["values"]) if "values" in c else None,
                               missing=bool(c.get("missing", False))) for c in section["columns"])
        return cls(name=section["name"], columns=columns, id_column=section["id_column"],
                   target_column=section["target_column"], missing_code=int(section["missing_code"]),
                   delimiter=f["delimiter"], encoding=f["encoding"], compression=f["compression"],
                   policy=rows["policy"], max_quarantined_share=float(rows["max_quarantined_share"]),
                   normalize_names=bool(cleaning["normalize_names"]),
                   missing_to_null=tuple(cleaning["missing_to_null"]), drop_columns=tuple(cleaning["drop_columns"]),
                   output_format=cleaning["output_format"],
                   split_method=section.get("split", {}).get("method", "hash"))

    def to_spec(self) -> dict:
        def column(c: Column) -> dict:
            out = {"name": c.name, "type": c.type, "kind": c.kind}
            out.update({k: v for k, v in (("min", c.min), ("max", c.max)) if v is not None})
            if c.values is not None:
                out["values"] = list(c.values)
            if c.missing:
                out["missing"] = True
            return out
        return {
            "name": self.name,
            "file": {"encoding": self.encoding, "delimiter": self.delimiter, "compression": self.compression,
                     "header": True},
            "missing_code": self.missing_code, "id_column": self.id_column, "target_column": self.target_column,
            "rows": {"policy": self.policy, "max_quarantined_share": self.max_quarantined_share},
            "cleaning": {"normalize_names": self.normalize_names, "missing_to_null": list(self.missing_to_null),
                         "drop_columns": list(self.drop_columns), "output_format": self.output_format},
            "split": {"method": self.split_method},
            "columns": [column(c) for c in self.columns],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_spec(), sort_keys=True, separators=(",", ":"))

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    @property
    def schema_sha256(self) -> str:
        """sha256 of the input schema alone (column names and types, in order): equal schemas, equal hashes."""
        schema = [[c.name, c.type] for c in self.columns]
        return hashlib.sha256(json.dumps(schema, separators=(",", ":")).encode()).hexdigest()

    @classmethod
    def from_json(cls, text: str) -> DataContract:
        try:
            return cls.from_spec(json.loads(text))
        except (ValueError, KeyError, TypeError) as exc:
            raise ParameterError(f"widget 'data_contract' is not a data contract ({type(exc).__name__}: {exc}); "
                                 "pass the JSON the generator renders from spec/factory.yaml") from None


def load_contract(path: str | Path = SPEC_PATH) -> DataContract:
    """The contract of the spec file (PyYAML only; the spec's schema is checked by `make validate`)."""
    import yaml  # local: the Databricks path gets JSON and needs no YAML

    return DataContract.from_spec(yaml.safe_load(Path(path).read_text(encoding="utf-8"))["data_contract"])
