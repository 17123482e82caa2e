"""The workflow part's own exceptions.

Each carries a machine-readable `code`, a `message` written for a person and the `field` at fault (a
dotted path into the workflow definition such as `steps[0].subject`, or None), so the web edge and
the CLI can report them as `{"error": {"code", "message", "field"}}` without knowing the rule behind
them.
"""

from __future__ import annotations


class WorkflowError(Exception):
    """A refused workflow request, or a run that could not finish; nothing was partly written."""

    code = "workflow_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidDefinitionError(WorkflowError):
    """A definition names an unknown placeholder, field or user, or has a value out of range."""

    code = "invalid_workflow_definition"


class WorkflowNotFoundError(WorkflowError):
    """No workflow definition (or version of one) has the id or name given."""

    code = "workflow_not_found"


class WorkflowNameTakenError(WorkflowError):
    """Workflow names are unique, so that people and the CLI can refer to a workflow by name."""

    code = "workflow_name_taken"


class RecordNotFoundError(WorkflowError):
    """The record a run was asked to run on does not exist."""

    code = "record_not_found"


class RecordTypeMismatchError(WorkflowError):
    """A workflow was asked to run on a record of another type than the one it is defined for."""

    code = "record_type_mismatch"


class RunFailedError(WorkflowError):
    """A run could not fill a value the event needs (no email, no advisor …); `code` says which."""

    code = "workflow_run_failed"
