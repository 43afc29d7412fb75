"""Problems with a FHIR Bundle, located by FHIRPath, and the OperationOutcome that reports them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pydantic
from fhir.resources.R4B.operationoutcome import OperationOutcome, OperationOutcomeIssue

#: Issues reported before the rest are only counted (as one last issue).
MAX_ISSUES: Final = 200


@dataclass(frozen=True)
class FhirIssue:
    """One thing wrong in a Bundle: where (a FHIRPath such as ``Bundle.entry[3].resource.status``),
    what to do about it, and the FHIR issue type (``invalid``, ``required``, ``value``,
    ``business-rule``, ``not-found``, ``security``)."""

    expression: str
    message: str
    code: str = "invalid"

    def __str__(self) -> str:
        return f"{self.expression}: {self.message}"


class BundleRejected(ValueError):
    """A Bundle that cannot be imported; ``issues`` says where and why, nothing was stored."""

    def __init__(self, issues: Sequence[FhirIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))

    def outcome(self) -> OperationOutcome:
        """The OperationOutcome listing every issue."""
        return operation_outcome(self.issues)


def fhir_path(loc: Iterable[Any], root: str = "Bundle") -> str:
    """A pydantic error location as a FHIRPath: ``("entry", 3, "resource", "status")`` →
    ``Bundle.entry[3].resource.status``."""
    path = root
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part) != "__root__":
            path += f".{str(part).removesuffix('__ext')}"
    return path


def issues_from_validation(
    error: pydantic.ValidationError, root: str = "Bundle"
) -> list[FhirIssue]:
    """fhir.resources' validation errors as issues at their FHIRPath."""
    issues = []
    for item in error.errors():
        code = "required" if item["type"] == "missing" else "value"
        message = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            code, message = "structure", "not an element of this resource in FHIR R4"
        issues.append(FhirIssue(fhir_path(item["loc"], root), message, code))
    return issues


def operation_outcome(issues: Sequence[FhirIssue]) -> OperationOutcome:
    """An OperationOutcome with one error issue per problem (``expression`` is its FHIRPath)."""
    shown = list(issues[:MAX_ISSUES])
    entries = [
        OperationOutcomeIssue(
            severity="error",
            code=issue.code,
            diagnostics=issue.message,
            expression=[issue.expression],
        )
        for issue in shown
    ]
    if len(issues) > MAX_ISSUES:
        entries.append(
            OperationOutcomeIssue(
                severity="error",
                code="too-costly",
                diagnostics=f"{len(issues) - MAX_ISSUES} more issues not listed",
            )
        )
    if not entries:
        entries.append(OperationOutcomeIssue(severity="information", code="informational"))
    return OperationOutcome(issue=entries)


def information(message: str) -> OperationOutcome:
    """An OperationOutcome with one informational issue (e.g. what an import stored)."""
    return OperationOutcome(
        issue=[
            OperationOutcomeIssue(severity="information", code="informational", diagnostics=message)
        ]
    )
