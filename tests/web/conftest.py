"""Browser fixtures: one Chromium and one served copy of the small workspace a module, a fresh page a test.

A module overrides ``workspace`` (or ``server_url``) to serve another workspace, or ``page`` to open it otherwise.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.pagekit import VIEWPORT, chromium, serving, wait_ready


@pytest.fixture(scope="module")
def workspace(_small_scope_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dst = tmp_path_factory.mktemp("browser") / "small.scope"
    shutil.copytree(_small_scope_path, dst)
    return dst


@pytest.fixture(scope="module")
def server_url(workspace: Path) -> Iterator[str]:
    with serving(workspace) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


@pytest.fixture()
def page(browser, server_url: str):
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server_url)
    wait_ready(pg)
    yield pg
    context.close()
    assert not errors, f"errors in the page: {errors}"
