"""The Translate sheet and its endpoints: the stored evaluation of maps between two spaces, measured on demand."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import embedscope
from tests.helpers import client_for


@pytest.fixture(scope="module")
def two_spaces(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("tr") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    embedscope.open(dst).embed("lsa", "tfidf:24")
    return dst


def test_translate_endpoints_store_and_return_the_evaluation(two_spaces: Path) -> None:
    client = client_for(embedscope.open(two_spaces), raise_server_exceptions=False)
    r = client.get("/api/translate", params={"from": "minilm", "to": "lsa"})
    assert r.status_code == 200 and r.json()["result"] is None
    r = client.post("/api/translate", params={"from": "minilm", "to": "lsa"})
    assert r.status_code == 200, r.text
    res = r.json()["result"]
    assert res["from"] == "minilm" and res["to"] == "lsa" and res["pairs"] == 60 and not res["stale"]
    assert res["warning"]  # 60 pairs are too few for a trustworthy figure, and the sheet must say so
    assert {"procrustes", "ridge"} <= {m["method"] for m in res["methods"]}
    again = client.get("/api/translate", params={"from": "minilm", "to": "lsa"}).json()["result"]
    assert again["methods"] == res["methods"]
    assert client.get("/api/translate", params={"from": "minilm", "to": "minilm"}).status_code == 400
    assert client.get("/api/translate", params={"from": "minilm", "to": "nope"}).status_code == 404
    assert client.get("/api/translate", params={"from": "minilm"}).status_code == 422


@pytest.mark.browser
def test_translate_sheet_in_the_browser(two_spaces: Path) -> None:
    from tests.web.pagekit import chromium, open_sheet, screenshot, serving, wait_ready

    with serving(two_spaces) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        wait_ready(page)
        open_sheet(page, "translate")
        page.wait_for_selector("#translate-view, #translate-measure")  # a loading note comes first
        if page.locator("#translate-measure").count():
            page.click("#translate-measure")
        page.wait_for_selector("#translate-view", timeout=180_000)
        methods = page.eval_on_selector_all("#translate-view tbody tr", "rows => rows.map(r => r.dataset.method)")
        assert "ridge" in methods and "procrustes" in methods
        assert page.locator("#translate-warning").is_visible()
        screenshot(page, "translate-sheet")
        context.close()
        assert not errors
