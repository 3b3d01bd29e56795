"""End to end: ``embedscope contexts`` run for real on the planted corpus (tests/data/bank_senses.csv: 24 river
banks, 24 money banks), its sub-workspace served, and the page's layer control showing exactly what the command
measured: every layer with its purity, the default (last) layer first, coloured by the known senses, and a
click on layer 0 drawing layer 0's map (where the senses do not separate)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import embedscope
from tests.helpers import DATA, run_cli
from tests.web.pagekit import screenshot, serving

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    ws = tmp_path_factory.mktemp("contexts-cli-web") / "ws"
    embedscope.create(ws).ingest(str(DATA / "bank_senses.csv"))
    report = embedscope.open(ws).contexts("bank", label="sense")
    sub = Path(report.workspace)
    assert sub == ws / "contexts" / "bank"
    return sub, {"layers": embedscope.open(sub).store.read("contexts").to_pylist()}


@pytest.fixture(scope="module")
def server_url(built: tuple[Path, dict]) -> Iterator[str]:
    with serving(built[0]) as url:
        yield url


def test_the_command_json_and_the_page_agree(built, capsys) -> None:
    sub, stored = built
    code, out, _ = run_cli(capsys, "contexts", str(sub.parent.parent), "--word", "bank", "--label", "sense", "--json")
    assert code == 0
    got = json.loads(out)
    assert [r["purity"] for r in got["layers"]] == pytest.approx([r["purity"] for r in stored["layers"]])
    assert got["purity"] >= 0.9 > got["layers"][0]["purity"]


def test_the_real_contexts_workspace_opens_at_its_last_layer_with_every_layer_purity(page, built) -> None:
    _, stored = built
    assert page.evaluate("__embedscope.space") == "layer_6"
    assert page.locator("#contexts-title").inner_text() == "Contexts of “bank” · 48 occurrences"
    figures = page.locator("#layer-buttons .layer-fig").all_inner_texts()
    assert figures == [f"{r['purity']:.2f}" for r in stored["layers"]]
    assert page.evaluate("__embedscope.colorBy") == "sense"
    screenshot(page, "contexts-real-layer-6")
    page.locator('#layer-buttons button[data-layer="0"]').click()
    page.wait_for_function("__embedscope.space === 'layer_0' && __embedscope.ready")
    assert page.locator("#layer-summary").inner_text().startswith(
        f"Layer 0 · purity {stored['layers'][0]['purity']:.2f} vs sense")
    screenshot(page, "contexts-real-layer-0")
