r"""solver="arrangements": the exact convex program over activation patterns (issue 3).

Patterns :math:`D_i = \mathrm{diag}(1[X u + b \mathbf 1 > 0])` come from the exact enumeration
of the hyperplane arrangement (:func:`fastconvexrelu.arrangement.enumerate_patterns`) when it
is small, otherwise from random sampling (:func:`~fastconvexrelu.arrangement.sample_patterns`).
With ``patterns="seeded"`` (:func:`fit_seeded`) they are the patterns of the neurons of cheap
non-convex fits, combined by an l1 problem over their neurons, with pattern generation on the
program's dual.  The program

.. math::

    \min_{v_{ik}, w_{ik}} L\Big(\sum_i D_i \tilde X (v_{ik} - w_{ik}) + \mathbf 1 c^\top, Y\Big)
    + \beta \sum_{i,k} \big(\|v_{ik}[{:}d]\|_2 + \|w_{ik}[{:}d]\|_2\big)
    \quad \text{s.t.}\ (2D_i - I)\tilde X v_{ik} \ge 0,\ (2D_i - I)\tilde X w_{ik} \ge 0

(:math:`\tilde X = [X, \mathbf 1]` and a free intercept :math:`c` with a bias, else :math:`X`
and :math:`c = 0`: ``fit_intercept=bias``) is solved by
:func:`fastconvexrelu.arrangement_program.solve_arrangement_program` and mapped back to a ReLU
network. With all patterns its optimum is the global optimum of the network objective and the
reported ``duality_gap`` is certified over the whole arrangement
(:func:`fastconvexrelu.certificates.certified_gap`); with sampled patterns it is ``inf`` and the
gap of the sampled program is reported as ``restricted_gap``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from ._deadline import expired
from ._objective import network_output
from ._validation import ConvergenceWarning

# Enumerate the arrangement when its general-position cell count is at most this.
MAX_EXACT_PATTERNS = 1000
# Sampled patterns when the arrangement is too large and n_patterns is None.
DEFAULT_N_PATTERNS = 200
# patterns="enumerate" refuses arrangements with more general-position cells than this.
MAX_ENUMERATE = 20000


class ArrangementsFit(NamedTuple):
    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    intercept: Any
    objective: float
    duality_gap: float
    restricted_gap: float
    dual_coef: Any
    n_iter: int
    converged: bool
    message: str
    n_patterns: int
    patterns_exact: bool
    warm: Any
    source: str = "sampled"


def cell_count_bound(n_rows, rank):
    r"""Cells of a central arrangement of ``n_rows`` hyperplanes in :math:`\mathbb R^{rank}`
    in general position, :math:`2\sum_{i<r}\binom{n-1}{i}` (an upper bound otherwise)."""
    if n_rows == 0 or rank == 0:
        return 1
    return 2 * sum(math.comb(n_rows - 1, i) for i in range(rank))


def _pattern_bound(X, bias):
    Xt = np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X
    distinct = np.unique(Xt, axis=0)
    rank = int(np.linalg.matrix_rank(distinct)) if distinct.size else 0
    return cell_count_bound(distinct.shape[0], rank)


def arrangement_is_small(X, bias, n_patterns=None):
    """Whether :func:`choose_patterns` enumerates all patterns (see ``MAX_EXACT_PATTERNS``)."""
    limit = MAX_EXACT_PATTERNS if n_patterns is None else max(n_patterns, 1)
    return _pattern_bound(X, bias) <= limit


def choose_patterns(X, bias, n_patterns, random_state):
    """Exact enumeration when affordable, else sampling; returns ``Patterns``."""
    from .arrangement import enumerate_patterns, sample_patterns

    bound = _pattern_bound(X, bias)
    limit = MAX_EXACT_PATTERNS if n_patterns is None else max(n_patterns, 1)
    if bound <= limit:
        return enumerate_patterns(X, bias=bias, max_patterns=max(bound, 1) + 1)
    k = DEFAULT_N_PATTERNS if n_patterns is None else n_patterns
    return sample_patterns(X, k, bias=bias, random_state=random_state)


_SINGLE_COLUMN_LOSSES = ("hinge", "logistic")


class _ColumnsResult(NamedTuple):
    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    intercept: np.ndarray
    objective: float
    restricted_gap: float
    dual: np.ndarray
    n_iter: int
    converged: bool
    status: str
    warm_start: Any


def _solve_columns(X, Y, patterns, loss, beta, bias, huber_delta, tol, max_iter, warm, verbose):
    """Solve a column-separable vector-output program column by column and stack the
    networks (each neuron feeds one output)."""
    from .arrangement_program import solve_arrangement_program

    o = Y.shape[1]
    parts = []
    for k in range(o):
        parts.append(solve_arrangement_program(
            X, Y[:, k], patterns, loss=loss, beta=beta, bias=bias, fit_intercept=bias,
            huber_delta=huber_delta, tol=tol, max_iter=max_iter, warm_start=None if warm is None else warm[k],
            verbose=verbose,
        ))
    ms = [p.output_weights.shape[0] for p in parts]
    W = np.zeros((sum(ms), o))
    start = 0
    for k, (p, m) in enumerate(zip(parts, ms)):
        W[start:start + m, k] = p.output_weights
        start += m
    return _ColumnsResult(
        hidden_weights=np.hstack([p.hidden_weights for p in parts]),
        hidden_bias=np.concatenate([p.hidden_bias for p in parts]),
        output_weights=W,
        intercept=np.array([float(p.intercept) for p in parts]),
        objective=float(sum(p.objective for p in parts)),
        restricted_gap=float(sum(p.restricted_gap for p in parts)),
        dual=np.column_stack([np.asarray(p.dual).reshape(-1) for p in parts]),
        n_iter=int(sum(p.n_iter for p in parts)),
        converged=all(p.converged for p in parts),
        status="; ".join(sorted({p.status for p in parts})),
        warm_start=[p.warm_start for p in parts],
    )


PATTERN_SOURCES = ("auto", "enumerate", "sample", "seeded")


def fit_arrangements(X, Y, *, loss, beta, bias, tol, max_iter, n_patterns=None,
                     random_state=None, huber_delta=1.0, verbose=False, warm_start=None,
                     patterns="auto", seeded_options=None):
    """Fit by the pattern program; see the module docstring. ``Y``: (n,) or (n, o).

    ``patterns``: ``"enumerate"`` all patterns (``ValueError`` above ``MAX_ENUMERATE``
    cells), ``"sample"`` ``n_patterns`` random ones (default ``DEFAULT_N_PATTERNS``),
    ``"seeded"`` the patterns of non-convex fits plus pattern generation (:func:`fit_seeded`,
    scalar outputs), ``"auto"``: all when the arrangement is small (``MAX_EXACT_PATTERNS``,
    or ``n_patterns`` if given), else sampled when ``n_patterns`` is given or the outputs are
    vectors, else seeded."""
    from .arrangement_program import solve_arrangement_program
    from .certificates import certified_gap
    from ._objective import network_output

    if beta == 0:
        raise ValueError(
            "solver='arrangements' needs beta > 0 (beta = 0, the minimum-norm problem, is "
            "available with solver='extreme_points' for 1-D / rank-one data)."
        )
    if not isinstance(patterns, str) or patterns not in PATTERN_SOURCES:
        raise ValueError(f"patterns must be one of {PATTERN_SOURCES}, got {patterns!r}.")
    from .arrangement import enumerate_patterns, sample_patterns

    source = None
    if warm_start is not None and warm_start.get("patterns") is not None:
        pats = warm_start["patterns"]
        source = warm_start.get("source")  # e.g. "seeded" along a regularization path
    elif patterns == "seeded" or (patterns == "auto" and n_patterns is None and Y.ndim == 1
                                  and not arrangement_is_small(X, bias)):
        res = fit_seeded(X, Y, loss=loss, beta=beta, bias=bias, tol=tol, max_iter=max_iter,
                         random_state=random_state, huber_delta=huber_delta, verbose=verbose,
                         **(seeded_options or {}))
        return res
    elif patterns == "enumerate":
        bound = _pattern_bound(X, bias)
        if bound > MAX_ENUMERATE:
            raise ValueError(
                f"patterns='enumerate': the arrangement may have up to {bound} activation "
                f"patterns (> {MAX_ENUMERATE}); use patterns='seeded' or 'sample'.")
        pats = enumerate_patterns(X, bias=bias, max_patterns=max(bound, 1) + 1)
    elif patterns == "sample":
        k = DEFAULT_N_PATTERNS if n_patterns is None else n_patterns
        pats = sample_patterns(X, k, bias=bias, random_state=random_state)
    else:
        pats = choose_patterns(X, bias, n_patterns, random_state)
    if verbose:
        print(
            f"[arrangements] {pats.count} {'enumerated (all)' if pats.exact else 'sampled'} "
            f"activation patterns, n={X.shape[0]} d={X.shape[1]} loss={loss} beta={beta:g}"
        )
    prog_warm = None if warm_start is None else warm_start.get("program")
    with warnings.catch_warnings():
        # the estimator issues one ConvergenceWarning with the certified gap instead
        warnings.simplefilter("ignore", ConvergenceWarning)
        if Y.ndim == 2 and loss in _SINGLE_COLUMN_LOSSES:
            # separable loss with l1 vector outputs (A.7.3): one program per output column
            res = _solve_columns(X, Y, pats.patterns, loss, beta, bias, huber_delta, tol,
                                 max_iter, prog_warm, verbose)
        else:
            res = solve_arrangement_program(
                X, Y, pats.patterns, loss=loss, beta=beta, bias=bias, fit_intercept=bias,
                huber_delta=huber_delta, tol=tol, max_iter=max_iter, warm_start=prog_warm,
                verbose=verbose,
            )
    J = float(res.objective)
    gap = math.inf
    if pats.exact:
        F = network_output(X, res.hidden_weights, res.hidden_bias, res.output_weights,
                           res.intercept)
        gap, G = certified_gap(
            X, Y, F, J, loss=loss, beta=beta, bias=bias, patterns=pats.patterns,
            huber_delta=huber_delta, dual_candidates=[res.dual],
        )
    else:
        G = None
    converged = bool(res.converged)
    return ArrangementsFit(
        hidden_weights=res.hidden_weights,
        hidden_bias=res.hidden_bias,
        output_weights=res.output_weights,
        intercept=res.intercept,
        objective=J,
        duality_gap=gap,
        restricted_gap=float(res.restricted_gap),
        dual_coef=G if G is not None else res.dual,
        n_iter=int(res.n_iter),
        converged=converged,
        message=str(res.status),
        n_patterns=int(pats.count),
        patterns_exact=bool(pats.exact),
        warm={"patterns": pats, "program": res.warm_start, "source": source},
        source=source or ("enumerated" if pats.exact else "sampled"),
    )


# ------------------------------------------------------------------ patterns="seeded"
#: defaults of the seeded pattern source (see ``fit_seeded``)
SEEDED_DEFAULTS = dict(n_seeds=4, seed_width=None, seed_iter=250, seed_adam=250, n_sampled=0,
                       polish_rounds=2, polish_iter=500, max_rounds=1, new_per_round=20,
                       program_iter=0, master_iter=1000)


class _PatternSet:
    """Distinct activation patterns (columns) with a key -> column map."""

    def __init__(self, n):
        self.n = n
        self.cols = []
        self.keys = {}

    def add(self, col):
        col = np.asarray(col, dtype=bool)
        if not col.any():
            return -1
        k = col.tobytes()
        if k not in self.keys:
            self.keys[k] = len(self.cols)
            self.cols.append(col)
        return self.keys[k]

    def __contains__(self, col):
        return np.asarray(col, dtype=bool).tobytes() in self.keys

    @property
    def P(self):
        return len(self.cols)

    def matrix(self):
        return np.column_stack(self.cols).astype(np.float64)


def _blocks_of_network(X, U, b, w, pset, bias):
    """Theta (dp, 2 P) of a scalar-output network over ``pset`` (patterns added as needed):
    neuron j -> block |w_j| (u_j, b_j) of its own pattern, sign of w_j (feasible, see
    :func:`fastconvexrelu.nonconvex_seed.seed_program_start`)."""
    n, d = X.shape
    Z = X @ U + (b if bias else 0.0)
    idx = [pset.add(Z[:, j] > 0) for j in range(U.shape[1])]
    P = pset.P
    dp = d + (1 if bias else 0)
    theta = np.zeros((dp, 2 * P))
    for j, i in enumerate(idx):
        if i < 0 or w[j] == 0:
            continue
        col = i + (0 if w[j] > 0 else P)
        theta[:d, col] += abs(w[j]) * U[:, j]
        if bias:
            theta[d, col] += abs(w[j]) * b[j]
    return theta


def _pad_blocks(M, P_old, P_new):
    """Re-layout per-block columns (k, 2 P_old) -> (k, 2 P_new) (theta or the multipliers mu:
    the new patterns are appended to each half as zero blocks)."""
    out = np.zeros((M.shape[0], 2 * P_new))
    out[:, :P_old] = M[:, :P_old]
    out[:, P_new:P_new + P_old] = M[:, P_old:]
    return out


def _search_violations(X, lam, pset, U, b, beta, bias, rng, n_sampled, new_per_round, thresh_rel):
    r"""Heuristic search for activation patterns whose dual constraint
    :math:`\max_{\|u\|\le1, b}|\lambda^\top D(Xu + b)| \le \beta` (on the cone of ``D``) is
    violated, for the centred dual :math:`\lambda`: the exact per-pattern oracle
    (:func:`fastconvexrelu.arrangement.pattern_oracle`) over a pool of candidate patterns --
    the patterns of the current neurons with their tight rows flipped towards
    :math:`\mathrm{sign}(s\lambda_i)`, local ascent steps of the same kind from the best
    candidates, and ``n_sampled`` random patterns.  Returns [(value, pattern)] (new patterns
    only, best first) and the largest value found."""
    from .arrangement import pattern_oracle, sample_patterns

    n, d = X.shape
    cand = _PatternSet(n)
    signs = []
    Z = X @ U + (b if bias else 0.0)
    scale = np.linalg.norm(X, axis=1) + 1.0
    # 1) flip rows near the current neurons' hyperplanes to the favourable side of each sign
    for j in range(U.shape[1]):
        z = Z[:, j]
        near = np.abs(z) <= np.quantile(np.abs(z), 0.05)
        for s in (1.0, -1.0):
            D2 = z > 0
            D2 = np.where(near, s * lam > 0, D2)
            if D2.any() and D2 not in pset and D2 not in cand:
                cand.add(D2)
                signs.append(1 if s > 0 else -1)
    # 2) random patterns
    if n_sampled > 0:
        S = sample_patterns(X, n_sampled, bias=bias, random_state=rng)
        for j in range(S.count):
            col = S.patterns[:, j]
            if col not in pset and col not in cand:
                cand.add(col)
                signs.append(0)
    found = []
    best = 0.0
    if cand.P == 0:
        return found, best
    M = cand.matrix() > 0
    res = pattern_oracle(X, lam, M, bias=bias, signs=np.array(signs))
    vals = np.where(np.isfinite(res.values) & (res.status != 3), res.values, -np.inf)
    best = float(np.max(vals)) if vals.size else 0.0
    # 3) local ascent from the best candidates: flip the tight rows of the maximizer
    order = np.argsort(-vals.ravel())[:8]
    for flat in order:
        p, c = int(flat // 2), int(flat % 2)
        v0 = vals[p, c]
        if not np.isfinite(v0):
            continue
        D, u, bb = M[:, p].copy(), res.hidden_weights[p, c], res.hidden_bias[p, c]
        s = 1.0 if c == 0 else -1.0
        for _ in range(6):
            z = X @ u + (bb if bias else 0.0)
            tight = np.abs(z) <= 1e-9 * scale * (1.0 + abs(bb))
            D2 = D.copy()
            D2[tight] = s * lam[tight] > 0
            if np.array_equal(D2, D) or not D2.any() or D2 in pset or D2 in cand:
                break
            r2 = pattern_oracle(X, lam, D2[:, None], bias=bias, signs=np.array([1 if s > 0 else -1]))
            v2 = r2.values[0, c]
            if not (np.isfinite(v2) and v2 > v0 * (1 + 1e-12)):
                break
            cand.add(D2)
            found.append((float(v2), D2))
            D, u, bb, v0 = D2, r2.hidden_weights[0, c], r2.hidden_bias[0, c], v2
            best = max(best, float(v2))
    for p in range(cand.P):
        if p < M.shape[1]:
            v = float(np.max(vals[p]))
            if np.isfinite(v):
                found.append((v, M[:, p]))
    thr = beta * (1.0 + thresh_rel)
    out, seen = [], set()
    for v, D in sorted(found, key=lambda t: -t[0]):
        k = D.tobytes()
        if v > thr and k not in seen and D not in pset:
            seen.add(k)
            out.append((v, D))
        if len(out) >= new_per_round:
            break
    return out, best


def _lasso_master_cd(Phi, y, beta, w0, bias, tol=1e-9, max_sweeps=2000):
    r"""Squared-loss l1 master :math:`\min_{w, c}\tfrac12\|\Phi w + c\mathbf 1 - y\|^2 +
    \beta\|w\|_1` (``c = 0`` without bias): the intercept is eliminated exactly by centering,
    then the Gram-matrix lasso kernel ``_core.gram_lasso`` (coordinate descent with covariance
    updates and projected Newton steps, from ``w0``) stops when the lasso duality gap is at
    most ``tol`` times the objective or after ``max_sweeps`` sweeps.  Returns ``(w, c)``."""
    from . import _core

    if bias:
        mphi, my = Phi.mean(axis=0), float(y.mean())
        A, b = Phi - mphi, y - my
    else:
        mphi, my = np.zeros(Phi.shape[1]), 0.0
        A, b = Phi, y
    G = A.T @ A
    w0 = np.where(np.diag(G) > 0, w0, 0.0).astype(np.float64)  # zero columns stay at 0
    r = _core.gram_lasso(G, np.asfortranarray((A.T @ b)[:, None]), np.array([float(b @ b)]),
                         beta, tol, int(max_sweeps), 1, W0=np.asfortranarray(w0[:, None]))
    w = np.asarray(r["W"])[:, 0]
    c = my - float(mphi @ w) if bias else 0.0
    return w, c


def _l1_master(X, y, U, b, w0, c0, loss, beta, bias, huber_delta, n_iter):
    r"""FISTA (with adaptive restart) on :math:`\min_{w, c} L(\Phi w + c\mathbf 1) +
    \beta\|w\|_1`, :math:`\Phi = (XU + \mathbf 1 b^\top)_+` (``c = 0`` without bias), from
    ``(w0, c0)``; returns the best iterate (objective never above the start's)."""
    from ._losses import loss_gradient, loss_lipschitz, loss_value

    Phi = np.maximum(X @ U + (b if bias else 0.0), 0.0)
    A = np.hstack([Phi, np.ones((Phi.shape[0], 1))]) if bias else Phi
    Lip = float(loss_lipschitz(loss)) * float(np.linalg.norm(A, 2)) ** 2
    if loss == "huber":
        Lip = max(Lip, 1e-300)
    step = 1.0 / max(Lip, 1e-300)
    x = np.concatenate([w0, [c0]]) if bias else w0.copy()
    m = Phi.shape[1]

    def obj(z):
        return loss_value(A @ z, y, loss, huber_delta) + beta * float(np.sum(np.abs(z[:m])))

    best, fbest = x.copy(), obj(x)
    xp, yk, t = x.copy(), x.copy(), 1.0
    for _ in range(int(n_iter)):
        g = A.T @ loss_gradient(A @ yk, y, loss, huber_delta)[:, 0]
        xn = yk - step * g
        xn[:m] = np.sign(xn[:m]) * np.maximum(np.abs(xn[:m]) - step * beta, 0.0)
        tn = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        if float((yk - xn) @ (xn - x)) > 0:  # restart (O'Donoghue & Candes)
            tn = 1.0
        yk = xn + ((t - 1.0) / tn) * (xn - x)
        x, t = xn, tn
    fx = obj(x)
    if fx < fbest:
        best, fbest = x, fx
    return best[:m], (float(best[m]) if bias else 0.0)


def _combine_l1(X, y, nets, loss, beta, bias, huber_delta, tol, n_iter):
    r"""The l1 problem over the union of the networks' unit-norm neurons :math:`(u_j, b_j)`,
    :math:`\min_{t, c} L(\sum_j t_j (Xu_j + b_j)_+ + c) + \beta\|t\|_1` -- the program over
    patterns restricted to the rays :math:`v_j = t_j(u_j, b_j)` (Algorithm 3's master), so its
    optimum is :math:`\le` the :math:`J` of every network combined.  Started from the first
    network: squared loss by the C++ Gram lasso to a relative duality gap ``tol`` (at most
    ``n_iter`` sweeps), logistic by the C++ master of Algorithm 3 (``_core.lasso_master``),
    Huber by ``n_iter`` FISTA steps.
    Returns dict(U, b, w, c, J) with the zero weights dropped."""
    from ._objective import network_objective

    Uu = np.hstack([f.hidden_weights for f in nets])
    bu = np.concatenate([f.hidden_bias for f in nets])
    nu = np.linalg.norm(Uu, axis=0)
    Uu, bu = Uu / nu, bu / nu
    w0 = np.zeros(Uu.shape[1])
    w0[: nets[0].hidden_weights.shape[1]] = nets[0].output_weights * np.linalg.norm(
        nets[0].hidden_weights, axis=0)
    if loss == "squared":
        wm, cm = _lasso_master_cd(np.maximum(X @ Uu + (bu if bias else 0.0), 0.0), y, beta, w0, bias,
                                  tol=max(tol, 1e-9), max_sweeps=n_iter)
    elif loss == "logistic":  # the C++ master of Algorithm 3 (coordinate descent + Newton)
        from . import _core

        Phi = np.asfortranarray(np.maximum(X @ Uu + (bu if bias else 0.0), 0.0))
        r = _core.lasso_master(Phi, y, "logistic", beta, max(tol, 1e-9), int(n_iter), w0,
                               intercept=bool(bias), c0=float(nets[0].intercept) if bias else 0.0)
        wm, cm = np.asarray(r["w"]), (float(r["intercept"]) if bias else 0.0)
    else:
        wm, cm = _l1_master(X, y, Uu, bu, w0, float(nets[0].intercept), loss, beta, bias,
                            huber_delta, n_iter)
    keep = np.flatnonzero(wm != 0)
    J = float(network_objective(X, y, Uu[:, keep], bu[keep], wm[keep], cm, beta, loss,
                                huber_delta=huber_delta))
    return dict(U=Uu[:, keep], b=bu[keep], w=wm[keep], c=float(cm), J=J)


def _dual_point(f, y, loss, huber_delta, bias):
    """The gradient of the loss at f (the hinge: the subgradient -y 1[y f < 1]), centred when
    there is an intercept (its dual constraint 1^T lam = 0)."""
    from ._losses import loss_gradient

    if loss == "hinge":
        lam = np.where(y * f < 1.0, -y, 0.0)
    else:
        lam = loss_gradient(f, y, loss, huber_delta)[:, 0]
    return lam - lam.mean() if bias else lam


def _seeded_result(X, y, best, loss, bias, huber_delta, n_iter, verbose, t0):
    """The seeded route's result without the program stage (``program_iter=0``): the best
    network of the seeds / combinations / local descents, no certificate."""
    import time

    J = float(best["J"])  # scored by network_objective where the network was made
    lam = _dual_point(network_output(X, best["U"], best["b"], best["w"], best["c"]), y, loss,
                      huber_delta, bias)
    P = len({c.tobytes() for c in (X @ best["U"] + (best["b"] if bias else 0.0) > 0).T})
    if verbose:
        print(f"[arrangements/seeded] done: J = {J:.10g}, {best['w'].size} neurons, {P} patterns, "
              f"no program stage ({time.perf_counter() - t0:.2f}s)")
    return ArrangementsFit(
        hidden_weights=best["U"], hidden_bias=best["b"], output_weights=best["w"], intercept=best["c"],
        objective=J, duality_gap=math.inf, restricted_gap=math.inf,
        # the gradient of the loss at the fit, centred (the dual point the pattern search
        # would use); not certified feasible
        dual_coef=lam, n_iter=int(n_iter), converged=False,
        message=(f"seeded patterns: best network from {best['source']} (non-convex fits, l1 "
                 "combinations and local descent; no convex program stage with program_iter=0, "
                 "no certificate)"),
        n_patterns=P, patterns_exact=False,
        warm={"source": "seeded"}, source="seeded",
    )


def fit_seeded(X, y, *, loss, beta, bias, tol, max_iter, random_state=None, huber_delta=1.0,
               verbose=False, n_seeds=None, seed_width=None, seed_iter=None, n_sampled=None,
               seed_adam=None, max_rounds=None, new_per_round=None, program_iter=None,
               master_iter=None, polish_rounds=None, polish_iter=None):
    r"""``patterns="seeded"``: the convex program over patterns found by non-convex fits.

    1. :func:`fastconvexrelu.nonconvex_seed.fit_nonconvex_seeds`: ``n_seeds`` local fits of
       the weight-decay problem (He init, ``seed_adam`` Adam then ``seed_iter`` L-BFGS steps,
       width ``seed_width``).
    2. Combination and polish, alternated: the l1 problem over the union of the current
       networks' unit-norm neurons :math:`(u_j, b_j)` (``_combine_l1``),
       :math:`\min_{t, c} L(\sum_j t_j (Xu_j + b_j)_+ + c) + \beta\|t\|_1` -- the program
       below restricted to the rays :math:`v_j = t_j(u_j, b_j)`, hence a convex problem whose
       optimum is :math:`\le` the :math:`J` of every network combined (squared loss: the C++
       Gram lasso to a relative duality gap ``tol``, at most ``master_iter`` sweeps; logistic:
       the C++ master of Algorithm 3; Huber: ``master_iter`` FISTA steps; the hinge skips it),
       then ``polish_iter`` L-BFGS
       steps of local descent from the combined network
       (:func:`~fastconvexrelu.nonconvex_seed.refine_network`), which moves the surviving
       neurons and their patterns; ``polish_rounds`` times, or until a descent gains less than
       1e-4 relative.  No step increases :math:`J`.
    3. Patterns :math:`\{D_j\}` = the distinct activation patterns of the best network so far
       (plus, when that is a single seed, those of the other seeds, and ``n_sampled`` random
       ones).  That network is a feasible point of the program (block
       :math:`v_j = |w_j|(u_j, b_j)` in the cone of its own pattern, penalty
       :math:`\beta\|v_j[{:}d]\| = \beta|w_j|\|u_j\|`), so the program (C++ augmented
       Lagrangian, :func:`~fastconvexrelu.arrangement_program.solve_arrangement_program`,
       at most ``program_iter`` first-order iterations per round) is warm-started there; the
       returned network is the best one seen (never worse than the warm start).
    4. Pattern generation (column generation on the dual of the program): with
       :math:`\lambda = \nabla L(f)` centred, patterns whose dual constraint
       :math:`\max_{\|u\|\le 1, b}\lambda^\top D(Xu + b)\le\beta` is violated are searched by
       ``_search_violations`` (exact per-pattern oracle over a heuristic pool), up to
       ``new_per_round`` are added and the program is re-solved warm; at most
       ``max_rounds`` rounds, and ``max_iter`` first-order iterations in total; stops early
       when a (budgeted, unconverged) program round ends above its warm start.

    ``converged`` means: the last program reached ``tol`` (restricted gap over the final
    pattern set) and the heuristic search found no violating pattern -- not a global
    certificate (``duality_gap = inf``).
    """
    import time

    from ._objective import network_objective
    from .arrangement import Patterns
    from .arrangement_program import solve_arrangement_program
    from .nonconvex_seed import fit_nonconvex_seeds, refine_network

    opts = dict(SEEDED_DEFAULTS)
    for k, v in dict(n_seeds=n_seeds, seed_width=seed_width, seed_iter=seed_iter,
                     seed_adam=seed_adam, n_sampled=n_sampled, max_rounds=max_rounds,
                     new_per_round=new_per_round, program_iter=program_iter,
                     master_iter=master_iter, polish_rounds=polish_rounds,
                     polish_iter=polish_iter).items():
        if v is not None:
            opts[k] = v
    if y.ndim != 1:
        raise ValueError("patterns='seeded' supports scalar outputs only (y of shape (n,)); "
                         "use patterns='sample' or 'enumerate' for vector outputs.")
    if beta == 0:
        raise ValueError("solver='arrangements' needs beta > 0.")
    n, d = X.shape
    rng = np.random.default_rng(random_state) if not isinstance(random_state, np.random.Generator) \
        else random_state
    t0 = time.perf_counter()
    fits = fit_nonconvex_seeds(X, y, beta=beta, loss=loss, n_seeds=int(opts["n_seeds"]),
                               width=opts["seed_width"], max_iter=int(opts["seed_iter"]),
                               adam_iter=int(opts["seed_adam"]), bias=bias, random_state=rng, huber_delta=huber_delta)
    if verbose:
        print(f"[arrangements/seeded] {len(fits)} non-convex seeds in {time.perf_counter() - t0:.2f}s,"
              f" J = " + ", ".join(f"{f.objective:.8g}" for f in fits))
    best = dict(U=fits[0].hidden_weights, b=fits[0].hidden_bias, w=fits[0].output_weights,
                c=float(fits[0].intercept), J=float(fits[0].objective), source="seed")
    # alternate convex and local steps: the l1 combination of the current neurons (a convex
    # problem whose optimum is <= the J of every network it combines) prunes and re-weights,
    # then local descent moves the surviving neurons (and their patterns); each step keeps J
    # from increasing.  Measured on the bench's synthetic set (n = 500, d = 20): seeds 2.368 ->
    # combination 2.339 -> descent 2.295 -> combination 2.291 -> ... 2.286.
    nets = fits
    n_local = sum(int(f.n_iter) for f in fits)  # L-BFGS iterations of the local fits
    for k in range(int(opts["polish_rounds"]) + 1):
        if loss != "hinge" and (len(nets) > 1 or k > 0):
            comb = _combine_l1(X, y, nets, loss, beta, bias, huber_delta, tol,
                               int(opts["master_iter"]))
            if verbose:
                print(f"[arrangements/seeded] l1 combination {k}: J = {comb['J']:.10g}, "
                      f"{comb['w'].size} neurons ({time.perf_counter() - t0:.2f}s)")
            if comb["J"] < best["J"]:
                best = dict(comb, source="seed master" if k == 0 else f"polish round {k}")
        if k == int(opts["polish_rounds"]) or expired():
            break
        ref = refine_network(X, y, best["U"], best["b"], best["w"], best["c"], beta=beta, loss=loss,
                             bias=bias, huber_delta=huber_delta, max_iter=int(opts["polish_iter"]))
        n_local += int(ref.n_iter)
        if verbose:
            print(f"[arrangements/seeded] local descent {k + 1}: J = {ref.objective:.10g}, "
                  f"{ref.output_weights.size} neurons ({time.perf_counter() - t0:.2f}s)")
        gain = best["J"] - ref.objective
        if ref.objective < best["J"]:
            best = dict(U=ref.hidden_weights, b=ref.hidden_bias, w=ref.output_weights,
                        c=float(ref.intercept), J=float(ref.objective), source=f"polish round {k + 1}")
        nets = [ref]
        if gain <= 1e-4 * abs(best["J"]):
            break
    if int(opts["program_iter"]) == 0:
        return _seeded_result(X, y, best, loss, bias, huber_delta, n_local, verbose, t0)
    pset = _PatternSet(n)
    theta = _blocks_of_network(X, best["U"], best["b"], best["w"], pset, bias)
    P0 = pset.P
    if best["source"] == "seed":
        for f in fits[1:]:
            _blocks_of_network(X, f.hidden_weights, f.hidden_bias, f.output_weights, pset, bias)
    if int(opts["n_sampled"]) > 0:
        from .arrangement import sample_patterns

        S = sample_patterns(X, int(opts["n_sampled"]), bias=bias, random_state=rng)
        for j in range(S.count):
            pset.add(S.patterns[:, j])
    theta = _pad_blocks(theta, P0, pset.P)
    warm = dict(theta=theta, intercept=np.array([best["c"]]))
    if verbose:
        print(f"[arrangements/seeded] {pset.P} distinct patterns from the seeds"
              + (f" + {opts['n_sampled']} sampled" if opts["n_sampled"] else ""))
    total_iter = 0
    rounds = 0
    res = None
    found_none = False
    stalled = False
    last_best_val = math.nan
    budget = int(max_iter)
    while True:
        rounds += 1
        it = max(1, min(int(opts["program_iter"]), budget - total_iter))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = solve_arrangement_program(
                X, y, pset.matrix(), loss=loss, beta=beta, bias=bias, fit_intercept=bias,
                huber_delta=huber_delta, tol=tol, max_iter=it, warm_start=warm,
            )
        total_iter += int(res.n_iter)
        improved = res.objective < best["J"]
        if improved:
            best = dict(U=res.hidden_weights, b=res.hidden_bias, w=res.output_weights,
                        c=float(res.intercept), J=float(res.objective), source=f"program round {rounds}")
        if verbose:
            print(f"[arrangements/seeded] round {rounds}: {pset.P} patterns, program J = "
                  f"{res.objective:.10g} ({'converged' if res.converged else 'not converged'}, "
                  f"{res.n_iter} iterations, restricted gap {res.restricted_gap:.3e}); best J = "
                  f"{best['J']:.10g} ({time.perf_counter() - t0:.2f}s)")
        if rounds > int(opts["max_rounds"]) or total_iter >= budget or expired():
            break
        if not improved and not res.converged:
            # the budgeted program did not get below its own warm start: re-solving the same
            # program with a few more patterns from the same start would not either
            stalled = True
            break
        # ---- pattern generation on the dual of the program at the best network
        lam = _dual_point(network_output(X, best["U"], best["b"], best["w"], best["c"]), y, loss,
                          huber_delta, bias)
        new, last_best_val = _search_violations(
            X, lam, pset, best["U"], best["b"], beta, bias, rng, int(opts["n_sampled"]),
            int(opts["new_per_round"]), max(tol, 1e-6))
        if verbose:
            print(f"[arrangements/seeded]   pattern search: max value/beta "
                  f"{last_best_val / beta:.6f}, {len(new)} violating new patterns")
        if not new:
            found_none = True
            break
        P_old = pset.P
        for _, D in new:
            pset.add(D)
        if improved:
            ws = res.warm_start
            warm = dict(theta=_pad_blocks(ws["theta"], P_old, pset.P), intercept=ws["intercept"],
                        mu=_pad_blocks(ws["mu"], P_old, pset.P), rho=ws["rho"])
        else:  # restart from the best network (a feasible point)
            th = _blocks_of_network(X, best["U"], best["b"], best["w"], pset, bias)
            warm = dict(theta=th, intercept=np.array([best["c"]]))
    J = float(network_objective(X, y, best["U"], best["b"], best["w"], best["c"], beta, loss,
                    huber_delta=huber_delta))
    converged = bool(res.converged and found_none)
    if found_none:
        why = "no violating pattern found by the heuristic search (not a global certificate)"
    elif stalled:
        why = (f"stopped after program round {rounds}: it did not improve on its warm start "
               f"within {int(opts['program_iter'])} iterations")
    else:
        why = (f"stopped after {rounds} program round(s) / {total_iter} iterations with "
               "violating patterns left or the program not converged")
    msg = (f"seeded patterns: {why}; final program {res.status}; best network from "
           f"{best['source']}; {pset.P} patterns")
    return ArrangementsFit(
        hidden_weights=best["U"],
        hidden_bias=best["b"],
        output_weights=best["w"],
        intercept=best["c"],
        objective=J,
        duality_gap=math.inf,
        # the dual bound of the last program is a lower bound on the optimum over the final
        # pattern set, which contains the patterns of every network seen
        restricted_gap=float(J - res.dual_objective) if np.isfinite(res.dual_objective) else math.inf,
        dual_coef=res.dual,
        n_iter=total_iter,
        converged=converged,
        message=msg,
        n_patterns=int(pset.P),
        patterns_exact=False,
        # the final pattern set (not under "patterns": a regularization path re-seeds at every
        # beta -- measured better than reusing the patterns of the previous beta)
        warm={"final_patterns": Patterns(patterns=pset.matrix() > 0, hidden_weights=np.zeros((d, pset.P)),
                                   hidden_bias=np.zeros(pset.P), count=pset.P, exact=False),
              "program": res.warm_start, "source": "seeded"},
        source="seeded",
    )
