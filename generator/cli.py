"""Thin CLI over the generator library; every error becomes one readable message here."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from generator.arm_export import export
from generator.build import DEFAULT_OUT, generate, stale_files
from generator.errors import GeneratorError
from generator.layout import write_json
from generator.spec import DEFAULT_SPEC, load_spec


def cmd_generate(args: argparse.Namespace) -> int:
    spec = load_spec(args.spec)
    changed, removed = generate(spec, Path(args.out))
    for path in changed:
        print(f"  wrote   {path.relative_to(Path(args.out).resolve().parent) if path.is_absolute() else path}")
    for path in removed:
        print(f"  removed {path}")
    print(f"generate: {len(changed)} file(s) changed, {len(removed)} removed under {args.out}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from generator.validate import format_problems, validate_generated
    from generator.validate_retention import protected_datasets

    spec = load_spec(args.spec)
    print(f"spec: {args.spec} is valid ({len(spec.environments)} environments)")
    out = Path(args.out)
    problems = validate_generated(out, protected_datasets(spec.data))
    for line in format_problems(problems):
        print(f"  {line}")
    print(f"generated: SDK models (azure-mgmt-datafactory 9.3.0), references, expressions and ARM checked, "
          f"{len(problems)} problem(s)")
    stale = stale_files(spec, out)
    for path in stale:
        print(f"  stale: {path}")
    if stale:
        print("generated/ is stale: run `make generate` and commit the result")
    return 1 if problems or stale else 0


def cmd_export(args: argparse.Namespace) -> int:
    from generator.layout import read_git_folder
    from generator.linked_templates import linked_template_files

    objects, definition = read_git_folder(Path(args.source))
    result = export(objects, definition, args.factory_name)
    out = Path(args.out)
    write_json(out / "ARMTemplateForFactory.json", result.template)
    write_json(out / "ARMTemplateParametersForFactory.json", result.adf_parameters_file())  # "" for secrets, as ADF
    linked = linked_template_files(result)
    for relative, content in linked.items():
        write_json(out / relative, content)
    print(f"export: {len(result.template['resources'])} resources, {len(result.template['parameters'])} parameters"
          f"{f', {len(linked)} linked-template files' if linked else ''} -> {out}")
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from generator.diff import render_json, render_text
    from generator.diff_git import diff_generated

    diff = diff_generated(args.base, Path(args.out).resolve().parent)
    print(render_json(diff) if args.json else render_text(diff))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m generator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func, help_text in (("generate", cmd_generate, "render generated/ from the spec"),
                                  ("validate", cmd_validate, "check the spec, the SDK models and staleness")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--spec", default=str(DEFAULT_SPEC))
        p.add_argument("--out", default=str(DEFAULT_OUT))
        p.set_defaults(func=func)
    p = sub.add_parser("diff", help="semantic diff of generated/ between a git ref and the work tree")
    p.add_argument("--base", required=True, help="git ref to compare with, e.g. HEAD~1 or main")
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_diff)
    p = sub.add_parser("export", help="export any ADF git folder to ARMTemplateForFactory.json + parameters")
    p.add_argument("--source", required=True, help="root of an ADF git layout")
    p.add_argument("--out", required=True, help="folder for the ARM template and parameters file")
    p.add_argument("--factory-name", required=True)
    p.set_defaults(func=cmd_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GeneratorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
