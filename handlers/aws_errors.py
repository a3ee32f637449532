"""Map botocore failures onto filetrail's exception hierarchy (always `raise ... from`)."""

from __future__ import annotations

from botocore.exceptions import (
    ClientError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)

from handlers.errors import (
    AccessDeniedError,
    AwsError,
    FiletrailError,
    MissingCredentialsError,
    TableNotFoundError,
    TransientError,
)

TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "RequestLimitExceeded",
        "SlowDown",
        "InternalServerError",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "TransactionInProgressException",
    }
)
ACCESS_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnrecognizedClientException"})


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def translate(error: Exception, action: str) -> FiletrailError:
    """A filetrail error for a botocore failure during `action` (e.g. "read table t")."""
    if isinstance(error, NoCredentialsError):
        return MissingCredentialsError(f"{action}: no AWS credentials found")
    if isinstance(error, BotoConnectionError | ReadTimeoutError):
        return TransientError(f"{action}: {error}")
    if isinstance(error, ClientError):
        code = error_code(error)
        message = error.response.get("Error", {}).get("Message", "") or code
        if code in TRANSIENT_CODES or http_status(error) >= 500:
            return TransientError(f"{action}: {code}: {message}")
        if code == "ResourceNotFoundException":
            return TableNotFoundError(f"{action}: {message}", code=code)
        if code in ACCESS_CODES:
            return AccessDeniedError(f"{action}: {code}: {message}", code=code)
        return AwsError(f"{action}: {code}: {message}", code=code)
    return AwsError(f"{action}: {error}")
