"""A real JupyterLab 4 server for browser tests: started in a subprocess on 127.0.0.1, offline, in a sandbox.

``jupyter_lab(root)`` starts ``python -m jupyterlab`` with ``root`` as its root directory and a fresh
``JUPYTER_CONFIG_DIR``, ``JUPYTER_DATA_DIR``, ``JUPYTER_RUNTIME_DIR``, ``IPYTHONDIR`` and ``HOME`` under
``root/.home`` (nothing of the machine's own Jupyter set-up is read or written), with nothing that goes online: no
news feed, no update check, the read-only extension manager, no language servers. The page exposes the
application as ``window.jupyterapp`` (``KERNEL_IDLE`` waits on it). The kernel inherits the
server's environment, so ``PYTHONPATH`` puts the embedscope under test first. The server is killed on exit.
``notebook(path, cells)`` writes a notebook of code cells for it to open.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import embedscope
from tests.web.pagekit import free_port

TOKEN = "embedscope-test-token"
#: A page expression: the current notebook's kernel is connected and idle.
KERNEL_IDLE = ("(() => { const k = window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel;"
               " return !!k && k.connectionStatus === 'connected' && k.status === 'idle'; })()")
#: Seconds to wait for the server to answer ``/api/status``.
START_TIMEOUT = 90
#: Front-end plugins that go online or pop up dialogs (news, update notices, extension manager).
DISABLED_PLUGINS = [
    "@jupyterlab/apputils-extension:announcements",
    "@jupyterlab/extensionmanager-extension",
]


def lab_missing() -> str | None:
    """Why JupyterLab cannot run here, or None when it can."""
    try:
        import ipykernel  # noqa: F401
        import jupyterlab  # noqa: F401
    except ImportError as e:
        return f"JupyterLab is not installed ({e.name}): pip install jupyterlab (make setup does)"
    return None


@contextmanager
def jupyter_lab(root: Path) -> Iterator[str]:
    """JupyterLab serving ``root``; yields its base URL (``http://127.0.0.1:PORT/``; the token is ``TOKEN``)."""
    home = root / ".home"
    dirs = {name: home / sub for name, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                                                ("JUPYTER_RUNTIME_DIR", "runtime"), ("IPYTHONDIR", "ipython")]}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    config = dirs["JUPYTER_CONFIG_DIR"]
    (config / "labconfig").mkdir(exist_ok=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {name: True for name in DISABLED_PLUGINS}}))
    port = free_port()
    (config / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {"ip": "127.0.0.1", "port": port, "port_retries": 0, "open_browser": False, "allow_root": True,
                      "root_dir": str(root), "terminals_enabled": False},
        "IdentityProvider": {"token": TOKEN},
        "LanguageServerManager": {"autodetect": False},
        "LabApp": {"news_url": None, "extension_manager": "readonly", "expose_app_in_browser": True,
                   "check_for_updates_class": "jupyterlab.handlers.announcements.NeverCheckForUpdate"},
    }))
    src = str(Path(embedscope.__file__).resolve().parents[1])
    env = {**os.environ, **{k: str(v) for k, v in dirs.items()}, "HOME": str(home), "JUPYTER_PLATFORM_DIRS": "1",
           "PYTHONPATH": os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])}
    env.pop("JUPYTER_PATH", None)
    log = root / ".home" / "jupyterlab.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser"], cwd=root, env=env,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode} before answering:\n"
                            f"{log.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}api/status?token={TOKEN}", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT} s:\n"
                            f"{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code ``cells`` (Python 3 kernel) to ``path``."""
    nb = {
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "cells": [{"cell_type": "code", "id": f"cell-{i}", "metadata": {}, "execution_count": None, "outputs": [],
                   "source": source} for i, source in enumerate(cells)],
    }
    path.write_text(json.dumps(nb, indent=1))
    return path
