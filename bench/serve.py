"""The explorer at scale: first paint, neighbours and query similarity on a big workspace, in headless Chromium.

The workspace comes from ``bench/_big_workspace.py`` (``--n`` points, default 1,000,000: real MiniLM vectors
tiled with noise, their texts, a stored kNN graph - approximate above 200,000 items - and a PCA layout; built
once and reused). ``embedscope serve`` runs it in a subprocess; then:

- **first paint**: a fresh Chromium context (empty cache) opens the page; every response that arrived before
  the first frame was drawn is summed (body + headers, from Playwright's ``request.sizes()``), split into data
  (``/api/``) and the app's static files; what arrives after it (the spatial index order the page asks for
  once the points are on screen) is reported apart. Two times: the **first drawn frame** (the page's own
  ``drawn`` mark, ms since navigation start: every point is on the canvas) and **ready** (from ``page.goto``
  until the page is settled, which includes the map's spatial index for hover, click and lasso, filled after
  the first frame from the server's kd order). The first load after the server starts (cold) and a second one (warm)
  are reported;
- **neighbours** of random items (``GET .../items/{row}/neighbors``), timed from Python over HTTP: ``k=10``
  from the stored graph, and beyond it (``k=100``, and ``metric=dot``) an exact scan;
- **query similarity** (``GET .../search/scores?q=...``): every item's cosine similarity to a new query as
  Arrow float32 (the query embedded with MiniLM, then an int8 scan above 200,000 items; see
  ``embedscope.search.scan``); and the same query again (embedding cached: the scan alone), and the ranked search
  (``GET .../search?q=...&k=20``: exactly rescored hits + histogram).

Each figure is printed next to its goal (issue 3). Run::

    .venv/bin/python bench/serve.py [--n 1000000] [--port 8799] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from _big_workspace import SPACE, build

CHROMIUM = "/usr/bin/chromium"
QUERIES = ["the lord is my shepherd", "love your neighbour", "a king goes to war", "bread and wine at supper",
           "the flood and the ark", "the sea and the fishermen", "a prophet speaks to the people",
           "sheep and goats in the field", "gold and silver in the temple", "a woman at the well",
           "darkness over the land", "the walls of the city fell", "forgive them their sins",
           "a feast for the wedding", "the stars of heaven", "the law of moses", "seven years of famine",
           "a voice in the wilderness", "the children of israel", "fire from heaven", "a tree and its fruit",
           "the sword and the shield", "mercy and truth", "the mountain of god", "oil for the lamps"]


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q))


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 600) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"embedscope serve exited with {proc.returncode}")
        try:
            if httpx.get(url + "api/info", timeout=60).status_code == 200:
                return time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not answer in time")


def first_paint(browser: Any, url: str, n: int) -> dict[str, Any]:
    """Open the page in a fresh context; bytes and time until the map is drawn."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    finished: list[Any] = []
    page.on("requestfinished", lambda req: finished.append(req))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_function("window.__embedscope && window.__embedscope.ready", timeout=600_000, polling=20)
    dt = time.perf_counter() - t0
    count = page.evaluate("window.__embedscope.count")
    # when the page reached each step (ms since navigation): info, layout/colours received, points drawn, ready
    steps = {k: round(v) for k, v in page.evaluate("window.__embedscope.timings || {}").items()}
    drawn_at = page.evaluate("performance.timeOrigin") + steps.get("drawn", float("inf"))  # ms since the epoch
    rows = []
    for req in list(finished):
        sizes = req.sizes()
        timing = req.timing  # startTime: ms since the epoch; responseEnd: ms after it
        rows.append({"url": req.url.removeprefix(url), "bytes": sizes["responseBodySize"] + sizes["responseHeadersSize"],
                     "before_frame": timing["startTime"] + timing["responseEnd"] <= drawn_at})
    ctx.close()
    # the first paint's bytes: what arrived before the first frame was drawn (the spatial index order that the
    # page asks for after it is reported apart)
    first = [r for r in rows if r["before_frame"]]
    data = sum(r["bytes"] for r in first if r["url"].startswith("api/"))
    static = sum(r["bytes"] for r in first if not r["url"].startswith("api/"))
    later = sum(r["bytes"] for r in rows if not r["before_frame"])
    biggest = sorted((r for r in rows if r["url"].startswith("api/")), key=lambda r: -r["bytes"])[:5]
    return {"time_s": dt, "first_frame_s": steps.get("drawn", float("nan")) / 1000, "points_drawn": count,
            "data_bytes": data, "static_bytes": static, "after_frame_bytes": later,
            "data_bytes_per_point": data / n, "total_bytes_per_point": (data + static) / n,
            "requests": len(rows), "largest": biggest, "page_errors": errors, "steps_ms": steps}


