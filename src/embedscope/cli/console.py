"""The terminal output of the CLI: a ``rich`` console that never writes control characters taken from data.

Texts, ids, metadata and manifest values come from files someone else may have written (a workspace sent to
you, a CSV from the web). Printed as they are, an escape sequence in one of them is obeyed by the terminal:
``ESC ] 52`` writes the clipboard, ``ESC ] 0`` sets the window title, ``ESC [ 2 J`` clears the screen. Every
string this console renders has its C0 and C1 control characters (except tab and newline) replaced by U+FFFD.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console as _RichConsole
from rich.text import Text

from ..errors import printable


class Console(_RichConsole):
    """:class:`rich.console.Console` whose rendered strings hold no control characters (see the module)."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(printable(text), **kwargs)
