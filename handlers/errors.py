"""The small exception hierarchy every layer raises; AWS `ClientError` codes map here."""

from __future__ import annotations


class FiletrailError(Exception):
    """Base of every error filetrail raises on purpose."""


class ConfigurationError(FiletrailError):
    """A setting is missing or malformed; raised once at cold start."""


class InvalidEventError(FiletrailError):
    """A notification that can never succeed: retrying it is pointless."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TransientError(FiletrailError):
    """A fault that a later attempt may not meet (throttling, 5xx, contention)."""


class ContentionError(TransientError):
    """Optimistic concurrency on a stream kept failing within the attempt budget."""


class AwsError(FiletrailError):
    """An AWS call failed for a reason that is not transient."""

    def __init__(self, message: str, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class TableNotFoundError(AwsError):
    pass


class AccessDeniedError(AwsError):
    pass


class MissingCredentialsError(AwsError):
    pass


class ObjectGoneError(FiletrailError):
    """The object version named by the notification no longer exists (or is unreadable)."""


class ObjectSupersededError(FiletrailError):
    """The key now holds a newer upload than the notification describes (unversioned bucket)."""


class ObjectArchivedError(FiletrailError):
    """The object is in an archive storage class: unreadable until restored."""


class ObjectEncryptedError(FiletrailError):
    """The object is encrypted with a key the pipeline can never hold (SSE-C)."""
