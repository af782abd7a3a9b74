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

Weight decay for vector outputs (``penalty="weight_decay"``, supplementary A.7, Lemma 1):
:math:`J = L(F, Y) + \beta\sum_j\|u_j\|_2\|w_j\|_2` has the same dual objective under the
constraint :math:`\rho(G) = \sup_{\|u\|\le1, b}\|G^\top(Xu + b\mathbf 1)_+\|_2 \le \beta`
((49); :math:`\langle G, F\rangle \ge -\sum_j \|G^\top\phi_j\|_2\|w_j\|_2`).
:func:`weight_decay_dual_norm` bounds :math:`\rho(G)` from above over all patterns (branch and
bound over the output directions with the exact scalar oracle), and ``s G`` with
:math:`s \le \beta/\rho_{\text{upper}}` certifies as above.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._losses import loss_conjugate, loss_gradient

__all__ = ["dual_objective", "certified_gap", "weight_decay_dual_norm", "DualNorm"]

def dual_objective(loss, G, Y, huber_delta=1.0, sample_weight=None):
    r"""The dual objective :math:`D(G) = -L^*(G)` (``-inf`` outside the domain of
    :math:`L^*`), from the loss interface :mod:`fastconvexrelu._losses` (weighted loss
    :math:`\sum_j s_j\ell_j` with ``sample_weight``)."""
    return -loss_conjugate(G, Y, loss, huber_delta, sample_weight=sample_weight)


def _loss_gradient(loss, F, Y, huber_delta):
    if loss == "hinge":
        # a subgradient: a = 1 where the margin is violated, 0 where it is met strictly,
        # 1/2 on the hinge (any a in [0, 1] is valid there)
        m = Y * F
        a = np.where(m < 1.0, 1.0, 0.0)
        a = np.where(np.abs(m - 1.0) <= 1e-9, 0.5, a)
        return -Y * a
    return loss_gradient(F, Y, loss, huber_delta)


def _zero_sum_box(g, lo, hi, w=None):
    """Closest-by-shift point of {w^T g = 0} in the box: clip(g - t, lo, hi), bisection on t
    (w: nonnegative weights, default all ones)."""
    if lo.size == 0:
        return g
    w = np.ones_like(g) if w is None else w
    if np.dot(w, lo) > 0 or np.dot(w, hi) < 0:
        return None
    a, b = float(np.min(g - hi)) - 1.0, float(np.max(g - lo)) + 1.0  # sum >= 0 at a, <= 0 at b
    for _ in range(200):
        t = 0.5 * (a + b)
        if np.dot(w, np.clip(g - t, lo, hi)) > 0:
            a = t
        else:
            b = t
        if b - a <= 1e-17 * max(1.0, abs(t)):
            break
    out = np.clip(g - 0.5 * (a + b), lo, hi)
    # remove the last rounding residual on the coordinates strictly inside the box
    free = (out > lo) & (out < hi) & (w > 0)
    if np.any(free):
        out[free] -= np.dot(w, out) / np.sum(w[free])
        out = np.clip(out, lo, hi)
    return out


