"""UMAP layouts on Ray: fitted on a sample in the driver, every transform batch of the other items a task."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from .runtime import import_ray, ray_runtime
from .staging import ShardStage, gather


# ------------------------------------------------------------------------------------------- layouts
def _place_shard(model: Any, x: np.ndarray) -> dict[str, np.ndarray]:
    """Items ``x`` (m, d) placed into a fitted UMAP layout: ``{"coords": float32 (m, 2)}``."""
    from ...projection.umap import numba_cache, place

    numba_cache()  # the compiled kernels of an earlier run, shared with the driver
    return {"coords": place(model, x)}


def umap_layout_ray(
    vectors: np.ndarray,
    *,
    seed: int = 42,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    sample: int | None = None,
    address: str | None = None,
    staging: str | os.PathLike[str] | None = None,
    key: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> Any:
    """UMAP fitted on a sample in the driver, every other item placed by ``transform`` in Ray tasks.

    The fit is :func:`embedscope.projection.umap.fit_sample`; each of its transform batches is one task
    (:func:`embedscope.projection.umap.place`), the fitted model put once in the object store and each batch's
    vectors shipped with its task. umap-learn seeds every ``transform`` call, so the layout is the one the
    single-process path gives with the same seed and sample. Finished batches are staged (:class:`ShardStage`)
    and a killed job reruns only the others (after fitting again: the fit is deterministic for a seed).

    Parameters
    ----------
    vectors
        Shape ``(n, d)``.
    seed, n_neighbors, min_dist
        As :func:`embedscope.projection.umap.umap_layout`.
    sample
        Items in the fit; default as the single-process path (``SAMPLE_SIZE`` above ``SAMPLE_FIT_MIN`` items).
        With no sample (or one as large as ``n``) there is nothing to place and the layout is fitted on all
        items in this process.
    address
        See :func:`ray_runtime`.
    staging, key
        Directory for finished batches (``None``: no resume) and a fingerprint of ``vectors``.
    progress
        Called with (items laid out, n).

    Returns
    -------
    embedscope.projection.base.LayoutResult
        With ``params["engine"] = "ray"`` and ``params["shards"]`` when Ray placed items.
    """
    from ...projection.base import SAMPLE_FIT_MIN, LayoutResult
    from ...projection.umap import SAMPLE_SIZE, fit_sample, numba_cache, umap_layout

    import_ray()  # a missing extra is reported whatever the size
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(x)
    if sample is None and n > SAMPLE_FIT_MIN:
        sample = SAMPLE_SIZE
    if sample is None or sample >= n or n < 5:
        res = umap_layout(x, seed=seed, n_neighbors=n_neighbors, min_dist=min_dist, sample=sample, progress=progress)
        res.params["engine"] = "local (fitted on every item: nothing to place)"
        return res
    numba_cache()
    if progress:
        progress(0, n)
    model, fit_rows, fit_coords, batches, params = fit_sample(x, seed=seed, n_neighbors=n_neighbors,
                                                              min_dist=min_dist, sample=sample)
    out = np.empty((n, 2), np.float32)
    out[fit_rows] = fit_coords
    laid = [sample]
    if progress:
        progress(laid[0], n)
    stage = ShardStage(staging, {"step": "umap", "key": key, "n": n, "seed": seed, "n_neighbors": n_neighbors,
                                 "min_dist": min_dist, "sample": sample, "batches": len(batches)})
    with ray_runtime(address) as ray:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        task = ray.remote(num_cpus=1, max_retries=3)(_place_shard)
        model_ref: list[Any] = []

        def submit(j: int) -> Any:
            if not model_ref:
                model_ref.append(ray.put(model))
            return task.remote(model_ref[0], x[batches[j]])

        def use(j: int, res: dict[str, np.ndarray]) -> None:
            out[batches[j]] = res["coords"]
            laid[0] += len(batches[j])
            if progress:
                progress(laid[0], n)

        # at most two batches per CPU in flight: each carries its rows' vectors through the object store
        gather(ray, stage, len(batches), submit, use, None, window=2 * cpus)
        model_ref.clear()
    if not np.isfinite(out).all():
        raise FloatingPointError("UMAP produced non-finite coordinates")
    stage.drop()
    params.update({"engine": "ray", "shards": len(batches)})
    return LayoutResult(out, "umap", params, extra={"fit_rows": fit_rows}, model=model)
