"""Embedding image items: the bundled image model on the items' files (default for a workspace of images), the
cache by content, staleness when a file changes, clear errors, and a CLIP model on disk searched by words."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import embedscope
from embedscope.errors import InputError
from embedscope.results import EmbedReport
from tests.helpers import drawn_image, one_error_line, run_cli
from tests.tinyclip import save_tiny_clip

SHAPES = ("circle", "triangle", "square")


def picture_folder(folder: Path, per_shape: int = 8) -> Path:
    """``per_shape`` drawn pictures of each of three shapes, one subfolder a shape (the ``folder`` metadata)."""
    for c, shape in enumerate(SHAPES):
        (folder / shape).mkdir(parents=True, exist_ok=True)
        for v in range(per_shape):
            drawn_image(c, v, size=96).save(folder / shape / f"{v}.png")
    return folder


@pytest.fixture()
def image_ws(tmp_path: Path) -> embedscope.Scope:
    scope = embedscope.create(tmp_path / "ws.scope")
    scope.ingest_images(picture_folder(tmp_path / "pics"), strict=True)
    return scope


def test_a_workspace_of_images_embeds_its_images_by_default_and_neighbours_share_the_shape(
        image_ws: embedscope.Scope) -> None:
    rep = image_ws.embed()
    assert isinstance(rep, EmbedReport)
    assert (rep.model, rep.modality, rep.space, rep.dim) == ("image", "image", "effnet", 1280)
    assert rep.stats.computed == 24 and rep.skipped_without_text == 0
    rec = image_ws.store.require("vectors__effnet")
    assert rec.params["modality"] == "image" and "images" in rec.inputs
    folder = np.array(image_ws.items_for("effnet", ["folder"]).column("folder").to_pylist())
    nb = image_ws.knn("effnet", 5)
    same = (folder[np.asarray(nb.indices)] == folder[:, None]).mean()
    assert same > 0.8  # chance: 7 of 23 others share the shape (0.30)
    again = image_ws.embed()
    assert isinstance(again, EmbedReport) and again.stats.computed == 0 and again.stats.cached == 24


def test_a_changed_file_makes_the_image_space_stale_and_only_it_is_embedded_again(
        image_ws: embedscope.Scope, tmp_path: Path) -> None:
    image_ws.embed()
    drawn_image(2, 99, size=96).save(tmp_path / "pics" / "circle" / "0.png")  # a square where a circle was
    image_ws.ingest_images(tmp_path / "pics", strict=True)
    assert image_ws.space_info("effnet").stale
    rep = image_ws.embed()
    assert isinstance(rep, EmbedReport) and rep.stats.computed == 1 and rep.stats.cached == 23
    assert not image_ws.space_info("effnet").stale


def test_texts_asked_of_an_image_workspace_and_a_missing_file_are_one_line_errors(
        image_ws: embedscope.Scope, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(image_ws.path)
    code, _, err = run_cli(capsys, "embed", ws, "--model", "tfidf:8")
    assert code == 2
    assert "has no texts to embed (it holds images: embed them with --model image" in one_error_line(err)
    before = (image_ws.path / "scope.json").read_bytes()
    (tmp_path / "pics" / "square" / "3.png").unlink()
    code, _, err = run_cli(capsys, "embed", ws)
    assert code == 2
    line = one_error_line(err)
    assert "square/3.png" in line and "missing" in line
    assert (image_ws.path / "scope.json").read_bytes() == before
    assert "effnet" not in embedscope.open(ws).spaces()


def test_an_image_space_without_a_text_model_asks_for_a_translator(image_ws: embedscope.Scope) -> None:
    image_ws.embed()
    with pytest.raises(InputError, match="translate fit"):
        image_ws.embed_query("a red circle", "effnet")


def test_a_clip_model_on_disk_embeds_images_and_searches_them_by_words_directly(
        image_ws: embedscope.Scope, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("transformers")
    model = tmp_path / "tiny-clip"
    save_tiny_clip(model)
    rep = image_ws.embed("clip", f"clip:{model}")
    assert isinstance(rep, EmbedReport) and rep.modality == "image" and rep.stats.computed == 24
    route = image_ws.query_route("clip")
    assert route["route"] == "model"
    q = image_ws.embed_query("red circle", "clip")
    x = image_ws.store.arrays("clip").x
    assert q.shape == (x.shape[1],)
    assert abs(float(np.linalg.norm(q)) - 1) < 1e-4  # the text tower's vector in the shared (normalised) space
    code, out, err = run_cli(capsys, "neighbors", str(image_ws.path), "--space", "clip", "--query", "red circle",
                             "-k", "3", "--json")
    assert code == 0, err
    assert len(json.loads(out)) == 3