def _make_feasible(loss, G, Y, intercept=True, huber_delta=1.0, sample_weight=None):
    r"""Adjust a dual candidate ``G`` (e.g. :math:`\nabla L(F)`) to lie in the domain of
    :math:`L^*` and, with an intercept, to satisfy :math:`\mathbf 1^\top G_k = 0`.

    With ``sample_weight`` :math:`s` (loss :math:`\sum_j s_j\ell_j`, ``G`` its gradient, rows
    scaled by :math:`s_j`) the candidate is :math:`G = s\circ A` with every row :math:`A_j` in
    the domain of :math:`\ell^*` (rows with :math:`s_j = 0` are zero).

    Returns ``None`` when no such adjustment exists (then nothing can be certified).
    """
    G = np.asarray(G, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if sample_weight is None:
        return _make_feasible_rows(loss, G, Y, intercept, huber_delta, None)
    s = np.asarray(sample_weight, dtype=np.float64).ravel()
    pos = s > 0
    A = np.zeros_like(G)
    A[pos] = G[pos] / s[pos, None]
    A = _make_feasible_rows(loss, A, Y, intercept, huber_delta, s)
    return None if A is None else A * s[:, None]


def _make_feasible_rows(loss, G, Y, intercept, huber_delta, w):
    """:func:`_make_feasible` for the rows ``A`` of ``G = w o A``: each row in the domain of
    the loss's row conjugate, ``w^T A = 0`` with an intercept (``w=None``: all ones)."""
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
    wn = None if w is None else w / np.sum(w)  # weights of the (weighted) column means
    if loss == "squared":
        return G - (G.mean(axis=0, keepdims=True) if wn is None else (wn @ G)[None, :])
    if loss == "softmax":
        # P = G + Y must stay row-stochastic with (weighted) column means pi: shift the column
        # means, then mix with the constant predictor 1 pi^T (exact marginals, >= 0).
        P = G + Y
        pi = Y.mean(axis=0) if wn is None else wn @ Y
        if np.any(pi <= 0):
            return None
        P = P - (P.mean(axis=0, keepdims=True) if wn is None else (wn @ P)[None, :]) + pi[None, :]
        neg = P < 0
        if np.any(neg):
            # largest t with (1 - t) P + t 1 pi^T >= 0
            ratios = -P[neg] / (np.broadcast_to(pi, P.shape)[neg] - P[neg])
            t = float(np.max(ratios))
            P = (1.0 - t) * P + t * pi[None, :]
            P = np.maximum(P, 0.0)
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
        col = _zero_sum_box(G[:, k].copy(), lo, hi, w)
        if col is None:
            return None
        out[:, k] = col
    return out


def certified_gap(X, Y, F, objective, *, loss, beta, bias, patterns, huber_delta=1.0,
                  margin=1e-9, dual_candidates=(), penalty="l1", rel_tol=1e-10, max_evals=400):
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
    penalty : {"l1", "weight_decay"}, default="l1"
        Penalty of ``objective``: :math:`\beta\sum_j\|u_j\|_2\|w_j\|_1` (A.7.3) or the
        weight decay :math:`\beta\sum_j\|u_j\|_2\|w_j\|_2` (A.7, Lemma 1; ``"l2"`` is an
        alias). The same for one output. The dual constraint of the weight decay is
        :math:`\rho(G) = \sup_{\|u\|\le1, b}\|G^\top(Xu + b\mathbf 1)_+\|_2 \le \beta`,
        bounded from above by :func:`weight_decay_dual_norm`.
    rel_tol, max_evals : float, int
        ``penalty="weight_decay"``: target relative accuracy and budget (oracle passes) of
        the upper bound on :math:`\rho(G)`; a looser bound is still a valid one.

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
    if penalty not in ("l1", "weight_decay", "l2"):
        raise ValueError(f"penalty must be 'l1' or 'weight_decay', got {penalty!r}.")
    wd = penalty != "l1" and Y2.shape[1] > 1
    best_gap, best_G = math.inf, None
    starts = [_loss_gradient(loss, F2, Y2, huber_delta)]
    starts += [np.asarray(c, dtype=np.float64).reshape(Y2.shape) for c in dual_candidates]
    for G0 in starts:
        gap, G = _gap_at(X, Y2, G0, float(objective), loss, beta, bias, patterns,
                         huber_delta, margin, wd, rel_tol, max_evals)
        if gap < best_gap:
            best_gap, best_G = gap, G
    return best_gap, best_G


def _gap_at(X, Y2, G0, objective, loss, beta, bias, patterns, huber_delta, margin,
            weight_decay=False, rel_tol=1e-10, max_evals=400):
    G = _make_feasible(loss, G0, Y2, bias, huber_delta)
    if G is None or not np.all(np.isfinite(G)):
        return math.inf, None
    if weight_decay:
        rho = weight_decay_dual_norm(X, G, patterns, bias=bias, margin=margin,
                                     rel_tol=rel_tol, max_evals=max_evals, floor=beta).upper
    else:
        rho = _rho_l1(X, G, patterns, bias, margin)
    if not math.isfinite(rho):
        return math.inf, None
    return scaled_dual_gap(loss, G, Y2, rho, beta, objective, huber_delta)


def _oracle_max(X, v, patterns, bias, margin):
    """Per-pattern oracle values of ``v`` (both signs), inflated by the oracle's own residuals
    and a relative rounding margin; ``None`` if some pattern problem did not converge."""
    from .arrangement import pattern_oracle

    orc = pattern_oracle(X, v, patterns, bias=bias)
    if not orc.converged:
        return None, orc
    if bias and np.any(orc.status == 1):
        orc = _all_active_fix(X, v, patterns, orc)
    vals = np.asarray(orc.values, dtype=np.float64)
    slack = np.asarray(orc.gap, dtype=np.float64) + np.asarray(
        orc.primal_infeasibility, dtype=np.float64)
    return vals * (1.0 + margin + slack), orc


def _all_active_fix(X, v, patterns, orc):
    r"""The all-active pattern :math:`D = I` is unbounded exactly when
    :math:`\mathbf 1^\top v \ne 0`; a dual point made to satisfy :math:`\mathbf 1^\top v = 0`
    keeps a rounding residual (:math:`\sim 10^{-16}\|v\|_1`) that the exact oracle reports as
    unbounded. For such a residual the value is the one at :math:`\mathbf 1^\top v = 0`,
    :math:`\sup\{v^\top(Xu + b\mathbf 1): Xu + b\mathbf 1 \ge 0, \|u\| \le 1\} =
    \|X^\top v\|_2` (both signs; :math:`u = \pm X^\top v/\|X^\top v\|`, :math:`b` just large
    enough), inflated by the residual times :math:`\max_i |x_i^\top u + b|`-scale bounds."""
    vals = np.array(orc.values, dtype=np.float64)
    U = np.array(orc.hidden_weights, dtype=np.float64)
    B = np.array(orc.hidden_bias, dtype=np.float64)
    st = np.array(orc.status)
    s1 = float(np.sum(v))
    if abs(s1) > 1e-12 * max(float(np.sum(np.abs(v))), 1e-300):
        return orc
    pats = np.asarray(patterns, dtype=bool)
    full = np.all(pats, axis=0)
    g = X.T @ v
    gn = float(np.linalg.norm(g))
    for i in np.flatnonzero(full):
        for s in (0, 1):
            if st[i, s] != 1:
                continue
            u = (1.0 if s == 0 else -1.0) * g / gn if gn > 0 else np.zeros(X.shape[1])
            b = float(-np.min(X @ u)) if X.shape[0] else 0.0
            # value at this (u, b) plus the residual's contribution |1^T v| |b| (rounding)
            vals[i, s] = gn + abs(s1) * (abs(b) + 1.0) + 1e-15 * float(np.sum(np.abs(v)))
            U[i, s], B[i, s], st[i, s] = u, b, 0
    return orc._replace(values=vals, hidden_weights=U, hidden_bias=B, status=st)


def _rho_l1(X, G, patterns, bias, margin):
    r""":math:`\max_k \sup_{\|u\|\le 1, b} |G_k^\top(Xu + b)_+|` over the given patterns."""
    rho = 0.0
    for k in range(G.shape[1]):
        vals, _ = _oracle_max(X, G[:, k], patterns, bias, margin)
        if vals is None:
            return math.inf
        if vals.size:
            top = float(np.max(vals))
            if not math.isfinite(top):
                return math.inf
            rho = max(rho, top)
    return rho


def scaled_dual_gap(loss, G, Y2, rho, beta, objective, huber_delta=1.0, sample_weight=None):
    r"""``objective - max_{0 <= s <= min(1, beta/rho)} D(s G)`` and the maximizing ``s G``.

    ``G`` must already lie in the domain of :math:`L^*` (and satisfy the intercept's
    :math:`\mathbf 1^\top G = 0`); ``rho`` is an upper bound on the dual norm of ``G`` (the
    left side of the dual constraint), so ``s G`` is dual feasible and the result is a true
    bound on ``objective`` minus the optimum of the problem whose constraint ``rho`` bounds.
    """
    rho = float(rho)
    s_max = 1.0 if rho <= beta else beta / rho

    def D(s):
        return dual_objective(loss, s * G, Y2, huber_delta, sample_weight)

    # D(s G) is concave in s: golden-section search on [0, s_max] (D(0) = -L*(0) is finite)
    a, b = 0.0, s_max
    best_s, best = s_max, D(s_max)
    d0 = D(0.0)
    if d0 > best:
        best_s, best = 0.0, d0
    phi = 0.5 * (math.sqrt(5.0) - 1.0)
    c1, c2 = b - phi * (b - a), a + phi * (b - a)
    f1, f2 = D(c1), D(c2)
    for _ in range(40):  # the bracket shrinks to 0.618^40 ~ 4e-9 of [0, s_max]
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


class DualNorm(NamedTuple):
    r"""Result of :func:`weight_decay_dual_norm`.

    Attributes
    ----------
    upper : float
        Upper bound on :math:`\rho(G)` over the given patterns (``inf`` if an oracle
        problem did not converge).
    lower : float
        :math:`\max\|G^\top(Xu + b\mathbf 1)_+\|_2` over the candidate neurons found.
    hidden_weights : ndarray of shape (d, K)
        Candidate neurons :math:`u` (unit norm), best first.
    hidden_bias : ndarray of shape (K,)
    values : ndarray of shape (K,)
        :math:`\|G^\top(Xu + b\mathbf 1)_+\|_2` of the candidates.
    n_evals : int
        Oracle passes (each one :func:`~fastconvexrelu.arrangement.pattern_oracle` call).
    converged : bool
        ``upper <= (1 + rel_tol) * max(lower, inflated vertex values)``.
    """

    upper: float
    lower: float
    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    values: np.ndarray
    n_evals: int
    converged: bool


def weight_decay_dual_norm(X, G, patterns, *, bias=True, margin=1e-9, rel_tol=1e-10,
                           max_evals=400, n_candidates=3, floor=0.0, stop_above=math.inf):
    r"""Bounds on the dual norm of the weight-decay penalty (supplementary A.7, (49)-(50)),

    .. math::

        \rho(G) = \max_{D \in \mathcal D}\ \sup\{\|G^\top D(Xu + b\mathbf 1)\|_2 :
        (2D - I)(Xu + b\mathbf 1) \ge 0,\ \|u\|_2 \le 1\},

    over the activation patterns ``patterns`` (all of them: :math:`\rho(G) =
    \sup_{\|u\|\le1, b}\|G^\top(Xu + b\mathbf 1)_+\|_2`).

    Writing :math:`\|z\|_2 = \max_{\|a\|_2 = 1} a^\top z`,
    :math:`\rho(G) = \max_{\|a\| = 1} h(Ga)` with :math:`h(v) = \max_i g_i(v)` the exact
    scalar pattern oracle of :func:`fastconvexrelu.arrangement.pattern_oracle` (the support
    function of the union of the pattern cones, so :math:`h` is sublinear: convex and
    positively homogeneous). Branch and bound over the sphere of :math:`a`: the sphere is
    covered by simplicial cones (the orthants with :math:`a_1 \ge 0` and their antipodes, as
    :math:`h(Ga)` and :math:`h(-Ga)` come from one oracle pass); for a cone spanned by unit
    vectors :math:`a_1..a_o`, every unit :math:`a = \sum_j \lambda_j a_j` has
    :math:`\lambda \ge 0`, :math:`\sum_j\lambda_j \le \|\nu\|_2` where
    :math:`A^\top\nu = \mathbf 1`, hence :math:`h(Ga) \le \sum_j \lambda_j h(Ga_j) =
    p^\top a \le \min(\|p\|_2, \|\nu\|_2 \max_j h(Ga_j))` with :math:`A^\top p =
    (h(Ga_j))_j` (exact once :math:`h` is linear on the cone). The cone
    with the largest bound is split at the midpoint of its longest edge until the bound is
    within ``rel_tol`` of the best vertex value or ``max_evals`` oracle passes were made. The
    per-pattern bound :math:`\max_i (\sum_k \max_\pm g_i(\pm G_k)^2)^{1/2}` (each coordinate
    bounded separately) is also valid and the smaller bound is returned. Oracle values are
    inflated by their own residuals and ``margin`` (rounding), so ``upper`` is a true upper
    bound; for one output it is the exact oracle value.

    The maximizing neurons of the oracle at the vertices are returned as candidates (the
    column-generation oracle (50), relaxed as in (15) by the pattern cones).

    Parameters
    ----------
    X : ndarray (n, d)
    G : ndarray (n, o)
    patterns : ndarray (n, P) bool
    bias : bool, default=True
    margin : float, default=1e-9
    rel_tol : float, default=1e-10
    max_evals : int, default=400
    n_candidates : int, default=3
        Candidate neurons kept per oracle pass and sign (the best patterns).
    floor : float, default=0
        Stop refining once ``upper <= (1 + rel_tol) * max(best vertex value, floor)`` (e.g.
        ``floor = beta``: the bound only needs to prove :math:`\rho(G) \lesssim \beta`).
    stop_above : float, default=inf
        Stop as soon as a vertex value exceeds it (a violated constraint was found).

    Returns
    -------
    DualNorm
    """
    import heapq

    X = np.asarray(X, dtype=np.float64)
    G = np.asarray(G, dtype=np.float64)
    if G.ndim == 1:
        G = G[:, None]
    n, o = G.shape
    d = X.shape[1]
    cand_u, cand_b = [], []

    pats = np.asarray(patterns, dtype=bool)
    sub = [pats]  # the patterns still evaluated (pruned after the axes, see below)

    def evaluate(a):
        vals, orc = _oracle_max(X, G @ a, sub[0], bias, margin)
        if vals is None:
            return None
        if vals.size == 0:
            return np.zeros((0, 2))
        raw = np.asarray(orc.values, dtype=np.float64)
        for s in (0, 1):
            col = np.where(np.isfinite(raw[:, s]), raw[:, s], -np.inf)
            for i in np.argsort(-col)[:n_candidates]:
                if col[i] > 0 and np.isfinite(col[i]):
                    cand_u.append(np.asarray(orc.hidden_weights[i, s], dtype=np.float64))
                    cand_b.append(float(orc.hidden_bias[i, s]) if bias else 0.0)
        return vals

    def finish(upper, n_evals, best_vertex):
        U = np.array(cand_u).reshape(-1, d).T if cand_u else np.zeros((d, 0))
        b = np.array(cand_b, dtype=np.float64)
        nu = np.linalg.norm(U, axis=0)
        keep = nu > 0
        U, b = U[:, keep] / nu[keep], b[keep] / nu[keep]
        if U.shape[1]:
            vals = np.linalg.norm(G.T @ np.maximum(X @ U + b, 0.0), axis=0)
            order = np.argsort(-vals)
            U, b, vals = U[:, order], b[order], vals[order]
        else:
            vals = np.zeros(0)
        lower = float(vals[0]) if vals.size else 0.0
        conv = bool(upper <= (1.0 + rel_tol) * max(lower, best_vertex, floor))
        return DualNorm(float(upper), lower, U, b, vals, int(n_evals), conv)

    # the axes: per-pattern bound sqrt(sum_k m_ik^2), and the first vertices
    eye = np.eye(o)
    m_sq = None
    hh = []
    for k in range(o):
        vals = evaluate(eye[:, k])
        if vals is None:
            return finish(math.inf, k + 1, 0.0)
        mk = np.max(vals, axis=1) if vals.size else np.zeros(0)
        m_sq = mk * mk if m_sq is None else m_sq + mk * mk
        hh.append(float(np.max(mk)) if mk.size else 0.0)
    n_evals = o
    ub_axes = float(np.sqrt(np.max(m_sq))) if m_sq is not None and m_sq.size else 0.0
    if not math.isfinite(ub_axes):
        return finish(math.inf, n_evals, 0.0)
    if o == 1:
        return finish(hh[0], n_evals, hh[0])
    # pattern i contributes at most ub_i = sqrt(sum_k m_ik^2) <= tau for the pruned ones, and
    # tau <= the final upper bound: only the others need the branch and bound
    tau = max(max(hh), floor)
    ub_i = np.sqrt(m_sq)
    live = ub_i > tau
    sub[0] = pats[:, live]
    pruned = float(np.max(ub_i[~live])) if np.any(~live) else 0.0
    if not np.any(live):
        return finish(min(max(pruned, max(hh)), ub_axes), n_evals, max(hh))

    # branch and bound over the sphere; hh(a) = max(h(Ga), h(-Ga)) (antipodal cones together)
    verts = [eye[:, 0]]
    vals_v = [hh[0]]
    for k in range(1, o):
        verts += [eye[:, k], -eye[:, k]]
        vals_v += [hh[k], hh[k]]
    best = max(vals_v)

    def cone_bound(ids):
        A = np.column_stack([verts[i] for i in ids])
        hv = np.array([vals_v[i] for i in ids])
        try:
            nu = np.linalg.solve(A.T, np.ones(o))
            p = np.linalg.solve(A.T, hv)
        except np.linalg.LinAlgError:
            return math.inf
        if not (np.all(np.isfinite(nu)) and np.all(np.isfinite(p))):
            return math.inf
        # h(Ga) <= sum_j lambda_j h_j = p^T a <= ||p|| and <= ||nu|| max_j h_j; inflated for
        # the rounding of the solves (relative residual of the linear systems)
        res = float(np.max(np.abs(A.T @ p - hv))) / max(float(np.max(hv)), 1e-300)
        bound = min(float(np.linalg.norm(p)), float(np.linalg.norm(nu)) * float(np.max(hv)))
        return bound * (1.0 + 1e-13 * o + 2.0 * res * float(np.linalg.norm(nu)))

    heap = []
    counter = 0
    for signs in np.ndindex(*([2] * (o - 1))):
        ids = (0,) + tuple(2 * k + 1 + signs[k] for k in range(o - 1))
        heapq.heappush(heap, (-cone_bound(ids), counter, ids))
        counter += 1
    mids = {}
    while heap and n_evals < max_evals:
        top = -heap[0][0]
        if top <= (1.0 + rel_tol) * max(best, floor) or best > stop_above:
            break
        _, _, ids = heapq.heappop(heap)
        # longest edge (smallest inner product)
        pi, pj, worst = ids[0], ids[1], 2.0
        for x in range(o):
            for y in range(x + 1, o):
                c = float(verts[ids[x]] @ verts[ids[y]])
                if c < worst:
                    worst, pi, pj = c, ids[x], ids[y]
        key = (min(pi, pj), max(pi, pj))
        if key not in mids:
            mvec = verts[pi] + verts[pj]
            mvec = mvec / np.linalg.norm(mvec)
            vals = evaluate(mvec)
            n_evals += 1
            if vals is None:
                return finish(math.inf, n_evals, best)
            verts.append(mvec)
            vals_v.append(float(np.max(vals)) if vals.size else 0.0)
            best = max(best, vals_v[-1])
            mids[key] = len(verts) - 1
        mid = mids[key]
        for old in (pi, pj):
            child = tuple(mid if i == old else i for i in ids)
            heapq.heappush(heap, (-cone_bound(child), counter, child))
            counter += 1
    upper = max(best, -heap[0][0]) if heap else best
    return finish(min(max(upper, pruned), ub_axes), n_evals, best)
