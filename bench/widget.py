"""The notebook widget at scale: what its first paint costs in bytes and in time, for n points.

Workspace (built once at ``--path``, reused when its ``n`` matches): ``n`` items with short texts
(``item 17 of group g3``), a 12-value categorical column ``group`` and a numeric column ``score``, 8-D
vectors in 12 Gaussian clusters (one a group), and a PCA layout stored the way ``Scope.project`` stores it but
without the kNN graph (its honesty measured on a sample with exact neighbours, as ``Scope.project`` does for
big UMAP layouts; ``Scope.project(space, "pca")`` would first build a k=50 graph of all n points).

Measured, each a median of ``--repeat`` runs:

- Python: ``embedscope.widget(scope)`` on a freshly opened Scope (reads the layout and the items, encodes the
  colour column), and ``w.color = "score"`` (a numeric column re-encoded);
- bytes: the widget's state as ipywidgets sends it (``_remove_buffers``): the binary buffers and the JSON rest,
  per point; the ES module (sent once a widget, the same for any n) apart. Reference: the same coordinates and
  colour codes as JSON lists of numbers (what a widget syncing ``traitlets.List(Float)`` sends);
- browser: headless Chromium (``/usr/bin/chromium``) renders the module with the stand-in for anywidget's model
  of ``tests/web/widget_page.py``; time from ``render()`` until the first frame is drawn (the widget's ``ready``
  flag, then two animation frames). The kernel's transfer is not included (there is none here).

Run::

    .venv/bin/python bench/widget.py --n 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.web.widget_page import PAGE, wire

import embedscope

SPACE = "toy"
GROUPS = 12
DIM = 8


def build(n: int, path: Path) -> float:
    """The workspace of ``n`` points at ``path`` (reused if present); returns the seconds it took (0 if reused)."""
    import pyarrow as pa

    from embedscope.pipeline.layouts import write_layout
    from embedscope.projection import project
    from embedscope.projection.quality import layout_quality

    stamp = path / "bench-widget.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("n") == n:
        return 0.0
    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    group = rng.integers(0, GROUPS, n)
    frame = pd.DataFrame({
        "id": [f"i{i}" for i in range(n)],
        "text": [f"item {i} of group g{g}" for i, g in enumerate(group)],
        "group": [f"g{g}" for g in group],
        "score": rng.normal(size=n).astype(np.float32),
    })
    centres = rng.normal(size=(GROUPS, DIM)) * 4
    vectors = (centres[group] + rng.normal(size=(n, DIM))).astype(np.float32)
    scope = embedscope.create(path, exist_ok=True)
    scope.ingest(frame)
    scope.add_vectors(SPACE, frame["id"].tolist(), vectors)
    with scope.store.writing():
        ids, x, _ = scope.store.arrays(SPACE)
        res = project(x, "pca", knn=None, seed=42)
        q = layout_quality(x, res.extra.get("xyz", res.coords), k=15, high_knn=None, seed=42)
        cols: dict[str, Any] = {"id": pa.array(ids, pa.string()), "x": pa.array(res.coords[:, 0]),
                                "y": pa.array(res.coords[:, 1])}
        want = {"method": "pca", "space": SPACE, "seed": 42, "k": 15}
        write_layout(scope, SPACE, "pca", list(ids), res.coords, cols, q, {"request": want, **res.params}, res.metrics)
    seconds = time.perf_counter() - t0
    stamp.write_text(json.dumps({"n": n, "build_s": round(seconds, 1)}))
    return seconds


def python_side(path: Path, repeat: int) -> tuple[Any, dict[str, float]]:
    times, recolor = [], []
    w = None
    for _ in range(repeat):
        if w is not None:
            w.close()  # ipywidgets keeps every open widget alive (and its million ids with it)
        scope = embedscope.open(path)
        t0 = time.perf_counter()
        w = embedscope.widget(scope, color="group")
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        w.color = "score"
        recolor.append(time.perf_counter() - t0)
        w.color = "group"
    return w, {"widget_s": statistics.median(times), "recolor_numeric_s": statistics.median(recolor)}


def payload(w: Any) -> dict[str, float]:
    from ipywidgets.widgets.widget import _remove_buffers

    state = w.get_state()
    esm = len(state.pop("_esm").encode())
    rest, _paths, buffers = _remove_buffers(state)
    binary = sum(len(bytes(b)) for b in buffers)
    text = len(json.dumps(rest).encode())
    x = np.frombuffer(w._x, "<f4")
    y = np.frombuffer(w._y, "<f4")
    codes = np.frombuffer(w._codes, "<i2")
    as_json = len(json.dumps({"x": x.tolist(), "y": y.tolist(), "codes": codes.tolist()}).encode())
    return {"binary_bytes": binary, "json_bytes": text, "esm_bytes": esm, "json_lists_bytes": as_json}


def browser_side(w: Any, repeat: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    from embedscope.widget import STATIC

    state = wire(w.get_state())
    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        try:
            for _ in range(repeat):
                context = browser.new_context(viewport={"width": 960, "height": 640})
                pg = context.new_page()
                errors: list[str] = []
                pg.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                pg.route("http://widget.test/", lambda r: r.fulfill(body=PAGE, content_type="text/html"))
                pg.route("http://widget.test/widget.js",
                         lambda r: r.fulfill(body=STATIC.read_bytes(), content_type="text/javascript"))
                pg.goto("http://widget.test/")
                pg.wait_for_function("typeof window.mount === 'function'")
                pg.evaluate("(s) => { window.mount(s); }", state)
                pg.wait_for_function("document.querySelector('.embedscope-widget')?.embedscope?.ready === true",
                                     timeout=120_000, polling="raf")
                ms = pg.evaluate("""() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(
                                     () => resolve(performance.now() - fake.t0))))""")
                print("  steps (ms):", pg.evaluate("document.querySelector('.embedscope-widget').embedscope.timings"))
                if errors:
                    raise RuntimeError(f"errors in the page: {errors}")
                out.append(ms / 1000)
                context.close()
        finally:
            browser.close()
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--path", type=Path, default=None, help="workspace (default /tmp/embedscope-bench/widget-N.scope)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    path = args.path or Path(f"/tmp/embedscope-bench/widget-{args.n}.scope")
    path.parent.mkdir(parents=True, exist_ok=True)
    built = build(args.n, path)
    w, py = python_side(path, args.repeat)
    size = payload(w)
    draw = browser_side(w, args.repeat)
    n = args.n
    doc = {"n": n, "build_s": round(built, 1), **{k: round(v, 3) for k, v in py.items()},
           **size, "binary_bytes_per_point": size["binary_bytes"] / n,
           "json_lists_vs_binary": round(size["json_lists_bytes"] / size["binary_bytes"], 2),
           "first_frame_s": round(statistics.median(draw), 3), "first_frame_runs_s": [round(d, 3) for d in draw],
           "load_average": [round(v, 2) for v in os.getloadavg()], "cpus": os.cpu_count()}
    print(f"{n:,} points (workspace built in {built:.1f} s; 0 = reused)")
    print(f"  embedscope.widget(scope): {py['widget_s']:.2f} s   recolour by a numeric column: "
          f"{py['recolor_numeric_s']:.2f} s")
    print(f"  first paint: {size['binary_bytes']:,} B binary ({size['binary_bytes'] / n:.1f} B/point) + "
          f"{size['json_bytes']:,} B JSON; ES module {size['esm_bytes']:,} B once")
    print(f"  the same as JSON lists: {size['json_lists_bytes']:,} B ({doc['json_lists_vs_binary']}x the binary)")
    print(f"  Chromium, render() to first frame: {doc['first_frame_s']:.2f} s (runs {doc['first_frame_runs_s']})")
    print(f"  load average {doc['load_average']} on {doc['cpus']} CPUs")
    print(json.dumps(doc))
    return doc


if __name__ == "__main__":
    main()
