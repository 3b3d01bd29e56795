"""numba's on-disk cache for the layout kernels: compiled once per install, not once per process."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


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


def compile_kernel(namespace: dict[str, Any], kernel: Callable[..., Any], *,
                   helpers: Mapping[str, Mapping[str, Any]] | None = None, **options: Any) -> Any:
    """``kernel`` compiled by numba into the disk cache (:func:`numba_cache`), for a module whose kernels are
    plain Python until first used (so the module imports without numba and compiles only when needed).

    ``namespace`` is the module's globals: its ``prange`` (a ``range`` stand-in) becomes ``numba.prange`` and each
    function named in ``helpers`` is replaced by its compiled form (with those numba options), so the kernel calls
    compiled code. ``options`` are the kernel's numba options (e.g. ``parallel=True``). Raises ImportError
    without numba.
    """
    numba_cache(umap_learn=False)
    import numba

    namespace["prange"] = numba.prange
    for name, opts in (helpers or {}).items():
        namespace[name] = numba.njit(cache=True, **opts)(namespace[name])
    return numba.njit(cache=True, **options)(kernel)


_CACHING = False
_LOCK = threading.Lock()
