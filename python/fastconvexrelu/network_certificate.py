r"""Certified distance to the global optimum for ANY two-layer ReLU network (scalar output).

For :math:`f(x) = \sum_j w_j (u_j^\top x + b_j)_+ + c` with objective
:math:`J = L(f(X), y) + \beta\sum_j |w_j|\,\|u_j\|_2` (biases and intercept free), weak
duality (paper Theorem 3.1 / Theorem 6.1; see :mod:`fastconvexrelu.certificates`) gives for
every :math:`g` with :math:`\mathbf 1^\top g = 0` (``bias=True``) and

.. math::

    \sigma(g) = \max_{\|u\|_2 \le 1,\ b} |g^\top (X u + b\mathbf 1)_+| \le \beta

the lower bound :math:`J^\star \ge D(g) = -L^*(g)` (loss conjugates in
:mod:`fastconvexrelu._losses`). :math:`\sigma` is computed from above by the exact, anytime
branch and bound of ``cpp/include/fastconvexrelu/dual_oracle.hpp`` (:func:`dual_norm`), so
for the loss gradient :math:`g` at the network (made feasible for the domain of
:math:`L^*` and for :math:`\mathbf 1^\top g = 0` *exactly*, see :func:`_exact_zero_sum`) the
point :math:`s g` with :math:`s \le \beta / \sigma_{\text{upper}}` is dual feasible and

.. math::

    J - J^\star \le J - D(s g)

is a true bound. A capped search (time or node limit) has a larger :math:`\sigma_{\text{upper}}`,
hence a larger, still true, gap. Rounding: the oracle's bounds carry a margin for their own
floating-point sums; the scaled point is re-made exactly zero-sum and the perturbation
:math:`\delta` this causes is covered by :math:`\sigma(\delta) \le 2R\|\delta\|_1`
(:math:`R = \max_i\|x_i\|`, :math:`b \in [-R, R]` without loss for zero-sum points).
"""

from __future__ import annotations

import math
import time
from typing import NamedTuple, Optional

import numpy as np

from ._losses import check_targets
from ._objective import network_objective, network_output
from .certificates import _loss_gradient, _make_feasible, dual_objective, scaled_dual_gap

__all__ = ["dual_norm", "DualNormBound", "certify_network", "NetworkCertificate"]

_CERT_LOSSES = ("squared", "huber", "logistic", "hinge")


class DualNormBound(NamedTuple):
    r"""Result of :func:`dual_norm`.

    Attributes
    ----------
    upper : float
        Proven upper bound on :math:`\sigma(v)` (and on ``floor``).
    lower : float
        :math:`|v^\top (X u + b)_+|` at the returned neuron (a lower bound on :math:`\sigma`).
    hidden_weight : ndarray (d,)
        The most violated neuron found (unit norm).
    hidden_bias : float
    sign : int
        ``sign * v^T (X u + b)_+ = lower``.
    nodes, open : int
        Domains evaluated, domains left open.
    seconds : float
    converged : bool
        ``upper <= (1 + rel_tol) * max(lower, floor)``.
    status : str
        "converged", "time_limit", "node_limit", "memory_limit" or "violated".
    """

    upper: float
    lower: float
    hidden_weight: np.ndarray
    hidden_bias: float
    sign: int
    nodes: int
    open: int
    seconds: float
    converged: bool
    status: str


def _check_limit(x, name, integer=False):
    if x is None:
        return math.inf
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be None or a positive number, got {x!r}.")
    x = float(x)
    if not x > 0 or math.isnan(x):
        raise ValueError(f"{name} must be None or > 0, got {x!r}.")
    if integer and math.isfinite(x):
        return int(x)
    return x


