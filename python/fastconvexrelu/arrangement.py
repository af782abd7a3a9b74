r"""Activation patterns of ReLU neurons (hyperplane arrangements) and the exact pattern oracle.

A neuron :math:`(u, b)` acts on the data :math:`X\in\mathbb R^{n\times d}` through its
*activation pattern* :math:`D = \operatorname{diag}(1[Xu + b\mathbf 1 > 0])`.  With
:math:`\tilde X = [X, \mathbf 1]` (``bias=True``) or :math:`\tilde X = X` (``bias=False``) and
:math:`w = (u, b)`, the patterns are the sign vectors of the full-dimensional cells of the
central hyperplane arrangement :math:`\{w : \tilde x_i^\top w = 0\}` in
:math:`\mathbb R^{k}` (:math:`k = d + 1` or :math:`d`).  Over the closure of one cell the
network term is linear, :math:`(Xu + b)_+ = D(Xu + b)`, which is what makes the exact convex
program over all patterns possible (issue 3, the ``"arrangements"`` solver; paper Section 3.5
and supplementary A.3 for the cutting-plane oracle).

For :math:`n` hyperplanes in general position the number of cells of a central arrangement of
rank :math:`k` is :math:`2\sum_{i<k}\binom{n-1}{i}` (Cover 1965 / Zaslavsky); with a bias one
of them is the all-zero pattern, which is excluded here (the neuron is zero on the data).  In
1-D with a bias, :math:`m` distinct points give :math:`2m` cells, :math:`2m - 1` patterns.

* :func:`enumerate_patterns`: all patterns, exactly (C++ recursion over the extreme rays of the
  cells; degenerate data -- duplicates, collinear points, rank deficiency -- handled
  combinatorially), each with an interior generator.
* :func:`sample_patterns`: random patterns (the sampling used by the ``"arrangements"`` solver
  for larger :math:`d`, as in scnn).
* :func:`pattern_oracle`: for a dual vector :math:`v`, per pattern and sign
  :math:`s\in\{+1,-1\}`,

  .. math::

      g_i(s) = \max\{ s\,v^\top D_i(Xu + b\mathbf 1) :
               (2D_i - I)(Xu + b\mathbf 1)\ge 0,\ \|u\|_2\le 1,\ b\ \text{free}\},

  solved exactly through the conic dual
  :math:`\min_{\lambda\ge0,\ \sigma^\top\lambda = -c_b}\|c_u + X^\top\operatorname{diag}(\sigma)
  \lambda\|_2` (:math:`\sigma = 2\operatorname{diag}(D_i) - 1`, :math:`c_u = sX^\top D_iv`,
  :math:`c_b = s\mathbf 1^\top D_iv`) by an active-set method in C++; without a bias it is the
  cone projection of the spike-free oracle (15) restricted to the pattern's cone.  The maximum
  over all patterns of :math:`\max_s g_i(s)` is
  :math:`\max_{\|u\|\le1,b}|v^\top(Xu + b)_+|`, the dual constraint of Algorithm 3
  (supplementary A.3), which is finite only when :math:`\mathbf 1^\top v = 0`.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple, Optional, Union

import numpy as np

from . import _core
from ._validation import ConvergenceWarning, _as_float_array, _check_2d, _check_finite, check_bool

__all__ = [
    "Patterns",
    "PatternOracle",
    "enumerate_patterns",
    "sample_patterns",
    "pattern_oracle",
]


class Patterns(NamedTuple):
    """Activation patterns and one generator per pattern.

    Attributes
    ----------
    patterns : ndarray of shape (n, P), bool
        Column ``p`` is :math:`D_p = 1[X u_p + b_p > 0]`.
    hidden_weights : ndarray of shape (d, P)
        Generators :math:`u_p` (columns); :math:`(u_p, b_p)` has unit norm.
    hidden_bias : ndarray of shape (P,)
        Generators :math:`b_p` (zeros when ``bias=False``).
    count : int
        ``P``.
    exact : bool
        True for :func:`enumerate_patterns` (all patterns), False for sampled ones.
    """

    patterns: np.ndarray
    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    count: int
    exact: bool


class PatternOracle(NamedTuple):
    r"""Result of :func:`pattern_oracle`.

    Attributes
    ----------
    values : ndarray of shape (P, 2)
        :math:`g_i(+1)` and :math:`g_i(-1)` (``inf`` when unbounded, which happens only for the
        all-ones pattern with :math:`\mathbf 1^\top v \ne 0`).
    hidden_weights : ndarray of shape (P, 2, d)
        Maximizing :math:`u` (unit norm, or 0 when the value is 0).
    hidden_bias : ndarray of shape (P, 2)
        Maximizing :math:`b` (0 when unbounded or without bias).
    status : ndarray of shape (P, 2), int
        0 converged (KKT verified), 1 unbounded, 2 not converged, 3 skipped (``signs``).
    primal_infeasibility : ndarray of shape (P, 2)
        Relative violation of :math:`(2D - I)(Xu + b)\ge 0` at the returned maximizer.
    gap : ndarray of shape (P, 2)
        Relative difference of the dual and primal values (bias only; 0 otherwise).
    converged : bool
        No entry has status 2.
    """

    values: np.ndarray
    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    status: np.ndarray
    primal_infeasibility: np.ndarray
    gap: np.ndarray
    converged: bool


# ----------------------------------------------------------------------------- helpers
def _check_pos_int(x, name):
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral) or x < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {x!r}.")
    return int(x)


def _check_rng(random_state, name="random_state"):
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(random_state, numbers.Integral):
        raise ValueError(
            f"{name} must be None, an integer or a numpy.random.Generator, got {random_state!r}."
        )
    if random_state < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {random_state!r}.")
    return np.random.default_rng(int(random_state))


def _augment(X, bias):
    return np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X


# ----------------------------------------------------------------------- enumeration
def enumerate_patterns(X, bias=True, max_patterns=100000, tol=1e-9) -> Patterns:
    r"""All distinct activation patterns :math:`1[Xu + b\mathbf 1 > 0]` (all-zero excluded).

    Enumerates the full-dimensional cells of the central arrangement
    :math:`\{(u, b) : x_i^\top u + b = 0\}` (``bias=True``) or :math:`\{u : x_i^\top u = 0\}`
    (``bias=False``) exactly: after projecting onto the row space of :math:`\tilde X`, every
    cell is a pointed cone with an extreme ray (the intersection of ``rank - 1`` hyperplanes);
    the cells around each such line are the cells of the lower-dimensional arrangement of the
    hyperplanes through it (closed form, :math:`2^{\mathrm{rank}-1}` cells, in general
    position), found recursively.  Incidences are decided with the relative tolerance ``tol``
    on unit-normalized rows, so exactly degenerate data (duplicate rows, collinear points,
    rank-deficient :math:`X`, ``d = 1``) is handled combinatorially; cells thinner than
    ``tol`` are not resolved.  Zero rows (``bias=False``) are never active.

    Cost: :math:`O(\binom{n}{r-1}\, n r)` for rank :math:`r` (about 0.02 s for ``n = 60``,
    ``d = 2`` and 0.8 s for ``n = 60``, ``d = 3`` with a bias, see bench/RESULTS.md).

    Parameters
    ----------
    X : array-like of shape (n, d)
    bias : bool, default True
    max_patterns : int, default 100000
        Raise ``ValueError`` when the arrangement has more patterns.
    tol : float, default 1e-9
        Relative incidence tolerance, in (0, 1e-2).

    Returns
    -------
    Patterns
        ``patterns`` (n, P) bool, generators ``hidden_weights`` (d, P) and ``hidden_bias``
        (P,) with ``1[X u_p + b_p > 0] == patterns[:, p]`` and no ties, ``count = P``,
        ``exact = True``.

    Raises
    ------
    ValueError
        Bad input, or more than ``max_patterns`` patterns (the message says how many were
        found before stopping; use :func:`sample_patterns` instead).
    """
    X = _check_2d(X, "X")
    bias = check_bool(bias, "bias")
    max_patterns = _check_pos_int(max_patterns, "max_patterns")
    if (
        isinstance(tol, (bool, np.bool_))
        or not isinstance(tol, numbers.Real)
        or not (0.0 < float(tol) < 1e-2)
    ):
        raise ValueError(f"tol must be a real number in (0, 1e-2), got {tol!r}.")
    try:
        r = _core.enumerate_patterns(X, bias, max_patterns, float(tol))
    except ValueError as exc:
        if "max_patterns" in str(exc):
            raise ValueError(
                f"enumerate_patterns: {exc}; increase max_patterns or use "
                "sample_patterns(X, n_patterns) to sample patterns instead."
            ) from None
        raise
    G = np.asarray(r["generators"])
    d = X.shape[1]
    return Patterns(
        patterns=np.asarray(r["patterns"]).astype(bool),
        hidden_weights=np.ascontiguousarray(G[:, :d].T),
        hidden_bias=np.ascontiguousarray(G[:, d]) if bias else np.zeros(G.shape[0]),
        count=int(r["count"]),
        exact=True,
    )


# -------------------------------------------------------------------------- sampling
def sample_patterns(X, n_patterns, bias=True, random_state=None, max_tries=None) -> Patterns:
    r"""Random distinct activation patterns (all-zero excluded).

    Draws :math:`u\sim N(0, I_d)` and (``bias=True``) :math:`b = -x_j^\top u + \epsilon`
    with a random sample :math:`x_j` and :math:`\epsilon\sim N(0, s^2)`, :math:`s` the
    standard deviation of :math:`Xu` over the samples (so the hyperplane passes near a data
    point and cuts the data), half of the draws with :math:`b\sim N(0, s^2)` around the mean
    instead; keeps the distinct nonzero patterns in order of discovery.

    Draws are made in batches until ``n_patterns`` distinct patterns are found or
    ``max_tries`` draws were made; when the arrangement has fewer patterns (small ``n`` or
    ``d``) -- or they are too thin to be hit -- **fewer patterns are returned** (check
    ``count``); use :func:`enumerate_patterns` to get all of them.  Deterministic given
    ``random_state``.

    Parameters
    ----------
    X : array-like of shape (n, d)
    n_patterns : int >= 1
    bias : bool, default True
    random_state : None, int or numpy.random.Generator
    max_tries : int, optional
        Cap on the number of draws (default ``max(20 n_patterns, 1000)``).

    Returns
    -------
    Patterns
        ``exact = False``; ``count <= n_patterns``.
    """
    X = _check_2d(X, "X")
    n_patterns = _check_pos_int(n_patterns, "n_patterns")
    bias = check_bool(bias, "bias")
    rng = _check_rng(random_state)
    max_tries = (
        max(20 * n_patterns, 1000) if max_tries is None else _check_pos_int(max_tries, "max_tries")
    )
    n, d = X.shape
    seen = set()
    Us, bs, Ds = [], [], []
    tries = 0
    batch = max(64, min(4 * n_patterns, 8192))
    while len(Us) < n_patterns and tries < max_tries:
        m = min(batch, max_tries - tries)
        tries += m
        U = rng.standard_normal((d, m))
        Z = X @ U
        if bias:
            s = Z.std(axis=0) + 1e-12 * (np.abs(Z).max(axis=0) + 1.0)
            near = -Z[rng.integers(0, n, size=m), np.arange(m)] + 0.1 * s * rng.standard_normal(m)
            mean = -Z.mean(axis=0) + s * rng.standard_normal(m)
            b = np.where(rng.random(m) < 0.5, near, mean)
        else:
            b = np.zeros(m)
        A = Z + b
        D = A > 0
        for j in range(m):
            col = D[:, j]
            if not col.any():
                continue
            key = np.packbits(col).tobytes()
            if key in seen:
                continue
            seen.add(key)
            Us.append(U[:, j])
            bs.append(b[j])
            Ds.append(col)
            if len(Us) >= n_patterns:
                break
    P = len(Us)
    U = np.array(Us).T.reshape(d, P) if P else np.zeros((d, 0))
    b = np.array(bs, dtype=float)
    if P:  # unit-norm generators (u, b), as from enumerate_patterns
        nrm = np.sqrt(np.sum(U * U, axis=0) + b * b)
        U, b = U / nrm, b / nrm
    return Patterns(
        patterns=np.array(Ds).T.reshape(n, P) if P else np.zeros((n, 0), dtype=bool),
        hidden_weights=np.ascontiguousarray(U),
        hidden_bias=np.ascontiguousarray(b),
        count=P,
        exact=False,
    )


# ---------------------------------------------------------------------------- oracle
def pattern_oracle(X, v, patterns, bias=True, n_threads=2, tol=1e-12, max_iter=0, signs=None) -> PatternOracle:
    r"""Exact per-pattern oracle :math:`g_i(\pm1)` (see the module docstring).

    For every pattern :math:`D_i` (column ``i`` of ``patterns``) and :math:`s=\pm1`,

    .. math::

        g_i(s) = \max\{ s\,v^\top D_i(Xu + b\mathbf 1) : (2D_i - I)(Xu + b\mathbf 1)\ge 0,
                 \ \|u\|_2\le 1,\ b\ \text{free}\}

    (:math:`b = 0` when ``bias=False``).  Conic dual (supplementary A.3 restricted to one
    pattern): :math:`g_i(s) = \min\{\|c_u + X^\top\Sigma\lambda\|_2 : \lambda\ge 0,\
    \sigma^\top\lambda = -c_b\}` with :math:`\Sigma = \operatorname{diag}(\sigma)`,
    :math:`\sigma = 2\operatorname{diag}(D_i) - 1`, :math:`c_u = sX^\top D_iv`,
    :math:`c_b = s\mathbf 1^\top D_iv`; solved by an exact active-set method (null-space
    treatment of the equality) with the KKT conditions verified, maximizer
    :math:`u = r/\|r\|`, :math:`b = \nu/\|r\|` (:math:`r` the dual residual, :math:`\nu` the
    equality multiplier).  When the equality has no solution :math:`\lambda\ge0` (all-ones
    pattern and :math:`s\mathbf 1^\top v\ne0`) the maximum is ``inf``.  Without bias this is the
    Lawson-Hanson cone projection of :func:`fastconvexrelu.cone_projection`.  Patterns run in
    parallel over ``n_threads`` threads (GIL released).

    Parameters
    ----------
    X : array-like of shape (n, d)
    v : array-like of shape (n,)
    patterns : array-like of shape (n, P), bool or 0/1
    bias : bool, default True
    n_threads : int, default 2
    tol : float, default 1e-12
        Relative optimality tolerance of the active-set methods.
    max_iter : int, default 0 (automatic: max(100, 3 (n + d)))
    signs : array-like of shape (P,) with entries in {-1, 0, 1}, optional
        Solve only :math:`s = +1` (1), only :math:`s = -1` (-1) or both (0, the default) for
        each pattern; skipped entries have value NaN and status 3.

    Returns
    -------
    PatternOracle
        A ``ConvergenceWarning`` is issued when some entry did not converge (status 2).
    """
    X = _check_2d(X, "X")
    n, d = X.shape
    v = _as_float_array(v, "v")
    if v.ndim != 1 or v.shape[0] != n:
        raise ValueError(f"v must have shape ({n},), got {v.shape}.")
    _check_finite(v, "v")
    P = np.asarray(patterns)
    if P.ndim == 1:
        P = P[:, None]
    if P.ndim != 2 or P.shape[0] != n:
        raise ValueError(f"patterns must have shape ({n}, P), got {np.asarray(patterns).shape}.")
    if P.dtype != bool:
        Pf = _as_float_array(P, "patterns")
        if not np.all((Pf == 0) | (Pf == 1)):
            raise ValueError("patterns must contain only 0/1 (or bool) entries.")
        P = Pf != 0
    bias = check_bool(bias, "bias")
    n_threads = _check_pos_int(n_threads, "n_threads")
    if isinstance(max_iter, (bool, np.bool_)) or not isinstance(max_iter, numbers.Integral) or max_iter < 0:
        raise ValueError(f"max_iter must be an integer >= 0, got {max_iter!r}.")
    if (
        isinstance(tol, (bool, np.bool_))
        or not isinstance(tol, numbers.Real)
        or not (0.0 <= float(tol) < 1.0)
    ):
        raise ValueError(f"tol must be a real number in [0, 1), got {tol!r}.")
    if signs is None:
        sg = []
    else:
        sg = np.asarray(signs)
        if sg.shape != (P.shape[1],) or not np.all(np.isin(sg, (-1, 0, 1))):
            raise ValueError(f"signs must have shape ({P.shape[1]},) with entries -1, 0 or 1.")
        sg = [int(t) for t in sg]
    Pu = np.ascontiguousarray(P, dtype=np.uint8)
    r = _core.pattern_oracle(X, v, Pu, bias, float(tol), 1e-10, int(max_iter), n_threads, sg)
    status = np.asarray(r["status"])
    conv = bool(np.all(status != 2))
    if not conv:
        import warnings

        warnings.warn(
            f"pattern_oracle: {int(np.sum(status == 2))} of {status.size} pattern problems did "
            "not converge (status 2)",
            ConvergenceWarning,
            stacklevel=2,
        )
    return PatternOracle(
        values=np.asarray(r["value"]),
        hidden_weights=np.asarray(r["u"]),
        hidden_bias=np.asarray(r["b"]),
        status=status,
        primal_infeasibility=np.asarray(r["primal_infeasibility"]),
        gap=np.asarray(r["gap"]),
        converged=conv,
    )
