"""The release pipelines as code (.github/workflows/ and .pipelines/) keep the same stages and call only make
targets that exist. Each check is also fed a deliberately broken copy, so none of them can pass vacuously."""
from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import pytest

from tests.release.pipelines import (
    AZURE,
    ENVIRONMENTS,
    GITHUB,
    ROOT,
    azure_jobs,
    azure_path_filters,
    azure_units,
    check_cd,
    check_cd_trigger_paths,
    check_ci,
    check_targets_exist,
    github_triggers,
    github_units,
    load,
    make_calls,
    makefile_targets,
    yaml_files,
    yamllint_problems,
)

SYSTEMS = ("github", "azure")


def ci_units(system: str, root: Path = ROOT):
    if system == "github":
        return github_units(load(root / ".github/workflows/ci.yml"), root)
    return azure_jobs(azure_units(load(root / ".pipelines/ci.yml"), root / ".pipelines/ci.yml"))


def cd_units(system: str, root: Path = ROOT):
    if system == "github":
        return github_units(load(root / ".github/workflows/cd.yml"), root)
    return azure_units(load(root / ".pipelines/cd.yml"), root / ".pipelines/cd.yml")


@pytest.fixture
def copy_of_repo(tmp_path):
    """The pipeline trees and the Makefile in a scratch folder, to break on purpose."""
    for name in (".github", ".pipelines"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    return tmp_path


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert text.count(old) >= count, f"{path}: {old!r} not found; the broken copy no longer breaks anything"
    path.write_text(text.replace(old, new))


# --- the pipelines as they are ---------------------------------------------------------------------------------

@pytest.mark.parametrize("system", SYSTEMS)
def test_ci_runs_lint_tests_generate_without_diff_validate_and_posts_the_diff(system):
    assert check_ci(ci_units(system), system) == []


@pytest.mark.parametrize("system", SYSTEMS)
def test_cd_deploys_dev_then_qa_then_prod_each_with_deploy_smoke_integration_test(system):
    assert check_cd(cd_units(system), system) == []


@pytest.mark.parametrize("system", SYSTEMS)
def test_every_make_target_the_pipelines_call_exists_in_the_makefile(system):
    targets = makefile_targets((ROOT / "Makefile").read_text())
    problems = check_targets_exist(ci_units(system), targets, f"{system} ci")
    problems += check_targets_exist(cd_units(system), targets, f"{system} cd")
    assert problems == []
    called = {c.target for units in (ci_units(system), cd_units(system)) for u in units.values()
              for script in u.scripts for c in make_calls(script)}
    assert {"bootstrap", "lint", "test", "generate", "validate", "diff", "deploy", "smoke",
            "integration-test"} <= called


def test_ci_runs_on_every_pull_request_to_main():
    on = github_triggers(load(GITHUB / "workflows/ci.yml"))
    assert set(on) == {"pull_request"}
    assert on["pull_request"]["branches"] == ["main"]
    assert "paths" not in on["pull_request"]  # a path-skipped workflow leaves required checks pending
    azure = load(AZURE / "ci.yml")
    assert azure["trigger"] == "none"
    assert azure["pr"]["branches"]["include"] == ["main"]
    assert "paths" not in azure["pr"]


def test_the_ci_jobs_are_named_as_the_readme_lists_the_required_checks():
    github = {u.raw.get("name", name) for name, u in ci_units("github").items()}
    azure = {u.raw.get("displayName", name) for name, u in ci_units("azure").items()}
    assert github == azure == {"lint", "test", "generated", "review-diff"}
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Release and branching policy"):]
    for check in github:
        assert f"`{check}`" in section


def test_cd_runs_on_main_for_changes_to_spec_notebooks_training_and_templates():
    on = github_triggers(load(GITHUB / "workflows/cd.yml"))
    assert on["push"]["branches"] == ["main"] and "workflow_dispatch" in on
    assert check_cd_trigger_paths(tuple(on["push"]["paths"]), "github") == []
    azure = load(AZURE / "cd.yml")
    assert azure["trigger"]["branches"]["include"] == ["main"] and azure["pr"] == "none"
    assert check_cd_trigger_paths(azure_path_filters(azure["trigger"]), "azure") == []


def test_github_deploy_jobs_are_bound_to_their_environment_never_overlap_and_use_oidc():
    workflow = load(GITHUB / "workflows/cd.yml")
    assert workflow["permissions"]["id-token"] == "write"
    assert workflow["jobs"]["verify"]["if"] == "github.ref == 'refs/heads/main'"
    for env, unit in ((u.environment, u) for u in cd_units("github").values() if u.environment):
        assert unit.name == env
        assert unit.raw["environment"] == env
        assert unit.raw["concurrency"] == {"group": f"deploy-{env}", "cancel-in-progress": False}
        assert unit.raw["caller"]["secrets"] == "inherit"  # environment secrets reach the called job


def test_azure_deploy_stages_use_deployment_jobs_their_variable_group_and_service_connection():
    for env in ENVIRONMENTS:
        stage = cd_units("azure")[f"deploy_{env}"]
        assert stage.variable_groups == (f"adf-mlops-{env}",)
        assert "refs/heads/main" in stage.raw["condition"]
        assert stage.raw["lockBehavior"] == "sequential"
        (job,) = stage.raw["jobs"]
        assert "deployment" in job and job["environment"] == env  # approvals only apply to deployment jobs
        connections = {s["inputs"]["azureSubscription"] for s in stage.steps if s.get("task") == "AzureCLI@2"}
        assert connections == {f"sc-adf-mlops-{env}"}


@pytest.mark.parametrize("system", SYSTEMS)
def test_deploy_steps_run_with_workload_identity_federation(system):
    wrapper = ".github/scripts/with-azure-oidc.sh" if system == "github" else ".pipelines/scripts/with-azure-wif.sh"
    assert (ROOT / wrapper).is_file()
    for unit in cd_units(system).values():
        for script in unit.scripts:
            for call in make_calls(script):
                if call.env in ENVIRONMENTS:
                    assert script.startswith(f"bash {wrapper} make "), script


def test_yamllint_passes_on_both_trees_with_the_repository_config():
    files = yaml_files(GITHUB, AZURE)
    assert {p.relative_to(ROOT).as_posix() for p in files} >= {
        ".github/workflows/ci.yml", ".github/workflows/cd.yml", ".github/workflows/deploy.yml",
        ".pipelines/ci.yml", ".pipelines/cd.yml", ".pipelines/templates/deploy-stage.yml"}
    assert yamllint_problems(files) == []


# --- deliberately broken copies --------------------------------------------------------------------------------

def test_swapping_qa_and_prod_in_github_is_caught(copy_of_repo):
    workflow = load(copy_of_repo / ".github/workflows/cd.yml")
    broken = copy.deepcopy(workflow)
    broken["jobs"]["qa"]["with"]["environment"], broken["jobs"]["prod"]["with"]["environment"] = "prod", "qa"
    problems = check_cd(github_units(broken, copy_of_repo), "github")
    assert any(re.search(r"prod \(qa\) does not wait for qa \(prod\)", p) for p in problems), problems


def test_reordering_azure_stages_is_caught(copy_of_repo):
    path = copy_of_repo / ".pipelines/cd.yml"
    edit(path, "environment: qa\n      dependsOn: deploy_dev", "environment: qa\n      dependsOn: deploy_prod")
    edit(path, "environment: prod\n      dependsOn: deploy_qa", "environment: prod\n      dependsOn: deploy_dev")
    problems = check_cd(azure_units(load(path), path), "azure")
    assert any("prod (deploy_prod) does not wait for qa (deploy_qa)" in p for p in problems), problems


def test_a_stage_that_loses_its_dependency_is_caught():
    units = cd_units("github")
    units["prod"].needs = ("verify",)
    assert any("prod (prod) does not wait for qa" in p for p in check_cd(units, "github"))


@pytest.mark.parametrize("system", SYSTEMS)
def test_smoke_before_deploy_is_caught(copy_of_repo, system):
    if system == "github":
        path = copy_of_repo / ".github/workflows/deploy.yml"
        edit(path, "make smoke ENV=", "make SWAP ENV=")
        edit(path, "make deploy ENV=${{ inputs.environment }}\n", "make smoke ENV=${{ inputs.environment }}\n")
        edit(path, "make SWAP ENV=", "make deploy ENV=")
    else:
        path = copy_of_repo / ".pipelines/templates/deploy-stage.yml"
        edit(path, "make smoke ENV=", "make SWAP ENV=")
        edit(path, "make deploy ENV=${{ parameters.environment }}\n", "make smoke ENV=${{ parameters.environment }}\n")
        edit(path, "make SWAP ENV=", "make deploy ENV=")
    problems = check_cd(cd_units(system, copy_of_repo), system)
    dev = "dev" if system == "github" else "deploy_dev"
    assert f"{system}: {dev} does not run `make smoke ENV=dev` after deploy; expected deploy -> smoke -> " \
           "integration-test" in problems, problems


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_deploy_stage_that_smokes_another_environment_is_caught(copy_of_repo, system):
    if system == "github":
        edit(copy_of_repo / ".github/workflows/deploy.yml", "make smoke ENV=${{ inputs.environment }}",
             "make smoke ENV=dev")
    else:
        edit(copy_of_repo / ".pipelines/templates/deploy-stage.yml", "make smoke ENV=${{ parameters.environment }}",
             "make smoke ENV=dev")
    problems = check_cd(cd_units(system, copy_of_repo), system)
    assert any("(environment qa) runs `make smoke` with ENV=dev" in p for p in problems), problems
    assert any("runs `make smoke ENV=dev` outside the unit bound to environment dev" in p for p in problems)


def test_deploying_prod_from_a_job_without_the_prod_environment_is_caught(copy_of_repo):
    path = copy_of_repo / ".github/workflows/cd.yml"
    edit(path, "        run: make infra-validate\n", "        run: make infra-validate && make deploy ENV=prod\n")
    problems = check_cd(cd_units("github", copy_of_repo), "github")
    assert problems == ["github: verify runs `make deploy ENV=prod` outside the unit bound to environment prod "
                        "(which holds its approvals and secrets)"]


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_pipeline_calling_a_target_the_makefile_lacks_is_caught(copy_of_repo, system):
    edit(copy_of_repo / (".github/workflows/ci.yml" if system == "github" else ".pipelines/ci.yml"),
         "make lint", "make lint-everything")
    targets = makefile_targets((copy_of_repo / "Makefile").read_text())
    problems = check_targets_exist(ci_units(system, copy_of_repo), targets, "ci")
    assert len(problems) == 1 and "runs `make lint-everything`, which is not a target in the Makefile" in problems[0]
    assert "no job runs `make lint`" in check_ci(ci_units(system, copy_of_repo), "ci")[0]


@pytest.mark.parametrize("system", SYSTEMS)
def test_generate_without_the_git_diff_check_is_caught(copy_of_repo, system):
    edit(copy_of_repo / (".github/workflows/ci.yml" if system == "github" else ".pipelines/ci.yml"),
         "git diff --exit-code", "git diff --stat")
    assert check_ci(ci_units(system, copy_of_repo), "ci") == [
        "ci: no job runs `git diff --exit-code` after `make generate`"]


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_diff_nobody_sees_is_caught(copy_of_repo, system):
    if system == "github":
        edit(copy_of_repo / ".github/workflows/ci.yml", 'cat make-diff.md >> "$GITHUB_STEP_SUMMARY"', "true")
    else:
        edit(copy_of_repo / ".pipelines/ci.yml", "##vso[task.uploadsummary]", "summary at ")
    assert check_ci(ci_units(system, copy_of_repo), "ci") == [
        "ci: the job running `make diff` does not publish it for reviewers (summary and comment/artifact)"]


def test_a_trigger_that_ignores_the_notebooks_is_caught():
    assert check_cd_trigger_paths(("spec/**", "training/", "templates"), "x") == [
        "x: the trigger's path filter misses notebooks/"]


def test_yamllint_catches_a_broken_copy(copy_of_repo):
    path = copy_of_repo / ".github/workflows/ci.yml"
    edit(path, "    runs-on: ubuntu-24.04\n", "    runs-on:   ubuntu-24.04   \n")
    problems = yamllint_problems([path])
    assert any("trailing spaces (trailing-spaces)" in p for p in problems), problems
    assert any("too many spaces after colon (colons)" in p for p in problems), problems


# --- the parsers the checks stand on ---------------------------------------------------------------------------

@pytest.mark.parametrize(("script", "expected"), [
    ("make lint", [("lint", ())]),
    ("bash w.sh make deploy ENV=qa DRY_RUN=1", [("deploy", (("ENV", "qa"), ("DRY_RUN", "1")))]),
    ("make --no-print-directory diff BASE=HEAD^1 JSON=1 > out.json 2>&1",
     [("diff", (("BASE", "HEAD^1"), ("JSON", "1")))]),
    ("make generate && git diff --exit-code; make \\\n  validate", [("generate", ()), ("validate", ())]),
    ('echo "make diff" # make nothing', []),
    ("test -z x || make -C . smoke ENV=dev", [("smoke", (("ENV", "dev"),))]),
])
def test_make_calls_finds_targets_and_variables(script, expected):
    assert [(c.target, c.variables) for c in make_calls(script)] == expected


def test_makefile_targets_are_rules_not_variables_or_files():
    text = ("ENV ?= local\nSHELL := /bin/bash\nexport PYTHONPATH := $(CURDIR)\n.PHONY: a b\n"
            "$(VENV)/.installed: requirements.txt\n\t@echo x: y\nbuild test: deps ## two at once\nlint:\n")
    assert makefile_targets(text) == {"build", "test", "lint"}
    assert {"lint", "deploy", "smoke", "integration-test", "diff"} <= makefile_targets((ROOT / "Makefile").read_text())
