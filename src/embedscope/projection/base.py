"""The layout registry: what a layout method returns, what its traits are, and the one dispatch to it.

A new layout method is one module (its fit function) plus one :func:`register` call
(:mod:`embedscope.projection.builtin` registers UMAP, PCA, t-SNE and the sphere). Everything that differs between
methods (which kNN graph a fit needs, whether it reuses another layout, which engines lay it out, where it is
drawn) is a trait of its :class:`LayoutMethod`: no consumer branches on a method's name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    from ..search.exact import KNN

#: Above this many items a sampled method (UMAP) fits a random sample and places the rest; a method that does
#: not need the kNN graph (``needs_graph=False``) then runs without building one when none is stored.
SAMPLE_FIT_MIN = 100_000


@dataclass
class LayoutResult:
    """A 2-D layout.

    Attributes
    ----------
    coords
        float32, shape ``(n, 2)``.
    method
        The registered name of the method (``umap``, ``pca``, ...).
    params
        The parameters actually used (after adapting to small inputs).
    metrics
        Method-specific figures (e.g. explained variance for PCA).
    extra
        Further coordinates: ``xyz`` (n, 3) unit vectors for the sphere (``coords`` are then longitude and
        latitude in degrees), ``z`` (n,) the third principal component for PCA.
    """

    coords: np.ndarray
    method: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    #: The fitted model when the method can place new items later (UMAP fitted on a sample), else None.
    model: Any = None


@dataclass(frozen=True)
class LayoutMethod:
    """A layout method and its traits.

    Attributes
    ----------
    name
        The name users type (``--method``) and the workspace stores (``layout__{space}__{name}``).
    fit
        ``fit(vectors, *, knn, seed, progress, **params) -> LayoutResult``: ``vectors`` of shape ``(n, d)``,
        ``knn`` the stored cosine kNN graph or ``None``, ``progress`` called with (done, total) or ``None``.
    label
        Shown in menus (``UMAP``, ``t-SNE``); the name when empty.
    needs_graph
        False: above :data:`SAMPLE_FIT_MIN` items without a fresh stored kNN graph, none is built for the fit.
    graph_k
        ``graph_k(n, params)``: neighbours per item the fit wants in the kNN graph (``None``: the default k).
    surface
        ``plane``, or ``sphere``: ``coords`` are longitude and latitude, ``extra["xyz"]`` unit vectors (a globe).
    has_xyz
        The layout stores 3-D coordinates (the sphere's unit vectors; PCA's third component).
    sampled
        Accepts ``sample=`` (fit a sample, place the rest): ``embedscope project --sample``.
    supports_place
        Items added later are placed into a stored sampled fit instead of fitting again.
    reuses
        A stored, fresh layout of this method with the same seed is passed to ``fit`` as ``flat=``.
    engines
        Engines that lay the method out (``local``; UMAP also ``ray``).
    rank
        Default choice among stored layouts: the lowest first.
    """

    name: str
    fit: Callable[..., LayoutResult]
    label: str = ""
    needs_graph: bool = True
    graph_k: Callable[[int, Mapping[str, Any]], int] | None = None
    surface: Literal["plane", "sphere"] = "plane"
    has_xyz: bool = False
    sampled: bool = False
    supports_place: bool = False
    reuses: str | None = None
    engines: frozenset[str] = frozenset({"local"})
    rank: int = 100


_METHODS: dict[str, LayoutMethod] = {}


def register(method: LayoutMethod) -> LayoutMethod:
    """Add ``method`` to the registry (replacing one of the same name); returns it."""
    _METHODS[method.name] = method
    return method


def unregister(name: str) -> None:
    """Remove the method called ``name`` (no error when there is none)."""
    _METHODS.pop(name, None)


def method_names() -> tuple[str, ...]:
    """Registered method names, in registration order (``umap``, ``pca``, ``tsne``, ``sphere``, then others)."""
    return tuple(_METHODS)


def get_method(name: str) -> LayoutMethod:
    """The registered method called ``name``.

    Raises
    ------
    ValueError
        ``unknown projection method 'x'; use one of umap, pca, tsne, sphere``.
    """
    try:
        return _METHODS[name]
    except KeyError:
        raise ValueError(f"unknown projection method {name!r}; use one of {', '.join(_METHODS)}") from None


def traits(name: str) -> LayoutMethod:
    """The traits of ``name``: its registered method, or plain defaults (label = name, a plane, rank 100) for
    a method a workspace stores but this process has not registered, so an old workspace still serves."""
    found = _METHODS.get(name)
    if found is not None:
        return found
    return LayoutMethod(name, fit=lambda vectors, **kwargs: get_method(name).fit(vectors, **kwargs), label=name)


def preferred(names: Iterable[str]) -> str | None:
    """The default layout among ``names``: the plane layout of lowest rank (the first of equal rank), or ``None``
    when there is no plane layout among them (a page or widget then shows the first name)."""
    plane = [name for name in names if traits(name).surface == "plane"]
    return min(plane, key=lambda name: traits(name).rank) if plane else None


def project(
    vectors: np.ndarray,
    method: str = "umap",
    *,
    knn: KNN | None = None,
    seed: int = 42,
    progress: Callable[[int, int], None] | None = None,
    **params: Any,
) -> LayoutResult:
    """Project ``vectors`` (shape ``(n, d)``) to 2-D with a registered method.

    Parameters
    ----------
    vectors
        Shape ``(n, d)``.
    method
        A registered name (:func:`method_names`): ``umap`` (default), ``pca``, ``tsne``, ``sphere``, ...
    knn
        The stored cosine kNN graph of the space (UMAP reuses it instead of searching again).
    seed
        Random seed; the same inputs and seed give the same layout.
    progress
        Called with (items placed, total) by methods that work in steps (UMAP on a sample + transform).
    **params
        Method parameters (``n_neighbors``, ``min_dist``, ``sample`` for UMAP; ``perplexity`` for t-SNE).

    Raises
    ------
    ValueError
        ``method`` is not registered.
    """
    return get_method(method).fit(vectors, knn=knn, seed=seed, progress=progress, **params)
