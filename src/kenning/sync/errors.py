"""Errors of the sync layer, under the project's `KenningError` (see `kenning.errors`).

    KenningError
     └── SyncError               sync, export/import or the team store could not finish
          ├── RemoteUnreachable  the git remote could not be fetched from or pushed to
          ├── ArchiveError       an export archive that cannot be read
          └── StoreUnavailable   the team database is down or refused the connection

Each message says what happened to the user's local work (it is always kept) and what to do.
"""

from __future__ import annotations

from kenning.errors import KenningError

__all__ = ["ArchiveError", "RemoteUnreachable", "StoreUnavailable", "SyncError"]


class SyncError(KenningError):
    """A sync step failed; local memories are intact."""


class RemoteUnreachable(SyncError):
    """The remote could not be reached; local changes are committed and wait for the next sync."""


class ArchiveError(SyncError):
    """An export file that is not a kenning archive, or is damaged."""


class StoreUnavailable(SyncError):
    """The team database did not answer (after retries)."""
