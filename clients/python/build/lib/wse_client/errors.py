"""The client's exception hierarchy. Every error is a WSEError."""

from __future__ import annotations


class WSEError(Exception):
    """Base of every wse_client error."""


class WSEConnectionError(WSEError):
    """The connection could not be opened, or was lost and will not come back."""


class WSEAuthError(WSEConnectionError):
    """The server refused the credentials (close 4401/4403, HTTP 401/403, or an
    AUTH_* error message). Never retried: get a new token first."""

    def __init__(self, message: str, *, code: str | None = None, close_code: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.close_code = close_code


class WSERateLimitError(WSEError):
    """The server is dropping our messages; retry after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WSECircuitBreakerError(WSEConnectionError):
    """Connection attempts are suspended after repeated failures."""

    def __init__(self, message: str, *, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


class WSEProtocolError(WSEError):
    """The peer sent something this protocol does not allow."""


class WSEEncryptionError(WSEError):
    """Encryption was requested but could not be negotiated, or a frame failed to decrypt."""


class WSETimeoutError(WSEError, TimeoutError):
    """An operation did not complete in time."""
