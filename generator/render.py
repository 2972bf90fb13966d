"""Render the ADF objects of one environment, and the Azure ML training config, from the spec through the
Jinja2 templates."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2

from generator.errors import GeneratorError
from generator.layout import FactoryObject
from generator.spec import Spec

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "adf"

_jinja = jinja2.Environment(
    # ADF templates by their path under templates/adf; others (azureml/...) by their path under templates/.
    loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES), jinja2.FileSystemLoader(TEMPLATES.parent)]),
    undefined=jinja2.StrictUndefined,  # a spec key the template needs but the spec lacks is an error, not ""
    keep_trailing_newline=True,
    autoescape=False,
)


def _render(template: str, **context: Any) -> dict:
    text = _jinja.get_template(template).render(**context)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = template if template.startswith("azureml/") else f"adf/{template}"
        raise GeneratorError(f"templates/{where} rendered invalid JSON at line {exc.lineno}: {exc.msg}") from exc


def render_objects(spec: Spec, environment: str) -> list[FactoryObject]:
    """Every ADF object of the solution, with `environment`'s values."""
    s, env = spec.data, spec.environment(environment)
    ctx = {"spec": s, "env": env}
    containers = s["storage"]["containers"]
    rendered = [
        ("linkedService", _render("linkedService/storage.json.j2", **ctx)),
        ("linkedService", _render("linkedService/databricks.json.j2", **ctx)),
        ("linkedService", _render("linkedService/azure_ml.json.j2", **ctx)),
        ("dataset", _render("dataset/input_csv.json.j2", **ctx)),
        ("dataset", _render("dataset/prepared_parquet.json.j2", name=s["datasets"]["training_data"],
                            container=containers["training"], **ctx)),
        ("dataset", _render("dataset/prepared_parquet.json.j2", name=s["datasets"]["testing_data"],
                            container=containers["testing"], **ctx)),
        ("dataset", _render("dataset/binary_folder.json.j2", name=s["datasets"]["rejected_files"],
                            container=containers["rejected"], **ctx)),
        ("dataset", _render("dataset/binary_folder.json.j2", name=s["datasets"]["archive"],
                            container=containers["archive"], **ctx)),
        ("pipeline", _render("pipeline/prepare_and_train.json.j2", **ctx)),
        ("trigger", _render("trigger/blob_events.json.j2", **ctx)),
    ]
    return [FactoryObject(folder, body["name"], body) for folder, body in rendered]


def render_definition(spec: Spec) -> dict:
    return _render("arm-template-parameters-definition.json.j2", spec=spec.data)


def render_training_config(spec: Spec) -> dict:
    """The training component's config: one file for every environment (what is promoted is code + config)."""
    return _render("azureml/training-config.json.j2", t=spec.data["training"])
