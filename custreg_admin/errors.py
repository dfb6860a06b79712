"""Domain errors with messages fit to show to the user."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the registry refused the operation; ``str(error)`` is the user's message."""


class InvalidIdentifier(DomainError):
    """A business ID or VAT number that does not pass its country's rules."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class PermissionDenied(DomainError):
    """The user may not do this to this object."""
