"""The one error hierarchy of luutru.

Every failure a user can meet is a ``LuutruError`` subclass. Exit codes and HTTP statuses are
mapped in one place, ``api/errors.py``; nothing else decides them. Parse failures of outside
input become ``InputRejected`` (the file is quarantined), never a bare ``ValueError``.
"""

from __future__ import annotations


class LuutruError(Exception):
    """Base of every error luutru reports to a person."""


class ArchiveHomeMissing(LuutruError):
    """The archive home does not exist or was never initialised."""


class ConfigError(LuutruError):
    """The archive configuration is unreadable or names something unknown."""


class NotFound(LuutruError):
    """Nothing of that name or size here (a record, a tree size of the log)."""


class RecordNotFound(NotFound):
    """No record with that id, or none the caller may see (the two are not told apart)."""


class InputRejected(LuutruError):
    """An input file cannot be archived; the reason is meant for the person who supplied it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IntegrityError(LuutruError):
    """Stored bytes or a seal do not match what was archived."""


class BlobMissing(IntegrityError):
    """A blob named by the database is absent from the blob store."""


class SignatureInvalid(IntegrityError):
    """A manifest signature does not verify under the archive key."""


class SigningKeyError(LuutruError):
    """The archive signing key is missing or unreadable."""


class StorageError(LuutruError):
    """The blob store or the database cannot be written (disk full, database unreachable);
    a fault of the machine, not of the input, so an ingest stops instead of quarantining."""


class ResourceExhausted(LuutruError):
    """A page took longer or more memory than the machine allows; the machine's limit, not a
    fault of the file, so the input is reported as failed, never quarantined."""


class DependencyMissing(LuutruError):
    """A program or data file luutru needs (tesseract, a language pack) is not installed."""


class SearchUnavailable(LuutruError):
    """The search index cannot be opened or queried (it can be rebuilt from the archive)."""


class QueryInvalid(LuutruError):
    """A search query cannot be understood."""


class UsageError(LuutruError):
    """The command was asked for something it must not do as given (a bad option value, an
    archive home inside the source tree); nothing was changed."""


class AmbiguousRecordId(UsageError):
    """A record id prefix matches more than one record the caller may see."""


class DatabaseMissing(IntegrityError):
    """The archive home exists but its database is gone: only ``init`` creates one, so that a
    deleted database is reported as damage instead of being replaced by an empty archive."""


class SchemaOutdated(ConfigError):
    """The database schema is older or newer than this luutru; only ``init`` or ``migrate``
    changes it."""


class AddressInUse(LuutruError):
    """The address the server should listen on is taken by another program."""


class Interrupted(LuutruError):
    """The run was stopped by a signal; what finished before it is kept and reported."""


class NotPermitted(LuutruError):
    """The person is not who they say (their API key is not theirs), or their role may not
    do this; nothing was changed."""


class Refused(LuutruError):
    """What was asked must not be done as things stand (a held record, a permanent one, one
    not yet due, a list without its two approvals); nothing was changed."""


class RecordDestroyed(Refused):
    """The record was lawfully destroyed (an executed disposal list): its files are gone, its
    tombstone stays. Not damage: what needs its files (evidence) is refused, saying so."""


class Unauthenticated(NotPermitted):
    """An API key or web session that is nobody's (HTTP 401)."""


class RateLimited(NotPermitted):
    """Too many requests for one key or address (HTTP 429)."""


class TooLarge(UsageError):
    """An upload over the size the server takes (HTTP 413)."""
