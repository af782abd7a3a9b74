r"""solver="arrangements": the exact convex program over activation patterns (issue 3).

Patterns :math:`D_i = \mathrm{diag}(1[X u + b \mathbf 1 > 0])` come from the exact enumeration
of the hyperplane arrangement (:func:`fastconvexrelu.arrangement.enumerate_patterns`) when it
is small, otherwise from random sampling (:func:`~fastconvexrelu.arrangement.sample_patterns`).
The program

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

from ._validation import ConvergenceWarning

# Enumerate the arrangement when its general-position cell count is at most this.
MAX_EXACT_PATTERNS = 1000
# Sampled patterns when the arrangement is too large and n_patterns is None.
DEFAULT_N_PATTERNS = 200


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


def fit_arrangements(X, Y, *, loss, beta, bias, tol, max_iter, n_patterns=None,
                     random_state=None, huber_delta=1.0, verbose=False, warm_start=None):
    """Fit by the pattern program; see the module docstring. ``Y``: (n,) or (n, o)."""
    from .arrangement_program import solve_arrangement_program
    from .certificates import certified_gap
    from ._objective import network_output

    if beta == 0:
        raise ValueError(
            "solver='arrangements' needs beta > 0 (beta = 0, the minimum-norm problem, is "
            "available with solver='extreme_points' for 1-D / rank-one data)."
        )
    if warm_start is not None and warm_start.get("patterns") is not None:
        pats = warm_start["patterns"]
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
        warm={"patterns": pats, "program": res.warm_start},
    )
