"""The one place where errors become exit codes and HTTP statuses."""

from __future__ import annotations

from enum import IntEnum

from archive import errors


class ExitCode(IntEnum):
    OK = 0
    INPUT_REJECTED = 1  # some input was quarantined
    USAGE = 2  # also what typer/click use for bad arguments
    NO_ARCHIVE = 3
    NOT_FOUND = 4
    INTEGRITY = 5
    DEPENDENCY_MISSING = 6
    CONFIG = 7
    SEARCH = 8
    STORAGE = 9
    ADDRESS_IN_USE = 10
    NOT_PERMITTED = 11  # not that user, or not that user's role
    REFUSED = 12  # held, permanent, not due, not approved
    INTERNAL = 70
    INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C


# Most specific first: the first matching class decides.
_MAPPING: list[tuple[type[errors.LuutruError], ExitCode, int]] = [
    (errors.ArchiveHomeMissing, ExitCode.NO_ARCHIVE, 503),
    (errors.NotFound, ExitCode.NOT_FOUND, 404),
    (errors.InputRejected, ExitCode.INPUT_REJECTED, 422),
    (errors.QueryInvalid, ExitCode.USAGE, 400),
    (errors.TooLarge, ExitCode.USAGE, 413),
    (errors.UsageError, ExitCode.USAGE, 400),
    (errors.DatabaseMissing, ExitCode.INTEGRITY, 503),
    (errors.IntegrityError, ExitCode.INTEGRITY, 500),
    (errors.DependencyMissing, ExitCode.DEPENDENCY_MISSING, 503),
    (errors.ResourceExhausted, ExitCode.INPUT_REJECTED, 503),
    (errors.SigningKeyError, ExitCode.CONFIG, 500),
    (errors.SchemaOutdated, ExitCode.CONFIG, 503),
    (errors.ConfigError, ExitCode.CONFIG, 500),
    (errors.SearchUnavailable, ExitCode.SEARCH, 503),
    (errors.StorageError, ExitCode.STORAGE, 503),
    (errors.AddressInUse, ExitCode.ADDRESS_IN_USE, 500),
    (errors.Unauthenticated, ExitCode.NOT_PERMITTED, 401),
    (errors.RateLimited, ExitCode.NOT_PERMITTED, 429),
    (errors.NotPermitted, ExitCode.NOT_PERMITTED, 403),
    (errors.RecordDestroyed, ExitCode.REFUSED, 410),  # HTTP's Gone: it was, lawfully
    (errors.Refused, ExitCode.REFUSED, 409),
    (errors.Interrupted, ExitCode.INTERRUPTED, 503),
]


def exit_code_for(error: errors.LuutruError) -> ExitCode:
    return next((code for cls, code, _ in _MAPPING if isinstance(error, cls)), ExitCode.INTERNAL)


def http_status_for(error: errors.LuutruError) -> int:
    return next((status for cls, _, status in _MAPPING if isinstance(error, cls)), 500)
