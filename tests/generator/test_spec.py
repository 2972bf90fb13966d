"""The spec loader: valid spec loads; every error names file, line, key and a fix."""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import SpecErrors
from generator.spec import DEFAULT_SPEC, load_spec

SPEC_TEXT = DEFAULT_SPEC.read_text()


def write_spec(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "factory.yaml"
    path.write_text(text)
    return path


def line_of(text: str, needle: str, start: int = 0) -> int:
    return text[: text.index(needle, start)].count("\n") + 1


def errors_for(tmp_path: Path, text: str) -> list:
    with pytest.raises(SpecErrors) as info:
        load_spec(write_spec(tmp_path, text))
    return info.value.errors


def test_the_committed_spec_is_valid():
    spec = load_spec()
    assert sorted(spec.environments) == ["dev", "local", "prod", "qa"]
    assert spec.environment("local")["target"] == "local"


def test_wrong_type_names_file_line_key_and_fix(tmp_path):
    text = SPEC_TEXT.replace("poll_interval_seconds: 60\n", "poll_interval_seconds: sixty\n", 1)
    [error] = errors_for(tmp_path, text)
    assert error.key == "environments.dev.poll_interval_seconds"
    assert error.line == line_of(text, "poll_interval_seconds: sixty")
    assert error.file.endswith("factory.yaml")
    assert "integer" in error.problem and "integer" in error.fix


def test_unknown_key_lists_the_allowed_keys(tmp_path):
    text = SPEC_TEXT.replace("  qa:\n    target: azure\n", "  qa:\n    target: azure\n    colour: blue\n")
    [error] = errors_for(tmp_path, text)
    assert error.key == "environments.qa.colour"
    assert error.line == line_of(text, "colour: blue")
    assert "factory_name" in error.fix


def test_duplicate_key_is_an_error_naming_both_lines(tmp_path):
    text = SPEC_TEXT.replace("    factory_name: adf-porto-qa\n",
                             "    factory_name: adf-porto-qa\n    factory_name: adf-porto-qa2\n")
    [error] = errors_for(tmp_path, text)
    assert error.key == "factory_name"
    assert error.line == line_of(text, "factory_name: adf-porto-qa2")
    assert f"first on line {line_of(text, 'factory_name: adf-porto-qa')}" in error.problem


def test_missing_environment_value_says_what_to_add(tmp_path):
    text = SPEC_TEXT.replace("      workspace: mlw-porto-prod\n", "")
    [error] = errors_for(tmp_path, text)
    assert error.key == "environments.prod.azure_ml"
    assert "add `workspace:`" in error.fix


def test_cross_field_rules(tmp_path):
    text = SPEC_TEXT.replace("authoring_environment: dev", "authoring_environment: staging")
    text = text.replace("  container: input\n", "  container: landing\n", 1)
    keys = {e.key for e in errors_for(tmp_path, text)}
    assert keys == {"authoring_environment", "trigger.container"}


def test_invalid_names_are_rejected_with_the_rule(tmp_path):
    text = SPEC_TEXT.replace("    training: training ", "    training: Training_Data ")
    [error] = errors_for(tmp_path, text)
    assert error.key == "storage.containers.training"
    assert "lowercase" in error.fix


def test_yaml_syntax_error_points_at_the_line(tmp_path):
    text = SPEC_TEXT.replace("  name: PrepareAndTrain\n", "  name: [PrepareAndTrain\n")
    [error] = errors_for(tmp_path, text)
    assert error.key == "<yaml>" and error.line is not None


def test_unknown_environment_lists_the_known_ones():
    with pytest.raises(Exception, match=r"use one of: dev, local, prod, qa"):
        load_spec().environment("staging")
