"""Loopback load on ``embedscope serve``: many clients at once for a fixed time, a fixed mix of requests.

    python bench/load.py [--workspace WS] [--clients 32] [--seconds 60] [--seed 0] [--json OUT]

The server is the real CLI (``python -m embedscope serve WS --token T``, so the token check is part of every
request) in its own process; the clients are ``--clients`` asyncio tasks sharing one HTTP/1.1 connection pool of
its own keep-alive HTTP/1.1 connection in this process (a minimal asyncio client, so the client's own CPU
time stays small next to the server's: they share the machine). Each client loops until the time is up,
drawing its next request from its own seeded generator:

- 70% neighbour lookups ``GET /api/spaces/S/items/{row}/neighbors?k=10`` of a uniformly random row (answered from
  the space's stored kNN graph);
- 20% metadata pages ``GET /api/spaces/S/items?offset=...&limit=50`` at a uniformly random offset;
- 10% text queries ``GET /api/spaces/S/search?q=...&k=20`` (semantic: embedded with the space's model, scored
  against every item), 3-6 words drawn from the workspace's own texts, so the server's small query cache rarely
  helps.

Before the clock starts, one request of each kind warms the server (the model loads, the graph and the
columns are read). Reported: requests and throughput, p50/p90/p99/max latency per kind, errors (any status but
200, or no answer), and the server's resident memory (VmRSS) sampled every second, with its growth after the
first 10 s.

Without ``--workspace`` a smaller workspace is built (or reused) with ``bench/_big_workspace.py``: ``--n`` points
(default 100,000) of real MiniLM vectors with a stored kNN graph and a PCA layout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import numpy as np

MIX = (("neighbors", 0.7), ("page", 0.2), ("query", 0.1))
TOKEN = "load-bench-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used, all its threads."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def start_server(ws: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "embedscope", "serve", str(ws), "--port", str(port),
                             "--token", TOKEN], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}): {proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            proc.kill()
            raise SystemExit("the server did not start within 300 s")
        time.sleep(0.2)


def _words(client: httpx.Client, space: str, n: int) -> list[str]:
    """Words (4+ letters) from a few pages of the workspace's own texts, for the text queries."""
    words: set[str] = set()
    for offset in np.linspace(0, max(n - 200, 0), 10).astype(int):
        page = client.get(f"/api/spaces/{space}/items", params={"offset": int(offset), "limit": 200}).json()
        for item in page["items"]:
            words.update(w.strip(".,;:!?()'\"").lower() for w in (item["text"] or "").split())
    return sorted(w for w in words if len(w) >= 4 and w.isalpha())


def _request(kind: str, rng: np.random.Generator, space: str, n: int, words: list[str]) -> tuple[str, dict]:
    if kind == "neighbors":
        return f"/api/spaces/{space}/items/{int(rng.integers(n))}/neighbors", {"k": 10}
    if kind == "page":
        return f"/api/spaces/{space}/items", {"offset": int(rng.integers(max(n - 50, 1))), "limit": 50}
    q = " ".join(rng.choice(words, size=int(rng.integers(3, 7))).tolist())
    return f"/api/spaces/{space}/search", {"q": q, "k": 20}


