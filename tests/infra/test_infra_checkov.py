"""checkov against terraform/checkov-skips.yaml: unlisted failures and stale skips both fail."""
from __future__ import annotations

import json

import pytest

from infra import checkov
from infra.checkov import Failure, Skip, evaluate, load_skips
from tests.infra.conftest import FIXTURES


def failure(check_id="CKV_AZURE_59", environment="dev", resource="azurerm_storage_account.data") -> Failure:
    return Failure(environment, check_id, "Ensure that Storage accounts disallow public access", resource,
                   "terraform/modules/environment/main.storage.tf", 3)


def test_a_failure_without_a_skip_is_a_problem_that_says_how_to_list_it():
    [problem] = evaluate([failure()], [])
    assert str(problem) == (
        "terraform/modules/environment/main.storage.tf:3: azurerm_storage_account.data CKV_AZURE_59 (dev): "
        "checkov: Ensure that Storage accounts disallow public access\n"
        "  fix: fix the resource, or add `- id: CKV_AZURE_59` with a reason to checkov-skips.yaml (scope it with "
        "environments:/resources: if it only applies there)")


def test_a_skip_scoped_to_environments_and_resources_covers_only_those():
    skip = Skip("CKV_AZURE_59", "reason long enough to count", ("dev",), ("azurerm_storage_account.data",))
    assert evaluate([failure()], [skip]) == []
    assert "(qa)" in str(evaluate([failure(environment="qa"), failure()], [skip])[0])
    assert "azurerm_storage_account.ml" in str(evaluate([failure(resource="azurerm_storage_account.ml"), failure()],
                                                        [skip])[0])


def test_a_skip_that_matches_nothing_is_stale():
    [problem] = evaluate([], [Skip("CKV_AZURE_1", "reason long enough to count")])
    assert "skips[0] (CKV_AZURE_1): matches no failed check any more" in str(problem)


def test_skips_need_a_check_id_and_a_reason(tmp_path):
    path = tmp_path / "skips.yaml"
    path.write_text("skips:\n  - id: CKV_AZURE_59\n    reason: todo\n  - id: storage-public\n    reason: x\n"
                    "  - id: CKV2_AZURE_1\n    environments: [dev]\n    reason: Microsoft-managed keys by decision.\n")
    skips, problems = load_skips(path)
    assert [str(p).split(": ", 1)[1] for p in problems] == [
        "skips[0] (CKV_AZURE_59): has no real reason\n  fix: say why the check does not apply or what replaces it",
        "skips[1]: id 'storage-public' is not a checkov check id\n  fix: use the id checkov prints, e.g. CKV_AZURE_59"]
    assert skips[-1] == Skip("CKV2_AZURE_1", "Microsoft-managed keys by decision.", ("dev",), None)


def test_the_real_skips_file_gives_every_skip_a_reason():
    skips, problems = load_skips()
    assert problems == [] and len(skips) >= 10


def test_a_recorded_checkov_report_is_read_with_module_addresses_and_project_paths():
    from infra.hcl import PROJECT_ROOT

    report = json.loads((FIXTURES / "checkov-dev-report.json").read_text())
    failures, parsing_errors, resources = checkov._failures(report, PROJECT_ROOT / "terraform" / "environments" / "dev")
    assert (parsing_errors, resources) == (0, 35)
    assert failures[0] == Failure("dev", "CKV_AZURE_59", "Ensure that Storage accounts disallow public access",
                                  "azurerm_storage_account.ml", "terraform/modules/environment/main.machinelearning.tf", 3)
    assert {f.check_id for f in failures} == {"CKV_AZURE_59", "CKV_AZURE_206"}


def test_a_missing_checkov_says_how_to_install_it(tmp_path):
    [problem] = checkov.run([tmp_path], tmp_path / "no-checkov")
    assert "checkov is not installed" in str(problem)
    assert f"pip install checkov=={checkov.CHECKOV_VERSION}" in str(problem)


needs_checkov = pytest.mark.skipif(not checkov.CHECKOV_BIN.exists(),
                                   reason="needs .venv-checkov (make infra-validate creates it; make test runs it first)")


@needs_checkov
def test_an_empty_scan_is_not_a_pass(tmp_path):
    (tmp_path / "skips.yaml").write_text("skips: []\n")
    [problem] = checkov.run([tmp_path], skips_file=tmp_path / "skips.yaml")
    assert "checkov found no resources to scan" in str(problem)


@needs_checkov
def test_real_checkov_fails_on_a_weakened_resource_and_passes_the_real_one(tf):
    qa = tf.terraform / "environments" / "qa"
    skips = tf.terraform / "checkov-skips.yaml"
    assert checkov.run([qa], skips_file=skips) == []
    tf.edit("modules/environment/main.storage.tf", 'min_tls_version                 = "TLS1_2"',
            'min_tls_version                 = "TLS1_0"')
    problems = [str(p) for p in checkov.run([qa], skips_file=skips)]
    assert len(problems) == 1, "\n".join(problems)
    assert "azurerm_storage_account.data CKV_AZURE_44 (qa): checkov: Ensure Storage Account is using the latest" in problems[0]
