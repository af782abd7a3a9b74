r"""Convex losses of the training problem, with what the solvers and certificates need.

Every loss is a sum over the rows of an ``(n, o)`` output matrix ``F`` (paper Theorem 6.1:
any convex loss enters the dual through its Fenchel conjugate :math:`L^*`). Same formulas as
the C++ interface ``cpp/include/fastconvexrelu/losses.hpp`` (``fcr::LossFunction``):

=========  ==============================================  =================================  =====
loss       :math:`L(F)`                                    :math:`L^*(\Lambda)` (domain)       Lip
=========  ==============================================  =================================  =====
squared    :math:`\tfrac12\|F - Y\|^2`                      :math:`\tfrac12\|\Lambda\|^2 + \langle\Lambda, Y\rangle`   1
logistic   :math:`\sum_j \log(1 + e^{-y_j f_j})`            :math:`\sum_j a\log a + (1-a)\log(1-a)`, :math:`a = -y_j\lambda_j\in[0,1]`  1/4
softmax    :math:`\sum_j \mathrm{lse}(F_j) - \langle Y_j, F_j\rangle`  :math:`\sum p\log p`, :math:`P = \Lambda + Y` rows in the simplex  1/2
huber      :math:`\sum h_\delta(F - Y)`                     :math:`\langle\Lambda, Y\rangle + \tfrac12\|\Lambda\|^2`, :math:`|\Lambda|\le\delta`  1
hinge      :math:`\sum_j \max(0, 1 - y_j f_j)`              :math:`\sum_j y_j\lambda_j`, :math:`a = -y_j\lambda_j\in[0,1]`  --
=========  ==============================================  =================================  =====

with :math:`h_\delta(r) = r^2/2` for :math:`|r|\le\delta` and :math:`\delta(|r| - \delta/2)`
otherwise. Logistic and hinge take one column of labels in {-1, +1}; softmax takes one-hot
rows (o >= 2). Weak duality: :math:`L(F) \ge -L^*(\Lambda) + \langle \Lambda, F\rangle`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LOSSES", "loss_value", "loss_gradient", "loss_conjugate", "loss_lipschitz", "check_targets",
           "check_sample_weight"]

LOSSES = ("squared", "logistic", "softmax", "huber", "hinge")
_SLACK = 1e-12


def _as2d(A):
    A = np.asarray(A, dtype=np.float64)
    return A.reshape(-1, 1) if A.ndim == 1 else A


def _check_loss(loss):
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")


def check_targets(Y, loss, name="Y"):
    """Raise ``ValueError`` (naming ``name``) unless ``Y`` suits ``loss``; return it as (n, o)."""
    _check_loss(loss)
    Y = _as2d(Y)
    if Y.ndim != 2 or Y.size == 0:
        raise ValueError(f"{name} must be a non-empty array of shape (n,) or (n, o), got shape {Y.shape}.")
    if not np.all(np.isfinite(Y)):
        raise ValueError(f"{name} contains NaN or infinity; all values must be finite.")
    if loss in ("logistic", "hinge"):
        if Y.shape[1] != 1:
            raise ValueError(f"{name} must have a single column of labels for the {loss} loss, got shape {Y.shape}.")
        if not np.all(np.abs(Y) == 1.0):
            raise ValueError(f"{name} must contain labels in {{-1, +1}} for the {loss} loss.")
    if loss == "softmax":
        if Y.shape[1] < 2:
            raise ValueError(f"{name} must be one-hot with >= 2 columns for the softmax loss, got shape {Y.shape}.")
        if not (np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1)):
            raise ValueError(f"{name} must be one-hot (rows of 0/1 summing to 1) for the softmax loss.")
    return Y


def check_sample_weight(sample_weight, n, name="sample_weight"):
    """``None`` or a float64 vector of ``n`` finite weights >= 0, not all zero (``ValueError``
    naming ``name`` otherwise)."""
    if sample_weight is None:
        return None
    try:
        s = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers.") from None
    if s.ndim == 0:
        s = np.full(int(n), float(s))
    if s.shape != (int(n),):
        raise ValueError(f"{name} must have shape ({int(n)},) (one weight per sample), got {s.shape}.")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} contains NaN or infinity; all weights must be finite.")
    if np.any(s < 0):
        raise ValueError(f"{name} must be >= 0.")
    if not np.any(s > 0):
        raise ValueError(f"{name} must have at least one positive weight.")
    return np.ascontiguousarray(s)


def _pair(F, Y, name="F"):
    F, Y = _as2d(F), _as2d(Y)
    if F.shape != Y.shape:
        raise ValueError(f"{name} and Y must have the same shape, got {F.shape} and {Y.shape}.")
    return F, Y


def _weights(sample_weight, n):
    if sample_weight is None:
        return None
    s = np.asarray(sample_weight, dtype=np.float64).ravel()
    if s.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), got {s.shape}.")
    return s


def _row_values(F, Y, loss, huber_delta):
    r""":math:`\ell(F_j, Y_j)` per row, shape (n,)."""
    if loss == "squared":
        return 0.5 * np.sum((F - Y) ** 2, axis=1)
    if loss == "logistic":
        return np.sum(np.logaddexp(0.0, -Y * F), axis=1)  # per +-1 column, summed
    if loss == "hinge":
        return np.sum(np.maximum(0.0, 1.0 - Y * F), axis=1)  # one-vs-rest columns, summed
    if loss == "huber":
        r = np.abs(F - Y)
        d = float(huber_delta)
        return np.sum(np.where(r <= d, 0.5 * r * r, d * (r - 0.5 * d)), axis=1)
    mx = F.max(axis=1, keepdims=True)  # softmax
    lse = mx[:, 0] + np.log(np.exp(F - mx).sum(axis=1))
    return lse - np.sum(F * Y, axis=1)


def loss_value(F, Y, loss, huber_delta=1.0, sample_weight=None):
    r""":math:`L(F) = \sum_j s_j\,\ell(F_j, Y_j)` as a Python float (``F``, ``Y`` of shape (n,)
    or (n, o); :math:`s_j = 1` without ``sample_weight``)."""
    _check_loss(loss)
    F, Y = _pair(F, Y)
    s = _weights(sample_weight, F.shape[0])
    v = _row_values(F, Y, loss, huber_delta)
    return float(np.sum(v) if s is None else np.dot(s, v))


def loss_gradient(F, Y, loss, huber_delta=1.0, sample_weight=None):
    r""":math:`\nabla L(F)` (shape (n, o), rows scaled by :math:`s_j`); ``ValueError`` for the
    non-differentiable hinge."""
    _check_loss(loss)
    F, Y = _as2d(F), _as2d(Y)
    if loss == "squared":
        G = F - Y
    elif loss == "logistic":
        G = -Y / (1.0 + np.exp(np.clip(Y * F, -700, 700)))
    elif loss == "huber":
        G = np.clip(F - Y, -huber_delta, huber_delta)
    elif loss == "softmax":
        E = np.exp(F - F.max(axis=1, keepdims=True))
        G = E / E.sum(axis=1, keepdims=True) - Y
    else:
        raise ValueError("loss 'hinge' is not differentiable; it has no gradient.")
    s = _weights(sample_weight, G.shape[0])
    return G if s is None else G * s[:, None]


def _xlogx(a):
    r""":math:`a\log a` on :math:`[0, 1]` (0 at 0), ``a`` clipped to it."""
    a = np.clip(a, 0.0, 1.0)
    out = np.zeros_like(a)
    np.log(a, out=out, where=a > 0)
    out *= a
    return out


def _row_conjugates(L, Y, loss, huber_delta):
    r""":math:`\ell^*(\Lambda_j)` per row, shape (n,), or ``None`` outside the domain."""
    if loss == "squared":
        return 0.5 * np.sum(L * L, axis=1) + np.sum(L * Y, axis=1)
    if loss in ("logistic", "hinge"):
        a = -Y * L
        if np.any(a < -_SLACK) or np.any(a > 1 + _SLACK):
            return None
        a = np.clip(a, 0.0, 1.0)
        return np.sum(-a if loss == "hinge" else _xlogx(a) + _xlogx(1.0 - a), axis=1)
    if loss == "huber":
        if np.any(np.abs(L) > huber_delta * (1 + _SLACK)):
            return None
        L = np.clip(L, -huber_delta, huber_delta)
        return np.sum(L * Y, axis=1) + 0.5 * np.sum(L * L, axis=1)
    P = L + Y  # softmax
    if np.any(P < -_SLACK) or np.any(P > 1 + _SLACK) or np.any(np.abs(P.sum(axis=1) - 1) > 1e-10):
        return None
    return np.sum(_xlogx(P), axis=1)


def loss_conjugate(Lam, Y, loss, huber_delta=1.0, sample_weight=None):
    r"""Fenchel conjugate :math:`L^*(\Lambda)`; ``inf`` outside its domain (rounding slack 1e-12).

    With weights :math:`s` (:math:`L = \sum_j s_j\ell_j`):
    :math:`L^*(\Lambda) = \sum_{s_j > 0} s_j\,\ell_j^*(\Lambda_j / s_j)`, and rows with
    :math:`s_j = 0` must be zero."""
    _check_loss(loss)
    L, Y = _pair(Lam, Y, "Lam")
    s = _weights(sample_weight, L.shape[0])
    if s is None:
        v = _row_conjugates(L, Y, loss, huber_delta)
        return float("inf") if v is None else float(np.sum(v))
    pos = s > 0
    if np.any(L[~pos] != 0):
        return float("inf")
    v = _row_conjugates(L[pos] / s[pos, None], Y[pos], loss, huber_delta)
    return float("inf") if v is None else float(np.dot(s[pos], v))


def loss_lipschitz(loss):
    """Lipschitz constant of :math:`\\nabla L` (``inf`` for the hinge)."""
    _check_loss(loss)
    return {"squared": 1.0, "logistic": 0.25, "softmax": 0.5, "huber": 1.0, "hinge": float("inf")}[loss]
