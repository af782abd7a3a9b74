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

from ._losses import loss_conjugate, loss_gradient

__all__ = ["dual_objective", "certified_gap"]

def dual_objective(loss, G, Y, huber_delta=1.0):
    r"""The dual objective :math:`D(G) = -L^*(G)` (``-inf`` outside the domain of
    :math:`L^*`), from the loss interface :mod:`fastconvexrelu._losses`."""
    return -loss_conjugate(G, Y, loss, huber_delta)


def _loss_gradient(loss, F, Y, huber_delta):
    if loss == "hinge":
        # a subgradient: a = 1 where the margin is violated, 0 where it is met strictly,
        # 1/2 on the hinge (any a in [0, 1] is valid there)
        m = Y * F
        a = np.where(m < 1.0, 1.0, 0.0)
        a = np.where(np.abs(m - 1.0) <= 1e-9, 0.5, a)
        return -Y * a
    return loss_gradient(F, Y, loss, huber_delta)


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


def _make_feasible(loss, G, Y, intercept=True, huber_delta=1.0):
    r"""Adjust a dual candidate ``G`` (e.g. :math:`\nabla L(F)`) to lie in the domain of
    :math:`L^*` and, with an intercept, to satisfy :math:`\mathbf 1^\top G_k = 0`.

    Returns ``None`` when no such adjustment exists (then nothing can be certified).
    """
    G = np.asarray(G, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if not intercept:
        if loss == "softmax":
            return None if dual_objective(loss, G, Y) == -math.inf else G
        if loss in ("squared",):
            return G
        if loss == "huber":
            return np.clip(G, -huber_delta, huber_delta)
        lo = np.where(Y > 0, -1.0, 0.0)
        hi = np.where(Y > 0, 0.0, 1.0)
        return np.clip(G, lo, hi)
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
                  margin=1e-9, dual_candidates=()):
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
    dual_candidates : sequence of ndarray like ``Y``
        Further dual points to try (e.g. a solver's own dual); the best bound is returned.

    Returns
    -------
    gap : float
        ``objective - D(s G) >= objective - J*`` (``inf`` when nothing can be certified).
    G : ndarray or None
        The scaled dual point.
    """
    Y2 = np.asarray(Y, dtype=np.float64).reshape(Y.shape[0], -1)
    F2 = np.asarray(F, dtype=np.float64).reshape(Y2.shape)
    if beta <= 0:
        return math.inf, None
    best_gap, best_G = math.inf, None
    starts = [_loss_gradient(loss, F2, Y2, huber_delta)]
    starts += [np.asarray(c, dtype=np.float64).reshape(Y2.shape) for c in dual_candidates]
    for G0 in starts:
        gap, G = _gap_at(X, Y2, G0, float(objective), loss, beta, bias, patterns,
                         huber_delta, margin)
        if gap < best_gap:
            best_gap, best_G = gap, G
    return best_gap, best_G


def _gap_at(X, Y2, G0, objective, loss, beta, bias, patterns, huber_delta, margin):
    from .arrangement import pattern_oracle

    G = _make_feasible(loss, G0, Y2, bias, huber_delta)
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
