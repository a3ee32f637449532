"""Failures the CLI expects and reports as one line on stderr (no traceback).

AWS failures arrive as `handlers.errors` types (the store translates botocore errors);
these are the CLI's own, each with the exit code it maps to.
"""

from __future__ import annotations

from handlers.errors import FiletrailError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_DRIFT = 3


class CliError(FiletrailError):
    exit_code = EXIT_FAILURE


class UsageError(CliError):
    """Arguments that cannot work together or do not parse."""

    exit_code = EXIT_USAGE


class StackNotFoundError(CliError):
    """A stack setting (table, bucket, function) could not be resolved from anywhere."""


class UnknownFileError(CliError):
    """The file has no audit trail in the table."""


class TraceNotFoundError(CliError):
    """The event has no trace id, or X-Ray does not (or no longer) hold the trace."""
