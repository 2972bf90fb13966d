"""Where a run reads and writes: pure URL arithmetic, no storage calls."""
from __future__ import annotations

import re
from dataclasses import dataclass

from dataprep.errors import ParameterError

# ADF run ids are GUIDs; anything path-like (slashes, "..") would let one run write into another's folder.
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class Containers:
    training: str
    testing: str
    rejected: str
    archive: str


@dataclass(frozen=True)
class RunLayout:
    account_url: str
    containers: Containers
    pipeline_run_id: str
    file_name: str
    output_format: str = "parquet"

    def __post_init__(self) -> None:
        if not _RUN_ID.match(self.pipeline_run_id) or ".." in self.pipeline_run_id:
            raise ParameterError(f"pipeline_run_id {self.pipeline_run_id!r} is not a plain run id "
                                 "(letters, digits, '.', '_', '-'); pass ADF's @pipeline().RunId")
        if not self.file_name or "/" in self.file_name:
            raise ParameterError(f"input file name {self.file_name!r} is empty or contains '/'")

    def _url(self, container: str, *parts: str) -> str:
        return "/".join([self.account_url.rstrip("/"), container, *parts])

    @property
    def training_folder(self) -> str:
        return self._url(self.containers.training, self.pipeline_run_id)

    @property
    def testing_folder(self) -> str:
        return self._url(self.containers.testing, self.pipeline_run_id)

    @property
    def train(self) -> str:
        return f"{self.training_folder}/train.{self.output_format}"

    @property
    def test(self) -> str:
        return f"{self.testing_folder}/test.{self.output_format}"

    @property
    def manifest(self) -> str:
        return self._url(self.containers.archive, "runs", self.pipeline_run_id, "manifest.json")

    def archived_input(self, sha256: str) -> str:
        """Content-addressed: the same bytes delivered twice map to one object."""
        return self._url(self.containers.archive, "inputs", "sha256", f"{sha256}.csv")

    def archived_contract(self, sha256: str) -> str:
        """The data contract a run applied, content-addressed so that a reproduction reads the same rules."""
        return self._url(self.containers.archive, "contracts", "sha256", f"{sha256}.json")

    @property
    def rejected(self) -> str:
        return self._url(self.containers.rejected, self.pipeline_run_id, self.file_name)

    @property
    def rejected_reason(self) -> str:
        return f"{self.rejected}.reason.json"

    @property
    def quarantine(self) -> str:
        """Rows set aside from an accepted file, beside where the file would be rejected, one reason a line."""
        return f"{self.rejected}.quarantine.csv"


def input_blob_url(account_url: str, folder_path: str, file_name: str) -> str:
    """The blob an ADF storage event names: folderPath is "<container>/<folder>" (no leading slash, no /blobs/)."""
    folder = folder_path.strip("/")
    if not folder:
        raise ParameterError("input_folder_path is empty; map it from @triggerBody().folderPath (<container>/<folder>)")
    if not file_name or "/" in file_name:
        raise ParameterError(f"input_file_name {file_name!r} is empty or contains '/'; "
                             "map it from @triggerBody().fileName")
    return f"{account_url.rstrip('/')}/{folder}/{file_name}"
