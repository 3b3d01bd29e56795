"""The static HTML report: every check, every figure a real PNG, the same PNGs on disk; the CLI face."""

from __future__ import annotations

import base64
import io
import re
from html import escape as html_escape
from pathlib import Path

import numpy as np
import pytest

import embedscope
from tests.helpers import run_cli as run

IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="[^"]*" data-figure="([^"]+)">')


def pngs(html: str) -> dict[str, bytes]:
    return {name: base64.b64decode(b64) for b64, name in IMG.findall(html)}


def size(png: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        return im.size


def test_report_of_a_labelled_space_with_layout_and_compression(small_scope: embedscope.Scope, tmp_path: Path) -> None:
    s = small_scope
    s.compress("minilm", ["float16", "int8", "binary"], queries=10)
    out = s.report(tmp_path / "r.html", png_dir=tmp_path / "png")
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html and "https://" not in html, "self-contained, offline"
    for check in s.health("minilm"):
        assert f"<td>{check['name']}</td>" in html
        assert html_escape(check["verdict"]) in html
    figs = pngs(html)
    assert set(figs) >= {"minilm-pairs", "minilm-query", "minilm-labels-topic", "minilm-hubness",
                         "minilm-dimensions", "minilm-item-vector"}
    for name, png in figs.items():
        w, h = size(png)
        assert w > 200 and h > 100, name
        assert (tmp_path / "png" / f"{name}.png").read_bytes() == png, "the same PNG on disk"
    assert "all 1,770 pairs" in html  # 60 items: exact
    assert "ROC AUC" in html and "topic" in html
    assert "Layouts: how honest" in html and "<td>umap</td>" in html
    assert "Compression" in html and "<td>int8</td>" in html
    assert "Distance metrics side by side" in html


def test_report_of_a_vectors_only_space_names_the_rogue_dimension(tmp_path: Path, rng: np.random.Generator) -> None:
    x = rng.normal(size=(30, 12)).astype(np.float32) * 0.1
    x[:, 3] = -0.67 + rng.normal(size=30).astype(np.float32) * 0.01
    s = embedscope.create(tmp_path / "v.scope")
    s.add_vectors("raw", [f"ü-{i:03d}" for i in range(30)], x)
    out = s.report(tmp_path / "v.html", item="ü-007")
    html = out.read_text(encoding="utf-8")
    assert "Rogue dimensions" in html and "<td class=\"num\">3</td>" in html
    assert "Label separation" not in html and "Layouts" not in html and "Compression" not in html
    assert "ü-007" in html
    assert len(pngs(html)) == 5 and not (tmp_path / "png").exists()
    with pytest.raises(embedscope.InputError, match="no item"):
        s.report(tmp_path / "w.html", item="nope")


def test_cli_report(small_scope: embedscope.Scope, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.html"
    code, stdout, err = run(capsys, "report", str(small_scope.path), "-o", str(out), "--space", "minilm",
                            "--png-dir", str(tmp_path / "figs"))
    assert code == 0 and stdout.strip() == str(out) and out.is_file(), err
    assert len(list((tmp_path / "figs").glob("*.png"))) >= 6
    code, stdout, err = run(capsys, "report", str(small_scope.path), "-o", str(tmp_path / "no" / "r.html"))
    assert code == 2 and "does not exist" in err and err.count("\n") == 1
    code, _, err = run(capsys, "report", str(small_scope.path), "--space", "nope", "-o", str(out))
    assert code == 2 and "no space 'nope'" in err


def test_report_shows_what_each_space_knows_about_a_label(tmp_path: Path) -> None:
    from tests.helpers import probe_scope

    s = probe_scope(tmp_path / "p.scope")
    html = s.report(tmp_path / "p.html").read_text(encoding="utf-8")
    assert html.count("Probe: what the space knows about each label") == 2
    rows = re.findall(r"<tr><td>topic</td><td class=\"num\">(\d+)</td><td class=\"num\">(\d+)</td><td>([\d.]+) ", html)
    assert [(int(n), int(c)) for n, c, _ in rows] == [(298, 3), (298, 3)]
    noise, signal = sorted(float(a) for _, _, a in rows)
    assert signal > 0.97 and noise < 0.5
    assert "topic: left out (fewer items than the 5 folds): tiny (2)" in html