def dual_norm(X, v, *, bias=True, time_limit=None, node_limit=None, rel_tol=1e-6, floor=0.0,
              stop_above=math.inf, candidates=None, n_random=2000, random_state=0,
              n_threads=0, verbose=False, max_open=4_000_000) -> DualNormBound:
    r"""Bounds on :math:`\sigma(v) = \max_{\|u\|\le1, b}|v^\top(Xu + b\mathbf 1)_+|`
    (``bias=False``: :math:`b = 0`) by branch and bound over :math:`(u, b)` (exact when it
    converges, an anytime upper bound otherwise; the C++ header ``dual_oracle.hpp`` states the
    relaxation).

    With ``bias=True`` the result is only meaningful for :math:`\mathbf 1^\top v = 0`
    (otherwise :math:`\sigma = \infty`): ``ValueError`` unless ``np.sum(v)`` is within
    rounding of 0 (use an exactly zero-sum ``v`` for a rigorous bound).

    Parameters
    ----------
    X : array-like (n, d)
    v : array-like (n,)
    bias : bool, default=True
    time_limit : float or None
        Seconds (None: no limit).
    node_limit : int or None
        Domains evaluated (None: 20 million).
    rel_tol : float, default=1e-6
        Stop once ``upper <= (1 + rel_tol) * max(lower, floor)``.
    floor : float, default=0
        Only a bound on ``max(sigma, floor)`` is needed (e.g. ``beta``).
    stop_above : float, default=inf
        Stop once a neuron with value above it is found.
    candidates : tuple (U (d, k), b (k,)) or None
        Neurons tried first (e.g. the network's own).
    n_random : int, default=2000
        Random directions (best ``b`` exact) for the first lower bound.
    random_state : int, default=0
    n_threads : int, default=0 (all cores)
    verbose : bool or float
        Print progress (every ``verbose`` seconds if a number, else every 5 s).
    max_open : int, default=4 000 000
        Open domains kept (memory); the search stops with status "memory_limit" beyond.
    """
    from . import _core

    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must be a non-empty 2-D array, got shape {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity.")
    v = np.asarray(v, dtype=np.float64).ravel()
    if v.shape[0] != X.shape[0]:
        raise ValueError(f"v must have length n_samples = {X.shape[0]}, got {v.shape[0]}.")
    if not np.all(np.isfinite(v)):
        raise ValueError("v contains NaN or infinity.")
    if bias and abs(float(np.sum(v))) > 1e-10 * max(float(np.sum(np.abs(v))), 1e-300):
        raise ValueError("v must satisfy 1^T v = 0 for bias=True (else sigma(v) is infinite).")
    tl = _check_limit(time_limit, "time_limit")
    nl = _check_limit(node_limit, "node_limit", integer=True)
    nl = 20_000_000 if not math.isfinite(nl) else nl
    if not (isinstance(rel_tol, (int, float)) and rel_tol >= 0 and math.isfinite(rel_tol)):
        raise ValueError(f"rel_tol must be a finite number >= 0, got {rel_tol!r}.")
    if not (isinstance(floor, (int, float)) and floor >= 0 and math.isfinite(floor)):
        raise ValueError(f"floor must be a finite number >= 0, got {floor!r}.")
    d = X.shape[1]
    if candidates is None:
        cU, cb = np.zeros((0, d)), np.zeros(0)
    else:
        cU = np.asarray(candidates[0], dtype=np.float64).reshape(d, -1).T
        cb = np.asarray(candidates[1], dtype=np.float64).ravel() if bias else np.zeros(cU.shape[0])
        if cb.shape[0] != cU.shape[0]:
            raise ValueError("candidates: one bias per neuron (U of shape (d, k), b of shape (k,)).")
        keep = np.all(np.isfinite(cU), axis=1) & np.isfinite(cb)
        cU, cb = cU[keep], cb[keep]
    progress = None
    interval = 0.0
    if verbose:
        interval = float(verbose) if not isinstance(verbose, bool) else 5.0

        def progress(nodes, open_, lower, upper, seconds):
            print(f"[dual_norm] {seconds:8.1f} s  nodes={nodes:>10d}  open={open_:>9d}  "
                  f"lower={lower:.6g}  upper={upper:.6g}", flush=True)

    r = _core.dual_oracle(
        X, v, np.ascontiguousarray(cU), np.ascontiguousarray(cb), bias=bool(bias),
        time_limit=tl, node_limit=int(nl), max_open=int(max_open), rel_tol=float(rel_tol),
        floor=float(floor), stop_above=float(stop_above), n_random=int(n_random),
        seed=int(random_state), n_threads=int(n_threads), progress_interval=interval,
        progress=progress,
    )
    return DualNormBound(float(r["upper"]), float(r["lower"]), np.asarray(r["u"]),
                         float(r["b"]), int(r["sign"]), int(r["nodes"]), int(r["open"]),
                         float(r["seconds"]), bool(r["converged"]), str(r["status"]))


def _exact_zero_sum(g, lo=None, hi=None):
    r"""A point close to ``g`` whose entries sum to exactly 0 in real arithmetic (and in any
    floating-point summation order): entries are truncated toward 0 to multiples of a power of
    two ``e`` small enough that all partial sums are exact integers times ``e`` (below
    :math:`2^{52} e`), and the entry farthest inside the box ``[lo, hi]`` absorbs the sum.
    Truncation toward 0 keeps entries in boxes that contain 0. ``None`` if that entry would
    leave the box."""
    g = np.asarray(g, dtype=np.float64).copy()
    n = g.shape[0]
    scale = float(np.max(np.abs(g))) if n else 0.0
    if scale == 0.0:
        return g
    bits = 51 - int(math.ceil(math.log2(n + 1)))
    e = 2.0 ** (math.ceil(math.log2(scale)) - bits)
    q = np.trunc(g / e) * e
    room = np.full(n, np.inf)
    if lo is not None:
        room = np.minimum(q - lo, hi - q)
    k = int(np.argmax(room))
    q[k] = 0.0
    q[k] = -math.fsum(q)  # exact: a sum of integer multiples of e below 2^52 e
    if lo is not None and not (lo[k] <= q[k] <= hi[k]):
        return None
    return q


def _box(loss, y, huber_delta):
    if loss == "huber":
        return np.full(y.shape[0], -huber_delta), np.full(y.shape[0], huber_delta)
    if loss in ("logistic", "hinge"):
        return np.where(y > 0, -1.0, 0.0), np.where(y > 0, 0.0, 1.0)
    return None, None


class NetworkCertificate(NamedTuple):
    r"""Result of :func:`certify_network`.

    Attributes
    ----------
    objective : float
        :math:`J` of the network.
    lower_bound : float
        :math:`D(g) \le J^\star` (``-inf`` when nothing is certified).
    duality_gap : float
        ``objective - lower_bound``: a proven bound on :math:`J - J^\star` (``inf`` when
        nothing is certified, see ``message``).
    dual : ndarray (n,) or None
        The feasible dual point :math:`g` (:math:`\mathbf 1^\top g = 0` exactly with bias).
    sigma_upper, sigma_lower : float
        Bounds on :math:`\sigma` of the unscaled dual candidate (before scaling by ``scale``).
    scale : float
        ``dual = scale * candidate`` (up to the exact zero-sum correction).
    hidden_weight, hidden_bias : ndarray (d,), float
        The most violated neuron found (value ``sigma_lower``): adding it to the network
        with a small output weight of the right sign lowers :math:`J` when
        ``sigma_lower > beta``.
    seconds : float
    status : str
        Status of the dual oracle ("converged", "time_limit", ...; "not_certified").
    message : str
    """

    objective: float
    lower_bound: float
    duality_gap: float
    dual: Optional[np.ndarray]
    sigma_upper: float
    sigma_lower: float
    scale: float
    hidden_weight: Optional[np.ndarray]
    hidden_bias: float
    seconds: float
    status: str
    message: str


def _not_certified(J, t0, message, status="not_certified"):
    return NetworkCertificate(float(J), -math.inf, math.inf, None, math.inf, 0.0, 0.0, None,
                              0.0, 0.0 if t0 is None else time.perf_counter() - t0, status,
                              message)


def certify_network(X, y, hidden_weights, hidden_bias, output_weights, intercept, *, beta,
                    loss="squared", bias=True, huber_delta=1.0, time_limit=None,
                    node_limit=None, rel_tol=1e-4, dual=None, n_threads=0,
                    verbose=False) -> NetworkCertificate:
    r"""Prove how far a two-layer ReLU network is from the global optimum of
    :math:`\min L(f(X), y) + \beta\sum_j|w_j|\,\|u_j\|_2` over all widths.

    Works for any network given as arrays (e.g. trained by PyTorch, sklearn's MLP or
    :func:`fastconvexrelu.train_gd`): ``f(x) = relu(x^T U + b) w + c``.

    Parameters
    ----------
    X : array-like (n, d)
    y : array-like (n,)
        Targets (labels in {-1, +1} for logistic and hinge).
    hidden_weights : array-like (d, m)
    hidden_bias : array-like (m,) or None
    output_weights : array-like (m,)
        Vector outputs (shape (m, o), o > 1) are not certified: the result has gap ``inf``
        and says why.
    intercept : float or None
    beta : float > 0
    loss : {"squared", "huber", "logistic", "hinge"}
    bias : bool, default=True
        The problem class: free hidden biases and intercept (``True``) or neither
        (``False``: ``hidden_bias`` and ``intercept`` must be zero).
    huber_delta : float, default=1.0
    time_limit, node_limit : float, int or None
        Limits of the dual oracle (None: none / 20 million domains). A capped run gives a
        larger, still true, gap.
    rel_tol : float, default=1e-4
        Relative accuracy to which :math:`\sigma` is bounded.
    dual : array-like (n,) or None
        A further dual candidate (e.g. a solver's dual); the better certificate is returned.
    n_threads : int, default=0
    verbose : bool or float

    Returns
    -------
    NetworkCertificate
    """
    t0 = time.perf_counter()
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must be a non-empty 2-D array, got shape {X.shape}.")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinity.")
    n, d = X.shape
    if loss not in _CERT_LOSSES:
        raise ValueError(f"loss must be one of {_CERT_LOSSES}, got {loss!r}.")
    if isinstance(beta, (bool, np.bool_)) or not isinstance(beta, (int, float, np.integer, np.floating)) \
            or not (float(beta) > 0) or not math.isfinite(float(beta)):
        raise ValueError(f"beta must be a finite number > 0, got {beta!r}.")
    beta = float(beta)
    if not (isinstance(huber_delta, (int, float)) and huber_delta > 0 and math.isfinite(huber_delta)):
        raise ValueError(f"huber_delta must be a finite number > 0, got {huber_delta!r}.")
    if not isinstance(bias, (bool, np.bool_)):
        raise ValueError(f"bias must be True or False, got {bias!r}.")
    Y = np.asarray(y, dtype=np.float64)
    if Y.ndim == 2 and Y.shape[1] == 1:
        Y = Y.ravel()
    if Y.ndim != 1 or Y.shape[0] != n:
        raise ValueError(f"y must have shape ({n},), got {np.shape(y)}.")
    check_targets(Y, loss, "y")
    W = np.asarray(output_weights, dtype=np.float64)
    U = np.asarray(hidden_weights, dtype=np.float64)
    if W.ndim == 2 and W.shape[1] > 1:
        return _not_certified(math.nan, t0, "vector outputs are not certified by this function "
                              "(the dual oracle handles one output column).")
    W = W.ravel()
    m = W.shape[0]
    if U.ndim == 1 and m == 1:
        U = U.reshape(-1, 1)
    if U.shape != (d, m):
        raise ValueError(f"hidden_weights must have shape (n_features, n_neurons) = ({d}, {m}), got {U.shape}.")
    b = np.zeros(m) if hidden_bias is None else np.asarray(hidden_bias, dtype=np.float64).ravel()
    if b.shape != (m,):
        raise ValueError(f"hidden_bias must have shape ({m},), got {b.shape}.")
    c = 0.0 if intercept is None else float(np.asarray(intercept, dtype=np.float64).ravel()[0]) \
        if np.size(intercept) == 1 else math.nan
    if not math.isfinite(c):
        raise ValueError(f"intercept must be one finite number, got {intercept!r}.")
    if not (np.all(np.isfinite(U)) and np.all(np.isfinite(b)) and np.all(np.isfinite(W))):
        raise ValueError("hidden_weights, hidden_bias and output_weights must be finite.")
    if not bias and (np.any(b != 0) or c != 0):
        raise ValueError("bias=False: the network must have hidden_bias = 0 and intercept = 0.")

    F = network_output(X, U, b, W, c)
    J = network_objective(X, Y, U, b, W, c, beta, loss, huber_delta=huber_delta)
    if not math.isfinite(J):
        return _not_certified(J, t0, "the objective of the network is not finite.")
    Y2 = Y[:, None]
    lo, hi = _box(loss, Y, huber_delta)
    R = float(np.max(np.linalg.norm(X, axis=1)))
    cands = [_loss_gradient(loss, F[:, None], Y2, huber_delta)[:, 0]]
    if dual is not None:
        dv = np.asarray(dual, dtype=np.float64).ravel()
        if dv.shape != (n,) or not np.all(np.isfinite(dv)):
            raise ValueError(f"dual must be a finite array of shape ({n},).")
        cands.append(dv)
    tl = _check_limit(time_limit, "time_limit")
    points = []
    for k, g0 in enumerate(cands):
        # a solver's dual may use either sign convention: keep the sign with the larger D
        # (before scaling; the gradient itself is taken as is)
        best_pt = None
        for sgn in ((1.0,) if k == 0 else (1.0, -1.0)):
            g = _make_feasible(loss, sgn * g0[:, None], Y2, bias, huber_delta)
            if g is None:
                continue
            g = g[:, 0]
            if bias:
                g = _exact_zero_sum(g, lo, hi)
                if g is None:
                    continue
            if not np.any(g != 0):
                continue
            Dg = dual_objective(loss, g[:, None], Y2, huber_delta)
            if math.isfinite(Dg) and (best_pt is None or Dg > best_pt[0]):
                best_pt = (Dg, g)
        if best_pt is not None:
            points.append(best_pt[1])
    best = None
    points_done = 0
    for g in points:
        # the time limit is shared equally by the candidates still to run
        remaining = None
        if math.isfinite(tl):
            remaining = (tl - (time.perf_counter() - t0)) / (len(points) - points_done)
            if remaining <= 0:
                break
        points_done += 1
        orc = dual_norm(X, g, bias=bias, time_limit=remaining, node_limit=node_limit,
                        rel_tol=rel_tol, floor=beta, candidates=(U, b), n_threads=n_threads,
                        verbose=verbose)
        rho = orc.upper * (1.0 + 1e-9)  # rounding margin of the oracle's bound
        gap, G = scaled_dual_gap(loss, g[:, None], Y2, rho, beta, J, huber_delta)
        if G is None or not math.isfinite(gap):
            continue
        s = float(np.max(np.abs(G[:, 0]))) / float(np.max(np.abs(g)))
        # the certified point: s g made exactly zero-sum again; check its feasibility
        for _ in range(60):
            gs = s * g
            if bias:
                gs = _exact_zero_sum(gs, lo, hi)
                if gs is None:
                    break
                slack = 2.0 * R * float(np.sum(np.abs(gs - s * g))) * (1.0 + 1e-12)
            else:
                slack = R * float(np.sum(np.abs(gs))) * 4e-16
            if s * orc.upper * (1.0 + 1e-9) + slack <= beta * (1.0 - 1e-15) or s * orc.upper == 0:
                break
            s *= 1.0 - 1e-9 - slack / beta
        else:
            gs = None
        if gs is None:
            continue
        D = dual_objective(loss, gs[:, None], Y2, huber_delta)
        if not math.isfinite(D):
            continue
        gap = float(J) - D + 1e-12 * (abs(float(J)) + abs(D))
        if best is None or gap < best[0]:
            best = (max(gap, 0.0), D, gs, orc, s)
    if best is None:
        return _not_certified(J, t0, "no dual candidate could be made feasible for the loss "
                              "conjugate" + (" and 1^T v = 0" if bias else "") + " in time.")
    gap, D, gs, orc, s = best
    msg = (f"sigma(g) <= {orc.upper:.6g} (found {orc.lower:.6g}, beta = {beta:.6g}); "
           f"oracle {orc.status} after {orc.nodes} domains, {orc.seconds:.1f} s")
    return NetworkCertificate(float(J), float(J) - gap, gap, gs, orc.upper, orc.lower, s,
                              orc.hidden_weight, orc.hidden_bias, time.perf_counter() - t0,
                              orc.status, msg)
