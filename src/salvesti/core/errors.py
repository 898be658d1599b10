"""Exceptions that sort setup failures the way Home Assistant does.

A component's ``async_setup`` raises :class:`NotReady` when trying again later may help
(trunk unreachable, USB device absent), :class:`AuthFailed` when credentials are wrong
(retrying would only lock the account), and anything else for a permanent error.
"""


class SalvestiError(Exception):
    """Base class for errors Salvesti reports to the user."""


class NotReady(SalvestiError):
    """Setup could not complete now; the hub retries with backoff."""


class AuthFailed(SalvestiError):
    """Credentials were refused; the hub stops retrying and reports it."""


class ConfigError(SalvestiError):
    """The configuration is invalid; ``errors`` holds ``FILE:LINE: key: message`` lines."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
