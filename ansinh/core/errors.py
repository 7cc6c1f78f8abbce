"""Domain errors raised by services; the HTTP layers turn them into messages, 404s and 422s."""

from django.core.exceptions import ValidationError  # re-exported: field errors use Django's type


class DomainError(Exception):
    """A rule of the domain refused the change; the message is user-facing (translated)."""


class InvalidTransition(DomainError):
    pass


__all__ = ["DomainError", "InvalidTransition", "ValidationError"]
