"""Maps from one embedding space to another, and the portable translator file.

Every map works on the same preprocessed data: source vectors are unit-normalised and centred by the
source mean; target vectors are unit-normalised and centred by the target mean. A map ``f`` predicts the
centred target, the target mean is added back, and the result is unit-normalised and scaled to the typical
norm of the target space (1 for unit-normalised spaces)::

    translate(x) = output_norm * normalize(f(normalize(x) - src_mean) + tgt_mean)

Methods
-------
``procrustes``
    Orthogonal Procrustes (Schönemann 1966) with one global scale. When the dimensions differ the smaller
    space is zero-padded, which is the same as a semi-orthogonal map ``W = U V^T`` from the thin SVD of
    ``X^T Y``: an isometry of the source into a ``min(d_s, d_t)``-dimensional subspace of the target.
``ridge``
    Least squares with an L2 penalty, closed form through the SVD of ``X``; the strength is chosen by
    k-fold cross-validation on a log grid relative to the mean eigenvalue of ``X^T X``.
``lowrank``
    Reduced-rank ridge regression (Izenman 1975): the ridge map projected onto the top ``r`` principal
    directions of its fitted values, ``W_r = W V_r V_r^T``, stored as two factors; ``r`` by cross-validation.
``mlp``
    One hidden layer (ReLU) plus a linear skip path that starts at the ridge solution, trained with Adam on
    the cosine loss with early stopping on a validation split (see :mod:`embedscope.translate.mlp`).
``identity``, ``mean``
    Baselines: the source vector itself (equal dimensions only) and the target space's mean vector.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ..io.files import write_bytes_atomic
from .ridge import EPS, cv_rows, lowrank_cv, normalize, prepare, rank_grid, ridge_cv, ridge_factors, ridge_weights

METHODS: tuple[str, ...] = ("procrustes", "ridge", "lowrank", "mlp")
LINEAR: tuple[str, ...] = ("procrustes", "ridge", "lowrank")
BASELINES: tuple[str, ...] = ("identity", "mean")
FORMAT = "embedscope-translator"
FORMAT_VERSION = 1


def available_methods() -> tuple[str, ...]:
    """:data:`METHODS` that can run here (``mlp`` needs torch)."""
    import importlib.util

    return METHODS if importlib.util.find_spec("torch") is not None else LINEAR


def check_vectors(x: np.ndarray, *, what: str = "vectors", file: str | None = None, dim: int | None = None,
                  finite: bool = True, row_offset: int = 0) -> np.ndarray:
    """Validate a matrix of vectors: 2-D, the expected width, finite. Raises :class:`InputError`.

    Parameters
    ----------
    x
        Shape ``(n, d)``.
    what
        How the message names the input (e.g. ``"space 'minilm'"``).
    file
        The file it came from, named in the error.
    dim
        Required number of columns, if any.
    finite
        Also check that every value is finite (reads the whole array).
    row_offset
        Added to row numbers in errors (when ``x`` is a batch of a larger array).

    Returns
    -------
    numpy.ndarray
        ``x`` as an array (not copied when possible).
    """
    a = np.asarray(x)
    if a.ndim != 2:
        raise InputError(f"{what}: expected a 2-D array of vectors (rows x dimensions), got shape {a.shape}", file=file)
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise InputError(f"{what}: expected real numbers, got dtype {a.dtype}", file=file)
    if dim is not None and a.shape[1] != dim:
        raise InputError(f"{what} have {a.shape[1]} dimensions but the translator expects {dim}", file=file)
    if finite and a.size and not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise InputError(f"{what}: non-finite value (NaN or infinity)", file=file, row=row_offset + int(bad[0]) + 1,
                         column=str(int(bad[1])))
    return a


@dataclass
class Translator:
    """A fitted map from a source space (``d_s`` dims) to a target space (``d_t`` dims).

    Attributes
    ----------
    method
        ``procrustes``, ``ridge``, ``lowrank``, ``mlp``, ``identity`` or ``mean``.
    src_dim, tgt_dim
        ``d_s`` and ``d_t``.
    src_mean
        float32, shape ``(d_s,)``: mean of the unit-normalised training sources (subtracted).
    tgt_mean
        float32, shape ``(d_t,)``: mean of the unit-normalised training targets (added back).
    weights
        float32 arrays of the map: ``W`` ``(d_s, d_t)`` for procrustes and ridge; ``A`` ``(d_s, r)`` and
        ``B`` ``(r, d_t)`` for lowrank; ``W1`` ``(d_s, h)``, ``b1`` ``(h,)``, ``W2`` ``(h, d_t)``, ``b2``
        ``(d_t,)``, ``Ws`` ``(d_s, d_t)`` for mlp; none for the baselines.
    output_norm
        Norm of the outputs: 1.0 when the target space is unit-normalised, else the median norm of the
        training targets.
    meta
        JSON-ready facts: source and target space names, training size, chosen parameters, metrics.
    """

    method: str
    src_dim: int
    tgt_dim: int
    src_mean: np.ndarray
    tgt_mean: np.ndarray
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    output_norm: float = 1.0
    meta: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------------------------ apply
    def transform(self, x: np.ndarray, *, batch_size: int = 65_536, file: str | None = None,
                  progress: Any = None, out: np.ndarray | None = None) -> np.ndarray:
        """Translate source vectors into the target space.

        Parameters
        ----------
        x
            Shape ``(n, d_s)``, any float dtype; need not be normalised.
        batch_size
            Rows per batch (bounds memory for large inputs).
        file
            The file ``x`` came from, named in errors.
        progress
            Called as ``progress(done, total)`` after each batch.
        out
            Where to write, shape ``(n, d_t)`` (e.g. a memory-mapped ``.npy``), so input and output can be
            larger than memory (``x`` may be memory-mapped too: it is read batch by batch).

        Returns
        -------
        numpy.ndarray
            float32, shape ``(n, d_t)`` (``out`` if given).
        """
        a = check_vectors(x, what="input vectors", file=file, dim=self.src_dim, finite=False)
        if out is None:
            out = np.empty((a.shape[0], self.tgt_dim), np.float32)
        elif out.shape != (a.shape[0], self.tgt_dim):
            raise ValueError(f"out has shape {out.shape}, expected {(a.shape[0], self.tgt_dim)}")
        for s in range(0, a.shape[0], batch_size):
            part = check_vectors(np.asarray(a[s:s + batch_size], np.float32), what="input vectors", file=file,
                                 row_offset=s)
            out[s:s + batch_size] = self._apply(part)
            if progress is not None:
                progress(min(s + batch_size, a.shape[0]), a.shape[0])
        return out

    def _apply(self, x: np.ndarray) -> np.ndarray:
        xc = normalize(x) - self.src_mean
        w = self.weights
        if self.method in ("procrustes", "ridge"):
            z = xc @ w["W"]
        elif self.method == "lowrank":
            z = (xc @ w["A"]) @ w["B"]
        elif self.method == "mlp":
            z = np.maximum(xc @ w["W1"] + w["b1"], 0) @ w["W2"] + w["b2"] + xc @ w["Ws"]
        elif self.method == "identity":
            z = xc
        elif self.method == "mean":
            z = np.zeros((len(x), self.tgt_dim), np.float32)
        else:  # pragma: no cover - guarded by load()
            raise ValueError(self.method)
        out: np.ndarray = normalize(z + self.tgt_mean)
        if self.output_norm != 1.0:
            out *= np.float32(self.output_norm)
        return out

    __call__ = transform

    # ------------------------------------------------------------------------------------- file
    def save(self, path: str | Path) -> Path:
        """Write the translator as one ``.npz`` file (arrays + a JSON metadata string; no pickle).

        The file is written atomically (a temporary file renamed into place) and its name is kept as
        given (``model.translator`` stays ``model.translator``). Returns the path.
        """
        p = Path(path)
        arrays: dict[str, np.ndarray] = {"src_mean": self.src_mean, "tgt_mean": self.tgt_mean}
        arrays.update({f"w_{k}": v for k, v in self.weights.items()})
        head = {"format": FORMAT, "format_version": FORMAT_VERSION, "method": self.method,
                "src_dim": self.src_dim, "tgt_dim": self.tgt_dim, "output_norm": float(self.output_norm),
                "meta": self.meta}
        arrays["meta"] = np.array(json.dumps(head, ensure_ascii=False, allow_nan=False))
        buf = io.BytesIO()
        np.savez(buf, **arrays)  # type: ignore[arg-type]
        write_bytes_atomic(p, buf.getbuffer())
        return p

    @classmethod
    def load(cls, path: str | Path) -> Translator:
        """Read a translator written by :meth:`save` (never unpickles anything)."""
        p = Path(path)
        if not p.is_file():
            raise InputError("no such translator file", file=p)
        try:
            with np.load(p, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            head = json.loads(str(arrays.pop("meta")))
        except Exception as exc:
            raise InputError(f"not an embedscope translator file ({type(exc).__name__}: {exc})", file=p) from None
        if not isinstance(head, dict) or head.get("format") != FORMAT:
            raise InputError("not an embedscope translator file (no translator metadata)", file=p)
        if int(head.get("format_version", 0)) > FORMAT_VERSION:
            raise InputError(f"translator format {head['format_version']} is newer than this embedscope "
                             f"reads ({FORMAT_VERSION}); upgrade embedscope", file=p)
        method = head["method"]
        if method not in (*METHODS, *BASELINES):
            raise InputError(f"unknown translator method {method!r}", file=p)
        weights = {k[2:]: v for k, v in arrays.items() if k.startswith("w_")}
        return cls(method, int(head["src_dim"]), int(head["tgt_dim"]), arrays["src_mean"], arrays["tgt_mean"],
                   weights, float(head["output_norm"]), dict(head.get("meta") or {}))

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary: method, dimensions, parameter count and metadata."""
        return {"method": self.method, "src_dim": self.src_dim, "tgt_dim": self.tgt_dim,
                "parameters": int(sum(v.size for v in self.weights.values())), "output_norm": self.output_norm,
                **self.meta}


