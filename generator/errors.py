"""One root error for the generator; messages say what was expected, what was found, and how to fix it."""
from __future__ import annotations


class GeneratorError(Exception):
    """Root of every error the generator reports to a user."""


class SpecError(GeneratorError):
    """The spec is not valid: names the file, the line, the key and the fix."""

    def __init__(self, file: str, line: int | None, key: str, problem: str, fix: str):
        self.file, self.line, self.key, self.problem, self.fix = file, line, key, problem, fix
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {key}: {problem}\n  fix: {fix}")


class SpecErrors(GeneratorError):
    """Several spec errors at once, so a user fixes them in one pass."""

    def __init__(self, errors: list[SpecError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class ExportError(GeneratorError):
    """An ADF folder or definition file that cannot be exported to ARM."""


class StaleEnvironmentError(GeneratorError):
    """An environment differs from the authoring one in a property the ARM template does not parameterize."""
