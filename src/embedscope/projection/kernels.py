"""numba's on-disk cache for the layout kernels: compiled once per install, not once per process."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path


def numba_cache(*, umap_learn: bool = True) -> None:
    """Point numba's on-disk cache at ``~/.cache/embedscope/numba`` unless ``NUMBA_CACHE_DIR`` is set, and (with
    ``umap_learn``, before a step that uses umap-learn) make umap-learn's and pynndescent's kernels use it.

    Most of their kernels are ``numba.njit`` without ``cache=True``, so every new process compiled them again
    (15-20 s of a one-shot ``embedscope project``, docs/BENCHMARKS.md). Each such dispatcher gets numba's own
    disk cache (``Dispatcher.enable_caching``) before its first compilation: the same machine code, compiled
    once per install (kernels numba cannot cache, e.g. those taking a function argument, are compiled as before).
    """
    global _CACHING
    if "NUMBA_CACHE_DIR" not in os.environ:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        path = base / "embedscope" / "numba"
        path.mkdir(parents=True, exist_ok=True)
        os.environ["NUMBA_CACHE_DIR"] = str(path)
    if not umap_learn:
        if "numba" in sys.modules:
            from numba.core import config

            config.reload_config()
        return
    if _CACHING:
        return
    try:
        import umap  # noqa: F401  (imports umap.umap_, umap.layouts, pynndescent, ...)
    except ImportError:
        return
    from numba.core import config
    from numba.core.dispatcher import Dispatcher

    config.reload_config()  # the cache directory set above, if numba was imported before
    with _LOCK:
        if _CACHING:
            return
        for name, mod in list(sys.modules.items()):
            if mod is None or not name.startswith(("umap", "pynndescent")):
                continue
            for obj in list(vars(mod).values()):
                if (isinstance(obj, Dispatcher) and type(getattr(obj, "_cache", None)).__name__ == "NullCache"
                        and not obj.overloads):
                    obj.enable_caching()
        _CACHING = True


_CACHING = False
_LOCK = threading.Lock()