def fit_map(x: np.ndarray, y: np.ndarray, method: str = "ridge", *, seed: int = 0, folds: int = 5,
            params: dict[str, Any] | None = None, meta: dict[str, Any] | None = None) -> Translator:
    """Fit one translator on paired vectors.

    Parameters
    ----------
    x, y
        Source ``(n, d_s)`` and target ``(n, d_t)`` vectors of the same ``n`` items, row for row; any
        scale (they are unit-normalised first).
    method
        One of :data:`METHODS` or :data:`BASELINES`.
    seed
        Seeds the cross-validation splits and the MLP.
    folds
        Folds of the inner cross-validation that picks ridge strength and rank.
    params
        Fixed hyperparameters instead of cross-validated ones: ``alpha`` (relative ridge strength), ``rank``;
        for ``mlp``: ``hidden``, ``max_epochs``, ``patience``, ``lr``, ``weight_decay``, ``batch_size``.
    meta
        Extra metadata stored with the translator.

    Returns
    -------
    Translator
    """
    x = check_vectors(x, what="source vectors")
    y = check_vectors(y, what="target vectors")
    if len(x) != len(y):
        raise InputError(f"{len(x)} source vectors but {len(y)} target vectors; pairs must match row for row")
    if method not in (*METHODS, *BASELINES):
        raise InputError(f"unknown translation method {method!r}; use one of {', '.join(METHODS)} (or auto)")
    n, ds, dt = len(x), x.shape[1], y.shape[1]
    if n < 2 and method not in BASELINES:
        raise InputError(f"{n} pair(s): fitting a translator needs at least 2 paired items (better 1,000)")
    if method == "identity" and ds != dt:
        raise InputError(f"the identity baseline needs equal dimensions, got {ds} and {dt}")
    params = dict(params or {})
    t0 = time.perf_counter()
    pr = prepare(x, y)
    chosen: dict[str, Any] = {}
    weights: dict[str, np.ndarray] = {}
    src_mean, tgt_mean = pr.src_mean, pr.tgt_mean
    inner = max(2, min(folds, n))
    if method == "procrustes":
        xc, yc = pr.xc, pr.yc
        u, sv, vt = np.linalg.svd(xc.T @ yc, full_matrices=False)
        scale = float(sv.sum() / max((xc**2).sum(), EPS))
        weights["W"] = scale * (u @ vt)
        chosen["scale"] = scale
    elif method in ("ridge", "lowrank"):
        rel = params.get("alpha")
        cv = cv_rows(n, seed)
        if rel is None:
            rel, _ = ridge_cv(pr.xn[cv], pr.yn[cv], folds=inner, seed=seed)
        _, _, s, vt, uty, lam = ridge_factors(pr.xn, pr.yn)
        w = ridge_weights(s, vt, uty, float(rel) * lam)
        chosen["alpha"] = float(rel)
        if method == "ridge":
            weights["W"] = w
        else:
            rank = params.get("rank")
            if rank is None:
                rank, _ = lowrank_cv(pr.xn[cv], pr.yn[cv], float(rel), rank_grid(ds, dt, len(cv) * (inner - 1) // inner),
                                     folds=inner, seed=seed)
            rank = int(max(1, min(int(rank), ds, dt)))
            _, _, vy = np.linalg.svd((s[:, None] * vt) @ w, full_matrices=False)
            vr = vy[:rank]
            weights["A"], weights["B"] = w @ vr.T, vr
            chosen["rank"] = rank
    elif method == "mlp":
        from .mlp import fit_mlp

        weights, info = fit_mlp(pr, seed=seed, folds=inner, **params)
        chosen.update(info)
    elif method == "identity":
        src_mean, tgt_mean = np.zeros(ds), np.zeros(dt)
    # mean: no weights; the prediction is the target mean
    tr = Translator(method, ds, dt, np.asarray(src_mean, np.float32), np.asarray(tgt_mean, np.float32),
                    {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in weights.items()}, pr.output_norm)
    tr.meta = {"n_train": n, "params": chosen, "fit_s": round(time.perf_counter() - t0, 3),
               "library": _versions(), **(meta or {})}
    return tr


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("embedscope")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        ours = "unknown"
    return {"embedscope": ours, "numpy": np.__version__}
