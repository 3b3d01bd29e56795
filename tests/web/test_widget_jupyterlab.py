"""The notebook widget in a real JupyterLab 4 (issue 24): the lasso works there.

JupyterLab takes shift + drag in a notebook to select cells, so the widget has a lasso mode button: when it is on,
a plain drag draws the lasso. The test opens a notebook in JupyterLab (tests/web/jupyterlab.py), runs the cell that
shows the widget, turns lasso mode on, drags a loop with the mouse, and reads the selection back from the kernel.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import embedscope
from tests.helpers import topic_clusters_scope
from tests.web.jupyterlab import KERNEL_IDLE, TOKEN, jupyter_lab, lab_missing, notebook
from tests.web.pagekit import chromium, screenshot

pytest.importorskip("anywidget")

SPACE = "toy"
WIDGET = ".jp-OutputArea-output .embedscope-widget"
HOOK = f"document.querySelector({WIDGET!r}).embedscope"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JupyterLab's root: a 60-item workspace (three topics, vectors in three clusters, a PCA map) and a notebook
    that shows its widget (cell 1) and prints the selected ids (cell 2)."""
    root = tmp_path_factory.mktemp("jupyterlab")
    topic_clusters_scope(root / "toy.scope", SPACE)
    notebook(root / "lasso.ipynb", [
        'import embedscope\nw = embedscope.widget("toy.scope", color="topic")\nw',
        'import json\nprint("SELECTED=" + json.dumps(w.selected))',
    ])
    return root


def _loop(centre: np.ndarray, pts: np.ndarray) -> tuple[float, np.ndarray]:
    """A circle's radius around ``centre`` in the widest gap between the points' distances from it (at least 5
    points in and 5 out), so no point sits near the line, and which points the circle holds."""
    d = np.linalg.norm(pts - centre, axis=1)
    order = np.sort(d)
    gaps = [(order[i + 1] - order[i], i) for i in range(4, len(order) - 5)]  # keep at least 5 in, 5 out
    width, i = max(gaps)
    assert width >= 8, f"no clear gap between the points to draw through ({width:.1f} px)"
    radius = float((order[i] + order[i + 1]) / 2)
    return radius, d < radius


def _run_cell(pg, index: int) -> None:
    cell = pg.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputArea-editor").click()
    pg.keyboard.press("Shift+Enter")


@pytest.mark.browser
@pytest.mark.slow
def test_lasso_mode_selects_the_points_inside_a_dragged_loop_in_jupyterlab(root: Path) -> None:
    missing = lab_missing()
    if missing:
        pytest.skip(missing)
    ids = embedscope.open(root / "toy.scope").point_ids(SPACE)
    with jupyter_lab(root) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
        pg = context.new_page()
        errors: list[str] = []
        console: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.on("console", lambda m: console.append(m.text))
        try:
            pg.goto(f"{url}lab/tree/lasso.ipynb?token={TOKEN}", timeout=60_000)
            pg.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
            pg.wait_for_function(KERNEL_IDLE, timeout=90_000)
            _run_cell(pg, 0)
            pg.locator(WIDGET).wait_for(timeout=90_000)
            pg.wait_for_function(f"{HOOK}?.ready === true", timeout=60_000)
            pg.locator(WIDGET).scroll_into_view_if_needed()
            pg.wait_for_timeout(300)  # let the first frames draw

            # Where the points are on screen, and a loop through the widest gap around the 'cooking' cluster.
            box = pg.locator(f"{WIDGET} canvas").bounding_box()
            origin = np.array([box["x"], box["y"]])
            pts = np.array([pg.evaluate(f"{HOOK}.pointToScreen({r})") for r in range(len(ids))]) + origin
            end = origin + np.array([box["width"], box["height"]])
            assert ((pts >= origin) & (pts <= end)).all()
            topics = embedscope.open(root / "toy.scope").items_for(SPACE).column("topic").to_pylist()
            centre = pts[[t == "cooking" for t in topics]].mean(axis=0)
            radius, inside = _loop(centre, pts)

            # Lasso mode on, then a plain drag around the loop (no modifier key: JupyterLab keeps shift for cells).
            button = pg.locator(f"{WIDGET} button.es-lasso")
            assert button.get_attribute("aria-pressed") == "false"
            button.click()
            assert button.get_attribute("aria-pressed") == "true"
            steps = 48
            loop = [(centre[0] + radius * math.cos(2 * math.pi * k / steps),
                     centre[1] + radius * math.sin(2 * math.pi * k / steps)) for k in range(steps + 1)]
            pg.mouse.move(*loop[0])
            pg.mouse.down()
            for x, y in loop[1:]:
                pg.mouse.move(x, y, steps=3)
            pg.mouse.up()
            pg.wait_for_function(f"{HOOK}.selected.length > 0", timeout=10_000)
            assert sorted(pg.evaluate(f"{HOOK}.selected")) == np.flatnonzero(inside).tolist()
            assert pg.locator(f"{WIDGET} .es-selected").inner_text() == f"{int(inside.sum())} selected"
            img = screenshot(pg, "jupyterlab-lasso")

            # The kernel has the same selection: cell 2 prints it.
            _run_cell(pg, 1)
            output = pg.locator(".jp-Notebook .jp-Cell").nth(1).locator(".jp-OutputArea-output", has_text="SELECTED=")
            output.wait_for(timeout=30_000)
            selected = json.loads(output.inner_text().strip().removeprefix("SELECTED="))
            assert sorted(selected) == sorted(ids[r] for r in np.flatnonzero(inside))
            # The selected points are drawn in the selected colour (colors.ts ACTIVE) in the screenshot.
            shown = sum(int((np.abs(img[round(y) - 2: round(y) + 3, round(x) - 2: round(x) + 3] - [255, 209, 102])
                             .sum(axis=-1) <= 40).any()) for x, y in pts[inside])
            assert shown >= 0.9 * inside.sum()
            # anywidget loaded the module without its warning about a named `render` export.
            assert not [m for m in console if "[anywidget]" in m], [m for m in console if "[anywidget]" in m]
            assert not errors, errors
        finally:
            context.close()
