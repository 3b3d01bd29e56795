"""A small MLP translator: one hidden layer plus a linear skip path, trained on the CPU with torch.

``f(x) = relu(x W1 + b1) W2 + b2 + x Ws`` on centred, unit-normalised inputs. The skip ``Ws`` starts at the
cross-validated ridge solution and ``W2`` at zero, so training starts from the best linear map and early
stopping (on a validation split held out of the training pairs) keeps the MLP from ending worse than it on
that split. The loss is ``1 - cos(f(x) + target mean, y)``, the figure the evaluation reports.

Torch is imported lazily (it comes with ``embedscope[local]``); the fitted weights are plain numpy arrays and
applying the map needs no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import MissingDependencyError

if TYPE_CHECKING:
    from .ridge import Prepared


def fit_mlp(pr: Prepared, *, seed: int = 0, folds: int = 5, hidden: int = 512, max_epochs: int = 200,
            patience: int = 10, lr: float = 1e-3, weight_decay: float = 1e-5, batch_size: int = 256,
            val_fraction: float = 0.15, alpha: float | None = None) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Train the MLP on preprocessed pairs.

    Parameters
    ----------
    pr
        Normalised, centred training pairs (:func:`embedscope.translate.ridge.prepare`), ``n`` rows.
    seed
        Seeds the split, the initialisation and the batch order (the result is reproducible).
    folds
        Folds of the cross-validation that picks the ridge strength of the skip path's start.
    hidden
        Hidden units ``h``.
    max_epochs, patience
        Stop after ``patience`` epochs without a better validation loss, or at ``max_epochs``.
    lr, weight_decay
        AdamW settings.
    batch_size
        Pairs per step.
    val_fraction
        Share of the pairs held out for early stopping (at least 2 pairs).
    alpha
        Relative ridge strength for the skip path's start (default: cross-validated).

    Returns
    -------
    weights : dict
        ``W1`` ``(d_s, h)``, ``b1`` ``(h,)``, ``W2`` ``(h, d_t)``, ``b2`` ``(d_t,)``, ``Ws`` ``(d_s, d_t)``.
    info : dict
        ``hidden``, ``epochs`` (best epoch), ``val_cosine``, ``ridge_val_cosine``, ``alpha``.
    """
    try:
        import torch
    except ImportError:
        raise MissingDependencyError("the mlp translator", "local", "torch") from None
    from .ridge import cv_rows, ridge_cv, ridge_factors, ridge_weights

    n, ds = pr.xn.shape
    dt = pr.yn.shape[1]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    nval = min(max(2, round(n * val_fraction)), n - 1)
    va, tr = perm[:nval], perm[nval:]
    if alpha is None:
        cv = tr[cv_rows(len(tr), seed)]
        alpha, _ = ridge_cv(pr.xn[cv], pr.yn[cv], folds=max(2, min(folds, len(cv))), seed=seed) if len(cv) >= 2 \
            else (1.0, {})
    _, _, s, vt, uty, lam = ridge_factors(pr.xc[tr], pr.yc[tr])
    w0 = ridge_weights(s, vt, uty, float(alpha) * lam)

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xc = torch.from_numpy(pr.xc.astype(np.float32))
    yn = torch.from_numpy(pr.yn.astype(np.float32))
    mu = torch.from_numpy(pr.tgt_mean.astype(np.float32))
    l1 = torch.nn.Linear(ds, hidden)
    l2 = torch.nn.Linear(hidden, dt)
    skip = torch.nn.Linear(ds, dt, bias=False)
    with torch.no_grad():
        l2.weight.zero_()
        l2.bias.zero_()
        skip.weight.copy_(torch.from_numpy(w0.T.astype(np.float32)))
    mods = torch.nn.ModuleList([l1, l2, skip])
    opt = torch.optim.AdamW(mods.parameters(), lr=lr, weight_decay=weight_decay)

    def forward(xb: Any) -> Any:
        return l2(torch.relu(l1(xb))) + skip(xb) + mu

    def loss_fn(pred: Any, yb: Any) -> Any:
        return 1.0 - torch.nn.functional.cosine_similarity(pred, yb, dim=1).mean()

    tr_t, va_t = torch.from_numpy(tr), torch.from_numpy(va)
    xv, yv = xc[va_t], yn[va_t]
    with torch.no_grad():
        best = float(loss_fn(forward(xv), yv))
    ridge_val = 1.0 - best
    best_state = {k: v.detach().clone() for k, v in mods.state_dict().items()}
    best_epoch, waited = 0, 0
    for epoch in range(1, max_epochs + 1):
        order = tr_t[torch.randperm(len(tr_t), generator=gen)]
        for b in range(0, len(order), batch_size):
            idx = order[b:b + batch_size]
            opt.zero_grad()
            loss = loss_fn(forward(xc[idx]), yn[idx])
            loss.backward()
            opt.step()
        with torch.no_grad():
            v = float(loss_fn(forward(xv), yv))
        if v < best - 1e-6:
            best, best_epoch, waited = v, epoch, 0
            best_state = {k: t.detach().clone() for k, t in mods.state_dict().items()}
        else:
            waited += 1
            if waited >= patience:
                break
    mods.load_state_dict(best_state)
    weights = {"W1": l1.weight.detach().numpy().T, "b1": l1.bias.detach().numpy(),
               "W2": l2.weight.detach().numpy().T, "b2": l2.bias.detach().numpy(),
               "Ws": skip.weight.detach().numpy().T}
    info = {"hidden": hidden, "epochs": best_epoch, "val_cosine": round(1.0 - best, 6),
            "ridge_val_cosine": round(ridge_val, 6), "alpha": float(alpha), "val_pairs": int(nval)}
    return {k: np.array(v, copy=True) for k, v in weights.items()}, info
