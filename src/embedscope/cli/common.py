"""What every ``embedscope`` command module shares: the stderr console, common arguments, JSON output, progress.

Each command module (``data``, ``search``, ``maps``, ``measure``, ``serve``, ``translate``) imports this module
and none imports another; ``embedscope.cli`` (the package) imports them all to register their commands.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .console import Console

#: The console on stderr: progress, notes and tables that are not the ``--json`` document.
err = Console(stderr=True)

WS = Annotated[Path, typer.Argument(help="Workspace directory (e.g. reviews.scope).")]
SPACE = Annotated[str | None, typer.Option("--space", help="Embedding space (default: the only one).")]
JSON = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
ENGINE = Annotated[str, typer.Option("--engine", help="local (this process) | ray (tasks on a Ray cluster; "
                                     "pip install 'embedscope\\[ray]')")]
ADDRESS = Annotated[str | None, typer.Option("--address", help="Ray cluster address (default: start a local one "
                                             "on 127.0.0.1 with 2 CPUs).")]


def emit(doc: Any) -> None:
    """Print ``doc`` as one JSON document (one line) on stdout."""
    sys.stdout.write(json.dumps(doc, ensure_ascii=False) + "\n")
    sys.stdout.flush()


@contextmanager
def progress(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr; yields a callback (stage, done, total). Without a terminal (or with
    ``--json``), plain lines instead (:class:`embedscope.cli.progress.PlainProgress`: every 10 s and every tenth)."""
    if not enabled or (not err.is_terminal and os.environ.get("EMBEDSCOPE_PROGRESS") != "1"):
        from .progress import PlainProgress

        yield PlainProgress(lambda line: err.print(line, highlight=False, soft_wrap=True))
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=err, transient=False) as bar:
        tasks: dict[str, Any] = {}

        def cb(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield cb


def open_scope(ws: Path) -> Any:
    """Open the workspace at ``ws`` (:func:`embedscope.open`)."""
    from ..workspace import Scope

    return Scope.open(ws)
