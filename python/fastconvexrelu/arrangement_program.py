r"""The exact convex program over fixed activation patterns ("arrangements"; issue 3).

For data :math:`X \in \mathbb{R}^{n\times d}`, targets :math:`Y \in \mathbb{R}^{n\times o}` and
activation patterns :math:`D_i = \mathrm{diag}(\text{patterns}[:, i])`, :math:`i = 1..P`,

.. math::

    \min_{v_{ik}, w_{ik}, c}\; L(F, Y) + \beta \sum_{i,k} \big(\|v_{ik}[{:}d]\|_2 + \|w_{ik}[{:}d]\|_2\big),
    \qquad F_{:,k} = \sum_i D_i \tilde X (v_{ik} - w_{ik}) + c_k \mathbf 1,

    \text{s.t. } (2D_i - I)\tilde X v_{ik} \ge 0,\; (2D_i - I)\tilde X w_{ik} \ge 0,

with :math:`\tilde X = [X, \mathbf 1]` (``bias=True``; the bias coordinate is not penalized) or
:math:`\tilde X = X` -- the convex reformulation of two-layer ReLU training (paper Section 2,
eq. (7), bias variant of supplementary A.3, any convex loss by Theorem 6.1; for ``o > 1`` the
l1 vector-output variant of supplementary A.7.3: every output has its own neurons and the
outputs couple only through the loss). The unpenalized output intercept :math:`c` is explicit
(``fit_intercept=True``), so the dual point satisfies :math:`\mathbf 1^\top\lambda_k = 0`.
``fit_intercept=False`` fixes :math:`c = 0`; with ``bias=False`` this is eq. (7) itself (the
network without any bias) and the dual point is not centred.

Each block with :math:`v[{:}d] \ne 0` is the ReLU neuron :math:`u = v[{:}d]/\|v[{:}d]\|`,
:math:`b = v[d]/\|v[{:}d]\|` with output weight :math:`\pm\|v[{:}d]\|\,e_k`. Bias-only blocks
:math:`v = (0, t)`, :math:`t > 0`, are possible only for the all-active pattern; they are
unpenalized constants. With ``fit_intercept=True`` they go into the intercept; with
``fit_intercept=False`` (and ``bias=True``) they are returned as constant neurons
:math:`u = 0`, :math:`b = 1` with output weight :math:`\pm t\,e_k` (penalty
:math:`|w|\,\|u\| = 0`), so the intercept stays exactly 0 -- the program over patterns that
include the all-active one has a free constant anyway, and its optimum does not depend on
``fit_intercept``.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._losses import LOSSES, check_targets
from ._objective import network_objective
from ._validation import ConvergenceWarning, check_X, check_bool

__all__ = ["ArrangementProgramResult", "solve_arrangement_program", "network_from_blocks"]


@dataclass
class ArrangementProgramResult:
    """Solution of :func:`solve_arrangement_program`.

    Attributes
    ----------
    hidden_weights : ndarray (d, m)
    hidden_bias : ndarray (m,)
    output_weights : ndarray (m,) for 1-D ``Y``, (m, o) otherwise
    intercept : float for 1-D ``Y``, ndarray (o,) otherwise
        Exactly 0 with ``fit_intercept=False``.
    objective : float
        ``J`` of the returned network (``network_objective``), the number to report.
    convex_objective : float
        Objective of the convex variables (cone violations, if any, ignored).
    dual_objective : float
        :math:`-L^*(\\lambda)` at a feasible dual point: a lower bound on the optimum of the
        program over the given patterns (``-inf`` if no certificate).
    restricted_gap : float
        ``objective - dual_objective`` >= ``objective`` minus the optimum of the program over
        the given patterns (``inf`` without a certificate). Not a bound for all patterns.
    dual : ndarray (n,) or (n, o)
        The feasible dual point :math:`\\lambda` (a scaled gradient of ``L`` at the fit,
        centred -- :math:`\\mathbf 1^\\top\\lambda_k = 0` -- when there is a free constant).
    max_violation : float
        Largest cone violation :math:`\\max(0, -(2D_i - I)\\tilde X v)` of the convex variables.
    n_iter : int
        First-order (FISTA) iterations.
    converged : bool
    status : str
    v, w : ndarray (P, o, dp)
        The convex variables (``dp = d + bias``).
    warm_start : dict
        Everything a next call needs as ``warm_start`` (theta, intercept, multipliers, penalties).
    """

    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    intercept: object
    objective: float
    convex_objective: float
    dual_objective: float
    restricted_gap: float
    dual: np.ndarray
    max_violation: float
    n_iter: int
    converged: bool
    status: str
    v: np.ndarray = field(repr=False)
    w: np.ndarray = field(repr=False)
    warm_start: dict = field(repr=False, default_factory=dict)


def network_from_blocks(theta, intercept, patterns, d, bias, fit_intercept=True):
    """Map the convex variables to a ReLU network.

    Parameters
    ----------
    theta : ndarray (dp, 2 P o)
        Block ``(i, k, s)`` (``s = 0`` for ``v``, 1 for ``w``) in column ``(2k + s) P + i``.
    intercept : ndarray (o,)
    patterns : ndarray (n, P)
    d : int
    bias : bool
    fit_intercept : bool, default=True
        ``True``: bias-only blocks of the all-active pattern (constants) are added to the
        intercept. ``False``: they become constant neurons ``u = 0, b = 1`` (zero penalty) with
        output weight ``+-v[d]``, and ``intercept`` is returned unchanged.

    Returns
    -------
    hidden_weights (d, m), hidden_bias (m,), output_weights (m, o), intercept (o,)
    """
    theta = np.asarray(theta, dtype=np.float64)
    P = patterns.shape[1]
    o = theta.shape[1] // (2 * P)
    c = np.array(intercept, dtype=np.float64).reshape(o).copy()
    norms = np.linalg.norm(theta[:d], axis=0)
    cols = np.flatnonzero(norms > 0)
    U = theta[:d, cols] / norms[cols]
    b = theta[d, cols] / norms[cols] if bias else np.zeros(cols.size)
    k = cols // (2 * P)
    sign = np.where((cols // P) % 2 == 0, 1.0, -1.0)
    W = np.zeros((cols.size, o))
    W[np.arange(cols.size), k] = sign * norms[cols]
    if bias:
        # bias-only blocks of the all-active pattern are constants: fold them into the intercept,
        # or (no intercept) keep them as neurons with u = 0, b = 1 and output weight +-v[d]
        all_active = np.all(patterns == 1, axis=0)
        const_cols = [col for col in np.flatnonzero((norms == 0) & (theta[d] != 0)) if all_active[col % P]]
        for col in const_cols:
            if fit_intercept:
                c[col // (2 * P)] += (1.0 if (col // P) % 2 == 0 else -1.0) * theta[d, col]
        if not fit_intercept and const_cols:
            cc = np.array(const_cols, dtype=np.int64)
            Wc = np.zeros((cc.size, o))
            Wc[np.arange(cc.size), cc // (2 * P)] = np.where((cc // P) % 2 == 0, 1.0, -1.0) * theta[d, cc]
            U = np.hstack([U, np.zeros((d, cc.size))])
            b = np.concatenate([b, np.ones(cc.size)])
            W = np.vstack([W, Wc])
    return U, b, W, c


def _check_patterns(patterns, n):
    if patterns is None:
        raise ValueError("patterns must be an array of shape (n_samples, n_patterns), got None.")
    D = np.asarray(patterns)
    if D.dtype == bool:
        D = D.astype(np.float64)
    if D.dtype.kind not in "biuf":
        raise ValueError(f"patterns must be a numeric 0/1 array, got dtype {D.dtype}.")
    D = np.asarray(D, dtype=np.float64)
    if D.ndim == 1:
        D = D.reshape(-1, 1)
    if D.ndim != 2 or D.shape[0] != n or D.shape[1] < 1:
        raise ValueError(f"patterns must have shape (n_samples, n_patterns) = ({n}, P), got {D.shape}.")
    if not np.all((D == 0) | (D == 1)):
        raise ValueError("patterns must contain only 0 and 1 (activation patterns).")
    return np.asfortranarray(D)


def _positive(value, name, integer=False):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a {'positive integer' if integer else 'finite number > 0'}, got {value!r}.")
    if integer and (not isinstance(value, numbers.Integral) or value < 1):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}.")
    if not integer and (not np.isfinite(value) or value <= 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}.")
    return int(value) if integer else float(value)


def solve_arrangement_program(
    X,
    Y,
    patterns,
    *,
    loss="squared",
    beta,
    bias=True,
    fit_intercept=True,
    huber_delta=1.0,
    tol=1e-8,
    max_iter=100000,
    warm_start=None,
    verbose=False,
    n_threads=2,
):
    r"""Solve the convex program over fixed activation patterns and return the ReLU network.

    Method (C++ ``fcr::solve_arrangement_program``, GIL released): augmented Lagrangian on
    the cone constraints with an accelerated proximal-gradient (FISTA, adaptive restart)
    inner solver whose prox is the group shrinkage of :math:`v[{:}d]`; the hinge loss is split
    exactly (second augmented-Lagrangian constraint ``F = z``, prox of the hinge). For smooth
    losses, once the first-order iterate settles and its support is small, a feasible
    active-set Newton method on the support (faces of the cones, ratio test, multiplier
    signs) polishes it, and blocks whose dual constraint is violated are added from the
    certificate. Stopping: :math:`(P - D)/P \le` ``tol`` and cone violation
    :math:`\le` ``tol * max(1, max|Y|)``, with the dual certificate of the header of
    ``arrangement_program.hpp``. Hinge loss: the dual point is the best of the split's
    multiplier, a fit of :math:`\lambda = -y\circ a`, :math:`a \in [0, 1]`, to the stationarity
    of the support blocks and the subgradient at the fit, over all outer iterations (each
    scaled to feasibility, so every one is a valid bound); the solver stops early, not
    converged (status ``"stalled: ..."``), when that gap decreases by less than 5% over 4000
    first-order iterations (separable data with a small ``beta``: the first-order primal
    progress is then too slow to reach ``tol``).

    Parameters
    ----------
    X : array-like (n, d)
    Y : array-like (n,) or (n, o)
        Targets: real (squared, huber), labels in {-1, +1} (logistic, hinge), one-hot rows
        with o >= 2 (softmax).
    patterns : array-like (n, P) of 0/1 (or bool)
        Activation patterns, one per column (e.g. ``X @ U + b > 0`` for sampled ``U, b``).
    loss : {"squared", "logistic", "softmax", "huber", "hinge"}
    beta : float > 0
    bias : bool, default=True
    fit_intercept : bool, default=True
        Fit the unpenalized output intercept :math:`c`. ``False`` fixes :math:`c = 0` (use it
        with ``bias=False`` for the network without biases, eq. (7)); the dual point is then
        not centred. With ``bias=True`` and the all-active pattern among ``patterns``, that
        pattern's unpenalized bias-only blocks provide the constant instead (returned as
        neurons ``u = 0, b = 1``; see the module docstring).
    huber_delta : float > 0, default=1.0
    tol : float > 0, default=1e-8
    max_iter : int, default=100000
        Cap on first-order iterations.
    warm_start : ArrangementProgramResult or dict or None
        A previous result (same X, patterns, loss, bias, fit_intercept) -- e.g. along a
        regularization path.
    verbose : bool
        One line per outer iteration on stderr.
    n_threads : int, default=2

    Returns
    -------
    ArrangementProgramResult
        Warns ``ConvergenceWarning`` when ``tol`` was not reached.
    """
    from . import _core

    X = check_X(X)
    n, d = X.shape
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}.")
    if Y is None:
        raise ValueError("Y must be an array of shape (n,) or (n, o), got None.")
    Y_in = np.asarray(Y, dtype=np.float64) if np.asarray(Y).dtype.kind in "biuf" else None
    if Y_in is None:
        raise ValueError(f"Y must be numeric, got dtype {np.asarray(Y).dtype}.")
    one_d = Y_in.ndim == 1
    Y2 = check_targets(Y_in, loss, "Y")
    if Y2.shape[0] != n:
        raise ValueError(f"X and Y have inconsistent numbers of samples: {n} and {Y2.shape[0]}.")
    D = _check_patterns(patterns, n)
    beta = _positive(beta, "beta")
    tol = _positive(tol, "tol")
    huber_delta = _positive(huber_delta, "huber_delta")
    max_iter = _positive(max_iter, "max_iter", integer=True)
    bias = check_bool(bias, "bias")
    bias = bool(bias)
    fit_intercept = check_bool(fit_intercept, "fit_intercept")
    fit_intercept = bool(fit_intercept)
    P, o = D.shape[1], Y2.shape[1]
    dp = d + (1 if bias else 0)
    ws = {}
    if warm_start is not None:
        ws = dict(warm_start.warm_start if isinstance(warm_start, ArrangementProgramResult) else warm_start)
        th = ws.get("theta")
        if th is not None and np.shape(th) != (dp, 2 * P * o):
            raise ValueError(f"warm_start theta must have shape {(dp, 2 * P * o)}, got {np.shape(th)}.")
        mu = ws.get("mu")
        if mu is not None and np.shape(mu) != (n, 2 * P * o):
            raise ValueError(f"warm_start mu must have shape {(n, 2 * P * o)}, got {np.shape(mu)}.")

    r = _core.arrangement_program(
        np.asfortranarray(X), np.asfortranarray(Y2), D, loss, beta, bias,
        huber_delta=huber_delta, tol=tol, max_iter=max_iter, n_threads=int(n_threads), verbose=bool(verbose),
        theta=None if ws.get("theta") is None else np.asfortranarray(ws["theta"], dtype=np.float64),
        intercept=None if ws.get("intercept") is None else np.asarray(ws["intercept"], dtype=np.float64).reshape(o),
        mu=None if ws.get("mu") is None else np.asfortranarray(ws["mu"], dtype=np.float64),
        hinge_multiplier=None if ws.get("hinge_multiplier") is None
        else np.asfortranarray(ws["hinge_multiplier"], dtype=np.float64),
        warm_rho=float(ws.get("rho", 0.0)), warm_rho_hinge=float(ws.get("rho_hinge", 0.0)),
        fit_intercept=fit_intercept,
    )
    theta = r["theta"]
    U, b, W, c = network_from_blocks(theta, r["intercept"], D, d, bias, fit_intercept)
    if one_d:
        W_out, c_out, y_obj = W[:, 0], float(c[0]), Y2[:, 0]
    else:
        W_out, c_out, y_obj = W, c, Y2
    J = network_objective(X, y_obj, U, b, W_out, c_out, beta, loss, huber_delta=huber_delta)
    dual_obj = float(r["dual_objective"])
    gap = J - dual_obj if np.isfinite(dual_obj) else float("inf")
    blocks = theta.T.reshape(o, 2, P, dp)
    converged = bool(r["converged"])
    status = str(r["message"])
    if not converged:
        warnings.warn(f"solve_arrangement_program did not reach tol={tol:g}: {status}", ConvergenceWarning,
                      stacklevel=2)
    return ArrangementProgramResult(
        hidden_weights=U,
        hidden_bias=b,
        output_weights=W_out,
        intercept=c_out,
        objective=float(J),
        convex_objective=float(r["primal_objective"]),
        dual_objective=dual_obj,
        restricted_gap=float(gap),
        dual=r["dual"][:, 0].copy() if one_d else r["dual"],
        max_violation=float(r["max_violation"]),
        n_iter=int(r["n_iter"]),
        converged=converged,
        status=status,
        v=np.ascontiguousarray(blocks[:, 0].transpose(1, 0, 2)),
        w=np.ascontiguousarray(blocks[:, 1].transpose(1, 0, 2)),
        warm_start=dict(theta=theta, intercept=r["intercept"], mu=r["mu"], hinge_multiplier=r["hinge_multiplier"],
                        rho=float(r["rho"]), rho_hinge=float(r["rho_hinge"])),
    )
