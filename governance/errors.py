"""One error hierarchy for Driftgate.

Every error the core raises on purpose derives from :class:`GovernanceError`, so the app and
the CLI can catch that one class, show its message and a fix, and let everything else surface
as a real bug::

    GovernanceError
    ├── ConfigError              a setting is missing or invalid (lists every bad setting)
    ├── QueryError               a named query is unknown, mis-parameterised or failed
    ├── WorkspaceError           the embedded workspace is missing, corrupt or locked
    │   ├── WorkspaceBusy        another process held the DuckDB lock for too long
    │   └── WriteConflict        a concurrent unit of work changed the same rows first
    ├── BackendUnavailable       the warehouse or MLflow store cannot be reached
    ├── LedgerError              the audit ledger could not be written or read
    ├── EnvironmentViolation     a write to prod from a path that may not write prod
    ├── DataError                input data is unusable (names file, column, value)
    ├── AccessDenied             no (valid) identity, or the role / independence is missing
    └── DecisionConflict         an approval request was already decided or has changed
"""

from __future__ import annotations


class GovernanceError(Exception):
    """Base class for every error Driftgate raises deliberately.

    Attributes:
        hint: One line telling the user how to fix the problem, or ``""``.
    """

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base}\nHow to fix: {self.hint}" if self.hint else base


class ConfigError(GovernanceError):
    """One or more settings are missing or invalid.

    Attributes:
        problems: One entry per bad setting, each naming the setting and the problem.
    """

    def __init__(self, problems: list[str], *, hint: str = "") -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Invalid settings:\n{lines}", hint=hint)


class QueryError(GovernanceError):
    """A named query could not be loaded, bound or executed.

    Attributes:
        query: The query name (file stem under ``queries/``).
    """

    def __init__(self, query: str, message: str, *, hint: str = "") -> None:
        self.query = query
        super().__init__(f"query {query!r}: {message}", hint=hint)


class WorkspaceError(GovernanceError):
    """The embedded workspace (DuckDB files, MLflow stores) is missing or unusable."""


class WorkspaceBusy(WorkspaceError):
    """Another process held the workspace lock longer than the retry budget."""


class WriteConflict(WorkspaceError):
    """Another unit of work committed a conflicting change first; nothing of this one stayed."""


class BackendUnavailable(GovernanceError):
    """A warehouse or MLflow store could not be reached."""


class LedgerError(GovernanceError):
    """The audit ledger could not be appended to or read."""


class EnvironmentViolation(GovernanceError):
    """A code path that may not write to production tried to.

    Attributes:
        environment: The environment that was targeted (always ``"prod"`` today).
        operation: What was attempted, for the audit record.
    """

    def __init__(self, environment: str, operation: str) -> None:
        self.environment = environment
        self.operation = operation
        super().__init__(
            f"refused: {operation!s} would write to {environment!r} outside the promotion job",
            hint="only governance.promotion may write to prod, and only for a signed approval",
        )


class DataError(GovernanceError):
    """Input data is unusable; the message names the file, column and value."""


class AccessDenied(GovernanceError):
    """The identity is missing, expired, or lacks the role or independence an action needs."""


class DecisionConflict(GovernanceError):
    """The approval request is no longer in a state that allows this decision."""
