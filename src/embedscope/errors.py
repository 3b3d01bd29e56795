"""Errors with a location.

Every error a user can fix points at what to fix: the file, the row (1-based, as a spreadsheet counts data
rows) and the column. The CLI prints ``InputError`` as one line and exits with code 2.
"""

from __future__ import annotations

import re
from pathlib import Path

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with its C0 and C1 control characters (but tab and newline) replaced by U+FFFD: a name or text
    from someone else's file, printed as it is, could hold a terminal escape sequence (``ESC ] 52`` writes
    the clipboard, ``ESC ] 0`` sets the window title)."""
    return _CONTROL.sub("\ufffd", text)


class EmbedscopeError(Exception):
    """Base class of every error embedscope raises on purpose. Its text holds no control characters
    (:func:`printable`): messages quote names and values from files."""

    def __str__(self) -> str:
        return printable(super().__str__())


class InputError(EmbedscopeError, ValueError):
    """Bad input or usage: a file, a row or a column the user has to fix.

    Parameters
    ----------
    message
        What is wrong and, where it helps, what to do.
    file
        The file the problem is in, if any.
    row
        1-based data row (the header is not counted), if the problem is in one row.
    column
        The column (name) or JSON key the problem is in, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The error as one line: ``file: row 3, column 'text': message``."""
        where = []
        if self.file:
            where.append(self.file)
        loc = []
        if self.row is not None:
            loc.append(f"row {self.row}")
        if self.column is not None:
            loc.append(f"column {self.column!r}")
        if loc:
            where.append(", ".join(loc))
        head = ": ".join(where)
        msg = " ".join(self.message.split())
        return printable(f"{head}: {msg}" if head else msg)


class WorkspaceError(EmbedscopeError):
    """The workspace is missing, unreadable, or lacks what a command needs."""


class StorageError(WorkspaceError):
    """The disk is full, or the workspace (or an output path) is read-only: the message names the path and what
    to do (free space and rerun; copy the workspace somewhere writable). Exit code 1."""


class DiskFullError(StorageError):
    """A write failed because the disk is full (the server answers 507)."""


class ReadOnlyError(StorageError):
    """A write failed because the workspace or output path is read-only (the server answers 409)."""


class ManifestError(InputError, WorkspaceError):
    """The workspace manifest ``scope.json`` is damaged (e.g. edited by hand into something unreadable).

    A user-fixable input problem (exit code 2) that is also a :class:`WorkspaceError`; ``file`` is the
    manifest and ``column`` the entry at fault, when known. Nothing is written to such a workspace.
    """


class MissingDependencyError(EmbedscopeError, ImportError):
    """An optional dependency is not installed; the message names the ``pip install``."""

    def __init__(self, what: str, extra: str, package: str) -> None:
        super().__init__(
            f"{what} needs {package!r}, which is not installed: pip install 'embedscope[{extra}]'"
        )
