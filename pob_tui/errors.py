"""Errors a user sees: each carries one line that says what is wrong.

Domain code raises these; the CLI prints the message to stderr and exits with `exit_code`,
the TUI shows it as a notification. Nothing else should reach a user.
"""

from __future__ import annotations


class PobError(Exception):
    """Base class: `str(err)` is the one line shown to the user."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(PobError):
    """The configuration file, environment or flags are wrong."""

    exit_code = 2


class InvalidInput(PobError):
    """A value given by the user is not acceptable (bad flag, unknown name, ...)."""

    exit_code = 2


class NotFound(InvalidInput):
    """A referenced thing (caller, service, ticket number) does not exist."""


class DatabaseError(PobError):
    """The database cannot be reached or used."""

    exit_code = 3


class SchemaOutOfDate(DatabaseError):
    """The database needs `pob db upgrade` before pob can use it."""


class TransitionNotAllowed(InvalidInput):
    """A state change that the rules forbid; the message says why."""


class ConflictError(PobError):
    """Someone else saved the same record first (optimistic locking)."""

    exit_code = 4

    def __init__(self, message: str, changes: dict[str, tuple[object, object]] | None = None):
        super().__init__(message)
        self.changes = changes or {}


class PermissionDenied(PobError):
    """The agent lacks the role an action needs."""

    exit_code = 5


class InconsistentData(DatabaseError):
    """Stored data breaks a rule pob relies on (a loop in the org tree, a total that does
    not add up): a report refuses rather than show a smaller figure."""
