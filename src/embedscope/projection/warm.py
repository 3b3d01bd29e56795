"""Compile the layout kernels ahead of the first layout (``make`` at install, ``embedscope demo`` while it
embeds), so that a user's first map does not wait for numba."""

from __future__ import annotations

import threading

import numpy as np

from .kernels import numba_cache


def warm_up(*, placement: bool = True) -> None:
    """Compile (or load from the disk cache) the kernels of a flat UMAP, the sphere's relaxation, the honesty
    metrics and placing items into a sampled fit, on a small random input, so that a later layout in this or
    any other process of the install does not wait for numba (1-2 minutes on a fresh install here; a few
    seconds once cached). ``placement=False`` leaves out placing items into a sampled fit (umap-learn's own
    kernels, only used above 100,000 items): what the demo's 10,000 verses need, without a minute of compiling
    beside the embedding on a fresh install."""
    numba_cache(umap_learn=placement)
    try:
        import numba  # noqa: F401
    except ImportError:
        return
    from ..search.exact import knn_graph
    from .quality import layout_quality
    from .sphere import relaxed_sphere
    from .umap import fit_sample, place, umap_layout

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 16)).astype(np.float32)
    knn = knn_graph(x, k=15, metric="cosine")
    flat = umap_layout(x, knn=knn, seed=0, n_epochs=5).coords
    relaxed_sphere(x, flat, knn=knn, seed=0, n_epochs=5)
    layout_quality(x, flat, k=10)
    if not placement:
        return
    model, _, _, _, _ = fit_sample(x[:200], seed=0, n_neighbors=15, min_dist=0.1, sample=150, n_epochs=5)
    place(model, x[200:])


def warm_up_in_background(*, placement: bool = True) -> threading.Thread:
    """:func:`warm_up` in a daemon thread (started; ``join`` it before the process ends so the cache is
    complete). Failures are ignored: the layout compiles when it runs."""

    def run() -> None:
        try:
            warm_up(placement=placement)
        except Exception:  # best effort: the real layout compiles and reports any error
            pass

    t = threading.Thread(target=run, name="embedscope-umap-warm-up", daemon=True)
    t.start()
    return t
