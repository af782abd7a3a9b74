r"""Global optimality certificates for two-layer ReLU networks on general data.

For a network :math:`f(x) = \sum_j (u_j^\top x + b_j)_+ w_j^\top + c` with outputs
:math:`F = f(X) \in \mathbb{R}^{n \times o}` and objective (``penalty="l1"``, or any
penalty for one output)

.. math::

    J = L(F, Y) + \beta \sum_j \|u_j\|_2 \|w_j\|_1 ,

weak duality (paper Theorem 3.1 / Theorem 6.1 with the conjugate :math:`L^*`; supplementary
A.7.3 for several outputs) gives, for every :math:`G \in \mathbb{R}^{n \times o}` with

.. math::

    |G_k^\top (X u + b \mathbf 1)_+| \le \beta \quad \forall k,\ \forall \|u\|_2 \le 1,\ b ,
    \qquad \mathbf 1^\top G_k = 0 \ \ (\text{with an intercept}),

the lower bound :math:`J^\star \ge D(G) = -L^*(G)` (Fenchel-Young:
:math:`L(F) \ge \langle G, F\rangle - L^*(G)` and :math:`\langle G, F \rangle \ge
-\beta \sum_j \|u_j\| \|w_j\|_1`). The constraint is a maximum over all activation
patterns of the arrangement: :math:`\max_i \max_{s = \pm 1} g_i(s)` with the exact
per-pattern oracle :func:`fastconvexrelu.arrangement.pattern_oracle`. So when the
arrangement is enumerated exactly, :math:`G = \nabla L(F)` (made to satisfy
:math:`\mathbf 1^\top G_k = 0` exactly, and scaled by :math:`s \le \beta / \rho`) certifies

.. math::

    J - J^\star \le J - D(s G) ,

a true bound (the oracle values are inflated by a relative safety margin for rounding).
Without the full arrangement no finite bound is claimed.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["dual_objective", "feasible_direction", "certified_gap"]

_XLOGX_TINY = 1e-300


def _xlogx(a):
    a = np.asarray(a, dtype=np.float64)
    return np.where(a > 0, a * np.log(np.maximum(a, _XLOGX_TINY)), 0.0)


def dual_objective(loss, G, Y, huber_delta=1.0):
    r"""The dual objective :math:`D(G) = -L^*(G)` (``-inf`` outside the domain of :math:`L^*`).

    squared :math:`-\tfrac12\|G\|^2 - \langle G, Y \rangle`; logistic/hinge with
    :math:`a = -y \odot g \in [0, 1]`: :math:`\sum H(a)` (binary entropy) / :math:`\sum a`;
    Huber (:math:`|g| \le \delta`): :math:`-\tfrac12 \|G\|^2 - \langle G, Y\rangle`; softmax
    (rows of :math:`P = G + Y` in the simplex): :math:`-\sum P \log P`.
    """
    G = np.asarray(G, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if loss == "squared":
        return float(-0.5 * np.sum(G * G) - np.sum(G * Y))
    if loss == "huber":
        if np.any(np.abs(G) > huber_delta * (1 + 1e-15)):
            return -math.inf
        return float(-0.5 * np.sum(G * G) - np.sum(G * Y))
    if loss in ("logistic", "hinge"):
        a = -Y * G
        if np.any(a < -1e-15) or np.any(a > 1 + 1e-15):
            return -math.inf
        a = np.clip(a, 0.0, 1.0)
        if loss == "hinge":
            return float(np.sum(a))
        return float(-np.sum(_xlogx(a) + _xlogx(1.0 - a)))
    if loss == "softmax":
        P = G + Y
        if np.any(P < -1e-15) or np.any(np.abs(P.sum(axis=1) - 1.0) > 1e-12):
            return -math.inf
        return float(-np.sum(_xlogx(np.clip(P, 0.0, 1.0))))
    raise ValueError(f"unknown loss {loss!r}")


def _loss_gradient(loss, F, Y, huber_delta):
    if loss == "squared":
        return F - Y
    if loss == "huber":
        return np.clip(F - Y, -huber_delta, huber_delta)
    if loss == "logistic":
        # d/df log(1 + exp(-y f)) = -y sigma(-y f)
        return -Y * (0.5 * (1.0 - np.tanh(0.5 * Y * F)))
    if loss == "hinge":
        # a subgradient: a = 1 where the margin is violated, 0 where it is met strictly,
        # 1/2 on the hinge (any a in [0, 1] is valid there; refined by the scaling below)
        m = Y * F
        a = np.where(m < 1.0, 1.0, 0.0)
        a = np.where(np.abs(m - 1.0) <= 1e-9, 0.5, a)
        return -Y * a
    if loss == "softmax":
        Z = F - F.max(axis=1, keepdims=True)
        E = np.exp(Z)
        return E / E.sum(axis=1, keepdims=True) - Y
    raise ValueError(f"unknown loss {loss!r}")


def _zero_sum_box(g, lo, hi):
    """Closest-by-shift point of {1^T g = 0} in the box: clip(g - t, lo, hi), bisection on t."""
    if lo.size == 0:
        return g
    if np.sum(lo) > 0 or np.sum(hi) < 0:
        return None
    a, b = float(np.min(g - hi)) - 1.0, float(np.max(g - lo)) + 1.0  # sum >= 0 at a, <= 0 at b
    for _ in range(200):
        t = 0.5 * (a + b)
        if np.sum(np.clip(g - t, lo, hi)) > 0:
            a = t
        else:
            b = t
        if b - a <= 1e-17 * max(1.0, abs(t)):
            break
    out = np.clip(g - 0.5 * (a + b), lo, hi)
    # remove the last rounding residual on the coordinates strictly inside the box
    free = (out > lo) & (out < hi)
    if np.any(free):
        out[free] -= np.sum(out) / np.count_nonzero(free)
        out = np.clip(out, lo, hi)
    return out


def feasible_direction(loss, F, Y, intercept=True, huber_delta=1.0):
    r""":math:`G = \nabla L(F)` (a subgradient for the hinge loss), adjusted to lie in the
    domain of :math:`L^*` and, with an intercept, to satisfy :math:`\mathbf 1^\top G_k = 0`.

    Returns ``None`` when no such adjustment exists (then nothing can be certified).
    """
    F = np.asarray(F, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    G = _loss_gradient(loss, F, Y, huber_delta)
    if not intercept:
        return G
    if loss == "squared":
        return G - G.mean(axis=0, keepdims=True)
    if loss == "softmax":
        # P = G + Y must stay row-stochastic and get column sums n_k: shift the column means,
        # then mix with the constant predictor 1 pi^T (exact marginals, strictly positive).
        n = Y.shape[0]
        P = G + Y
        pi = Y.mean(axis=0)
        if np.any(pi <= 0):
            return None
        P = P - P.mean(axis=0, keepdims=True) + pi[None, :]
        neg = P < 0
        if np.any(neg):
            # largest t with (1 - t) P + t 1 pi^T >= 0
            ratios = -P[neg] / (np.broadcast_to(pi, P.shape)[neg] - P[neg])
            t = float(np.max(ratios))
            P = (1.0 - t) * P + t * pi[None, :]
            P = np.maximum(P, 0.0)
        del n
        return P - Y
    # box domains: g_i = -y_i a_i, a in [0, 1] (logistic, hinge); |g_i| <= delta (Huber)
    out = np.empty_like(G)
    for k in range(G.shape[1]):
        if loss == "huber":
            lo = np.full(G.shape[0], -huber_delta)
            hi = np.full(G.shape[0], huber_delta)
        else:
            y = Y[:, k]
            lo = np.where(y > 0, -1.0, 0.0)
            hi = np.where(y > 0, 0.0, 1.0)
        col = _zero_sum_box(G[:, k].copy(), lo, hi)
        if col is None:
            return None
        out[:, k] = col
    return out


def certified_gap(X, Y, F, objective, *, loss, beta, bias, patterns, huber_delta=1.0,
                  margin=1e-9):
    r"""A true upper bound on ``objective`` minus the global optimum, from the exact set of
    all activation ``patterns`` of the arrangement (see the module docstring).

    Parameters
    ----------
    X : ndarray (n, d)
    Y : ndarray (n,) or (n, o)
        Targets as the loss sees them (+-1 labels, one-hot rows for softmax).
    F : ndarray like ``Y``
        Outputs of the network whose ``objective`` (J) is certified.
    objective : float
    loss, beta, bias, huber_delta
    patterns : ndarray (n, P) bool
        ALL patterns (the caller guarantees exactness).
    margin : float
        Relative inflation of the oracle values (rounding safety).

    Returns
    -------
    gap : float
        ``objective - D(s G) >= objective - J*`` (``inf`` when nothing can be certified).
    G : ndarray or None
        The scaled dual point.
    """
    from .arrangement import pattern_oracle

    Y2 = np.asarray(Y, dtype=np.float64).reshape(Y.shape[0], -1)
    F2 = np.asarray(F, dtype=np.float64).reshape(Y2.shape)
    if beta <= 0:
        return math.inf, None
    G = feasible_direction(loss, F2, Y2, intercept=bias, huber_delta=huber_delta)
    if G is None or not np.all(np.isfinite(G)):
        return math.inf, None
    rho = 0.0
    for k in range(G.shape[1]):
        orc = pattern_oracle(X, G[:, k], patterns, bias=bias)
        if not orc.converged:
            return math.inf, None
        vals = np.asarray(orc.values, dtype=np.float64)
        if vals.size:
            # inflate by the oracle's own residuals and a relative rounding margin
            slack = np.asarray(orc.gap, dtype=np.float64) + np.asarray(
                orc.primal_infeasibility, dtype=np.float64)
            top = float(np.max(vals * (1.0 + margin + slack)))
            if not math.isfinite(top):
                return math.inf, None
            rho = max(rho, top)
    s_max = 1.0 if rho <= beta else beta / rho

    def D(s):
        return dual_objective(loss, s * G, Y2, huber_delta)

    # D(s G) is concave in s: golden-section search on [0, s_max] (D(0) = -L*(0) is finite)
    a, b = 0.0, s_max
    best_s, best = s_max, D(s_max)
    d0 = D(0.0)
    if d0 > best:
        best_s, best = 0.0, d0
    phi = 0.5 * (math.sqrt(5.0) - 1.0)
    c1, c2 = b - phi * (b - a), a + phi * (b - a)
    f1, f2 = D(c1), D(c2)
    for _ in range(80):
        if f1 >= f2:
            b, c2, f2 = c2, c1, f1
            c1 = b - phi * (b - a)
            f1 = D(c1)
        else:
            a, c1, f1 = c1, c2, f2
            c2 = a + phi * (b - a)
            f2 = D(c2)
    for s, v in ((c1, f1), (c2, f2)):
        if v > best:
            best_s, best = s, v
    if not math.isfinite(best):
        return math.inf, None
    gap = float(objective) - best
    # the bound itself is computed in floating point: add the rounding of J and D
    gap += 1e-13 * (abs(float(objective)) + abs(best))
    return max(gap, 0.0), best_s * G