def timed_get(client: httpx.Client, path: str, params: dict[str, Any] | None = None) -> tuple[float, httpx.Response]:
    t0 = time.perf_counter()
    r = client.get(path, params=params)
    dt = time.perf_counter() - t0
    if r.status_code != 200:
        raise SystemExit(f"{path} {params}: HTTP {r.status_code} {r.text[:300]}")
    return dt * 1000, r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--path", default=None, help="workspace (default /tmp/embedscope-bench/serve-N.scope)")
    ap.add_argument("--port", type=int, default=8799)
    ap.add_argument("--neighbors", type=int, default=200, help="neighbour requests from the graph")
    ap.add_argument("--scans", type=int, default=20, help="neighbour requests beyond the graph (each kind)")
    ap.add_argument("--neighbors-only", action="store_true", help="skip the browser and the query requests")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    path = Path(args.path or f"/tmp/embedscope-bench/serve-{args.n}.scope")
    workspace = build(args.n, path)
    n = args.n
    url = f"http://127.0.0.1:{args.port}/"
    exe = Path(sys.executable).with_name("embedscope")
    proc = subprocess.Popen([str(exe), "serve", str(path), "--port", str(args.port)], start_new_session=True)
    out: dict[str, Any] = {"n": n, "cpus": os.cpu_count(), "workspace": workspace}
    try:
        out["server_up_s"] = wait_up(url, proc)
        if not args.neighbors_only:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                out["first_paint_cold"] = first_paint(browser, url, n)
                out["first_paint_warm"] = first_paint(browser, url, n)
                browser.close()
        rng = np.random.default_rng(0)
        with httpx.Client(base_url=url, timeout=600) as client:
            base = f"api/spaces/{SPACE}"
            timed_get(client, f"{base}/items/0/neighbors", {"k": 10})  # warm: the graph is read once
            graph = [timed_get(client, f"{base}/items/{int(r)}/neighbors", {"k": 10})
                     for r in rng.integers(0, n, args.neighbors)]
            info = graph[0][1].json().get("graph")
            beyond_k = [timed_get(client, f"{base}/items/{int(r)}/neighbors", {"k": 100})[0]
                        for r in rng.integers(0, n, args.scans)]
            dot = [timed_get(client, f"{base}/items/{int(r)}/neighbors", {"k": 10, "metric": "dot"})[0]
                   for r in rng.integers(0, n, args.scans)]
            new_q, again_q, ranked = [], [], []
            t_first = timed_get(client, f"{base}/search/scores", {"q": "warm up the model"})[0] \
                if not args.neighbors_only else float("nan")
            for q in QUERIES if not args.neighbors_only else []:
                dt, r = timed_get(client, f"{base}/search/scores", {"q": q})
                assert len(r.content) >= 4 * n
                new_q.append(dt)
                again_q.append(timed_get(client, f"{base}/search/scores", {"q": q})[0])
                ranked.append(timed_get(client, f"{base}/search", {"q": q, "k": 20})[0])
        ms = [g[0] for g in graph]
        if args.neighbors_only:
            new_q = again_q = ranked = [float("nan")]
        out.update({
            "graph": info,
            "neighbors_graph_ms": {"p50": pct(ms, 50), "p99": pct(ms, 99), "count": len(ms)},
            "neighbors_k100_scan_ms": {"p50": pct(beyond_k, 50), "p99": pct(beyond_k, 99), "count": len(beyond_k)},
            "neighbors_dot_scan_ms": {"p50": pct(dot, 50), "p99": pct(dot, 99), "count": len(dot)},
            "scores_first_query_ms": t_first,
            "scores_new_query_ms": {"p50": pct(new_q, 50), "p99": pct(new_q, 99), "count": len(new_q)},
            "scores_cached_query_ms": {"p50": pct(again_q, 50), "p99": pct(again_q, 99), "count": len(again_q)},
            "search_ranked_ms": {"p50": pct(ranked, 50), "p99": pct(ranked, 99), "count": len(ranked)},
            "load_average": os.getloadavg(),
        })
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    if args.json:
        print(json.dumps(out, indent=2, default=str))
        return
    print(f"{n:,} points x 384 ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}); server up in "
          f"{out['server_up_s']:.1f} s")
    for name, f in (("cold", out.get("first_paint_cold")), ("warm", out.get("first_paint_warm"))):
        if f is None:
            continue
        print(f"first paint ({name}): first drawn frame {f['first_frame_s']:.2f} s (goal < 3 s), ready "
              f"{f['time_s']:.2f} s, {f['points_drawn']:,} points drawn; "
              f"data {f['data_bytes']:,} B = {f['data_bytes_per_point']:.2f} B/point (goal <= 12), "
              f"+ app {f['static_bytes']:,} B; after the frame {f['after_frame_bytes']:,} B; {f['requests']} "
              f"requests; page steps (ms) {f['steps_ms']}")
    g = out["neighbors_graph_ms"]
    src = "from the stored graph" if out["graph"] else "by an exact scan (no stored graph)"
    print(f"neighbours k=10 {src}: p50 {g['p50']:.1f} ms, p99 {g['p99']:.1f} ms (goal p50 < 10 ms from the graph); "
          f"graph {json.dumps(out['graph'])}")
    for key, label in (("neighbors_k100_scan_ms", "k=100 (beyond the graph): exact scan"),
                       ("neighbors_dot_scan_ms", "metric=dot: exact scan")):
        print(f"neighbours {label}: p50 {out[key]['p50']:.0f} ms, p99 {out[key]['p99']:.0f} ms")
    s, c, r = out["scores_new_query_ms"], out["scores_cached_query_ms"], out["search_ranked_ms"]
    print(f"query similarity to all {n:,} (new query: embed + scan): p50 {s['p50']:.0f} ms, p99 {s['p99']:.0f} ms "
          f"(goal p50 < 100 ms); same query again (scan only): p50 {c['p50']:.0f} ms; ranked search k=20: "
          f"p50 {r['p50']:.0f} ms; first query after start {out['scores_first_query_ms']:.0f} ms")


if __name__ == "__main__":
    main()