class Connection:
    """One keep-alive HTTP/1.1 connection: ``GET`` with the token, the status and the body (``Content-Length``)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, params: dict) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        target = f"{path}?{urlencode(params)}" if params else path
        self.writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n\r\n"
                          .encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next((int(v) for k, _, v in (ln.partition(":") for ln in lines[1:]) if k.lower() == "content-length"),
                      None)
        if length is None:
            raise ValueError("no Content-Length")
        body = await self.reader.readexactly(length)
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def run_load(port: int, space: str, n: int, words: list[str], clients: int, seconds: float, seed: int,
                   pid: int) -> dict[str, Any]:
    kinds = [k for k, _ in MIX]
    probs = np.array([p for _, p in MIX])
    records: list[tuple[str, float, float, int]] = []  # kind, start (s since t0), latency (s), status (0: none)
    rss: list[tuple[float, float]] = []
    t0 = time.perf_counter()
    end = t0 + seconds

    async def client(i: int) -> None:
        rng = np.random.default_rng([seed, i])
        conn = Connection(port)
        try:
            while time.perf_counter() < end:
                kind = kinds[int(rng.choice(len(kinds), p=probs))]
                path, params = _request(kind, rng, space, n, words)
                start = time.perf_counter()
                try:
                    status, _ = await asyncio.wait_for(conn.get(path, params), timeout=60)
                except (TimeoutError, OSError, ValueError, asyncio.IncompleteReadError):
                    status = 0
                    conn.close()
                records.append((kind, start - t0, time.perf_counter() - start, status))
        finally:
            conn.close()

    async def sample() -> None:
        while time.perf_counter() < end:
            rss.append((time.perf_counter() - t0, _rss_mb(pid)))
            await asyncio.sleep(1.0)
        rss.append((time.perf_counter() - t0, _rss_mb(pid)))

    await asyncio.gather(sample(), *(client(i) for i in range(clients)))
    return {"records": records, "rss": rss, "wall": time.perf_counter() - t0}


def summarise(raw: dict[str, Any], seconds: float) -> dict[str, Any]:
    recs = raw["records"]
    wall = raw["wall"]
    out: dict[str, Any] = {"requests": len(recs), "wall_s": round(wall, 1),
                           "throughput_rps": round(len(recs) / wall, 1),
                           "errors": sum(1 for r in recs if r[3] != 200), "kinds": {}}
    for kind, share in MIX:
        lat = np.array([r[2] for r in recs if r[0] == kind]) * 1000
        errs = sum(1 for r in recs if r[0] == kind and r[3] != 200)
        if len(lat) == 0:
            continue
        out["kinds"][kind] = {"share": share, "requests": len(lat), "rps": round(len(lat) / wall, 1),
                              "errors": errs, **{f"p{p}_ms": round(float(np.percentile(lat, p)), 1)
                                                 for p in (50, 90, 99)},
                              "max_ms": round(float(lat.max()), 1)}
    rss = raw["rss"]
    at10 = next((m for t, m in rss if t >= 10.0), rss[-1][1])
    later = [m for t, m in rss if t >= 10.0] or [rss[-1][1]]
    out["rss_mb"] = {"start": round(rss[0][1]), "at_10s": round(at10), "end": round(rss[-1][1]),
                     "max": round(max(m for _, m in rss)),
                     "growth_after_10s_pct": round(100 * (max(later) - at10) / at10, 1),
                     "series": [[round(t, 1), round(m)] for t, m in rss]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workspace", type=Path, default=None, help="Workspace to serve (default: build --n points).")
    ap.add_argument("--space", default="minilm")
    ap.add_argument("--n", type=int, default=100_000, help="Points of the workspace built without --workspace.")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="Also write the results here.")
    ap.add_argument("--mix", default=None, help="Shares of neighbours,pages,queries (default 0.7,0.2,0.1).")
    a = ap.parse_args()
    if a.mix:
        global MIX
        shares = [float(v) for v in a.mix.split(",")]
        MIX = tuple((kind, share / sum(shares)) for (kind, _), share in zip(MIX, shares, strict=True))

    ws = a.workspace
    if ws is None:
        sys.path.insert(0, str(Path(__file__).parent))
        from _big_workspace import build

        ws = Path(f"/tmp/embedscope-bench/serve-{a.n}.scope")
        build(a.n, ws)
    port = _free_port()
    t = time.perf_counter()
    proc = start_server(ws, port)
    _log(f"server up in {time.perf_counter() - t:.1f} s (pid {proc.pid}, port {port})")
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=600) as c:
            info = c.get("/api/info").json()
            space = next(s for s in info["spaces"] if s["name"] == a.space)
            n = int(space["count"])
            t = time.perf_counter()
            words = _words(c, a.space, n)
            warm = {}
            rng = np.random.default_rng(a.seed + 10_000)
            for kind, _ in MIX:
                path, params = _request(kind, rng, a.space, n, words)
                t1 = time.perf_counter()
                r = c.get(path, params=params)
                r.raise_for_status()
                warm[kind] = round(time.perf_counter() - t1, 2)
            _log(f"warm-up ({n:,} points, {len(words):,} query words): {warm} s; server RSS {_rss_mb(proc.pid):,.0f} MB")
        load_before = os.getloadavg()
        cpu_before = (_cpu_s(proc.pid), time.process_time())
        raw = asyncio.run(run_load(port, a.space, n, words, a.clients, a.seconds, a.seed, proc.pid))
        cpu = {"server_s": round(_cpu_s(proc.pid) - cpu_before[0], 1),
               "client_s": round(time.process_time() - cpu_before[1], 1)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    doc = {"workspace": str(ws), "points": n, "clients": a.clients, "seconds": a.seconds, "seed": a.seed,
           "mix": dict(MIX), "warmup_s": warm, "cpus": os.cpu_count(), "load_average_before": load_before,
           "load_average_after": os.getloadavg(), "cpu": cpu, **summarise(raw, a.seconds)}
    series = doc.pop("rss_mb")
    brief = {k: v for k, v in series.items() if k != "series"}
    print(f"{doc['requests']:,} requests in {doc['wall_s']} s: {doc['throughput_rps']} req/s, {doc['errors']} errors")
    print(f"{'kind':10} {'share':>5} {'req':>7} {'req/s':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} errors")
    for kind, k in doc["kinds"].items():
        print(f"{kind:10} {k['share']:5.0%} {k['requests']:7,} {k['rps']:7.1f} {k['p50_ms']:8.1f} {k['p90_ms']:8.1f} "
              f"{k['p99_ms']:8.1f} {k['max_ms']:8.1f} {k['errors']}")
    print(f"server RSS MB: {brief}")
    print(f"load average before/after: {doc['load_average_before']} / {doc['load_average_after']}")
    wall = doc["wall_s"]
    print(f"CPU in the timed window: server {cpu['server_s']} s ({cpu['server_s'] / wall:.2f} cores, "
          f"{1000 * cpu['server_s'] / max(1, doc['requests']):.1f} ms a request), client {cpu['client_s']} s "
          f"({cpu['client_s'] / wall:.2f} cores)")
    doc["rss_mb"] = series
    slow = sorted(raw["records"], key=lambda r: -r[2])[:5]
    print("slowest: " + ", ".join(f"{k} at {t:.1f} s took {lat * 1000:.0f} ms" for k, t, lat, _ in slow))
    if a.json:
        a.json.write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
