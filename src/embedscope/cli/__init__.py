"""The ``embedscope`` command line: one subcommand per pipeline stage, thin over :class:`~embedscope.Scope`.

Exit codes: 0 success; 2 bad input or usage (one line on stderr naming file, row, column); 1 anything else
(the error without a traceback, unless ``--debug``); 130 interrupted (Ctrl-C; a rerun resumes). With ``--json``,
stdout holds exactly one JSON document; progress and notes go to stderr.

The commands live in one module per group (``data``, ``search``, ``maps``, ``measure``, ``serve``, ``words``, ``contexts``,
``translate``, ``train``), over what they share in ``common``; this package makes the app and registers them here in the
order ``embedscope --help`` lists them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..errors import EmbedscopeError, InputError
from . import contexts, data, maps, measure, search, serve, train, words
from .translate import app as translate_app

app = typer.Typer(
    name="embedscope", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="See and measure vector embeddings: ingest, embed, neighbours, maps, and a local explorer.\n\n"
         "Progress goes to stderr: a bar on a terminal, else a line every 10 s and at every tenth of the way "
         "(EMBEDSCOPE_PROGRESS_SECONDS sets the period). Ctrl-C stops any command at once: exit 130, "
         "'interrupted, rerun to resume' (finished steps are kept).",
)
_state = {"debug": False}


@app.callback()
def _main(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False) -> None:
    _state["debug"] = debug


# Typer lists commands in the order they are registered: keep this order (it is the order of `embedscope --help`).
app.command()(data.ingest)
app.command()(data.embed)
app.command()(search.neighbors)
app.command()(search.knn)
app.command()(maps.project)
app.command()(maps.quality)
app.command("cluster")(maps.cluster_cmd)
app.command()(measure.health)
app.command()(search.similar)
app.command()(words.words)
app.command("contexts")(contexts.contexts)
app.command()(measure.compare)
app.command("probe")(measure.probe_cmd)
app.command("report")(measure.report_cmd)
app.command("export")(data.export_cmd)
app.command("compress")(measure.compress_cmd)
app.command()(train.train)
app.command()(data.info)
app.command()(serve.serve)
app.command()(serve.demo)
app.add_typer(translate_app, name="translate",
              help="Translate vectors between spaces: fit, eval (held-out, with baselines), apply.")


#: Commands that stay in the main thread: they serve until Ctrl-C (uvicorn handles the signal itself).
_MAIN_THREAD = ("serve", "demo")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: maps errors to exit codes (2 bad input, 1 other, 130 interrupted).

    Commands run in a worker thread (:func:`embedscope.interrupt.run_interruptible`) so that Ctrl-C stops them
    at once, even inside numba or ONNX Runtime: one line on stderr, exit 130, the workspace as a kill leaves it
    (a rerun resumes).
    """
    from ..interrupt import EXIT_CODE, announce, run_interruptible

    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args
    command = next((a for a in args if not a.startswith("-")), None)
    try:
        if command in _MAIN_THREAD:
            code = app(args=args, standalone_mode=False)
        else:
            code = run_interruptible(lambda: app(args=args, standalone_mode=False))
        # typer turns a KeyboardInterrupt into the exit code 130, returned (not raised) without standalone mode
        if isinstance(code, int) and code:
            if code == EXIT_CODE:
                announce()
            sys.exit(code)
    except InputError as exc:
        if debug:
            raise
        sys.stderr.write(f"error: {exc.one_line()}\n")
        sys.exit(2)
    except EmbedscopeError as exc:
        if debug:
            raise
        sys.stderr.write(f"error: {' '.join(str(exc).split())}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        announce()
        sys.exit(EXIT_CODE)
    except Exception as exc:
        import click

        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(EXIT_CODE)
        if debug:
            raise
        sys.stderr.write(f"error: {type(exc).__name__}: {' '.join(str(exc).split())}\n")
        sys.exit(1)
