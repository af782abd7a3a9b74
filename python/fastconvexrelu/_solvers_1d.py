r"""Exact solvers for one-dimensional and rank-one ("on a line") data.

By Lemma 2.6 / Corollary 3.2 (d = 1) and Corollary 3.4 (rank one) of the paper, the optimal
hidden neurons of a two-layer ReLU network are extreme points of
:math:`\mathcal{Q}_A = \{(Au + b1)_+ : \|u\|_2 \le 1\}`, and these are finitely many:

* ``bias=True`` (samples on a line ``x_i = x_0 + t_i a``, ``||a|| = 1``): the ramps
  :math:`(t - t_k)_+` and :math:`(t_k - t)_+` with kinks at the samples, i.e. neurons
  ``u = +-a``.  The training problem is then a finite convex program over these, solved by
  ``_core.fit_spline_1d`` (Corollary 4.1, Theorem 5.2, Theorem 6.1).
* ``bias=False`` (samples on a line through the origin, ``x_i = t_i a``): only the two
  neurons ``u = +-a``, ``b = 0``; solved by ``_core.fit_ray_pair``.

The kernels return a network in the 1-D coordinate ``t`` together with a dual-feasible
vector; here it is mapped back to input space, its objective is recomputed with
:func:`network_objective` and the certified gap ``J - D(v)`` is formed.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ._objective import network_objective

__all__ = ["LINE_RTOL", "LineParametrization", "line_parametrization", "fit_extreme_points"]

#: relative residual below which samples count as lying on one line
LINE_RTOL = 1e-9
#: agreement required between the kernel's primal value and the recomputed objective
_PRIMAL_RTOL = 1e-8


def _get_core():
    """Import the compiled kernels lazily (tests may replace this function)."""
    from . import _core

    return _core


@dataclass
class LineParametrization:
    """Samples on a line: ``X ~= 1 x0^T + t a^T`` with ``||a||_2 = 1``."""

    x0: np.ndarray
    a: np.ndarray
    t: np.ndarray
    rel_residual: float


@dataclass
class ExtremePointsResult:
    """Network and certificate returned by :func:`fit_extreme_points`."""

    hidden_weights: np.ndarray  # (d, m)
    hidden_bias: np.ndarray  # (m,)
    output_weights: np.ndarray  # (m,)
    intercept: float
    objective: float  # J recomputed in input space
    dual_value: float
    duality_gap: float
    dual_coef: np.ndarray  # (n,)
    n_iter: int
    converged: bool
    message: str = ""
    kernel_primal: float = float("nan")
    history_gap: list = field(default_factory=list)


def line_parametrization(X, bias=True):
    """Return the line through the samples, or a reason why there is none.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64
    bias : bool
        ``True``: any line ``x0 + t a``; ``False``: a line through the origin (``x0 = 0``).

    Returns
    -------
    (line, reason) : (LineParametrization or None, str)
        ``line`` is None when the samples are not on such a line (relative residual
        > ``LINE_RTOL``); ``reason`` then says why.
    """
    n, d = X.shape
    if d == 1:
        return LineParametrization(np.zeros(1), np.ones(1), X[:, 0].copy(), 0.0), ""
    core = _get_core()
    x0, a, t, rel = core.fit_line(np.ascontiguousarray(X, dtype=np.float64), bool(bias))
    rel = float(rel)
    if rel <= LINE_RTOL:
        line = LineParametrization(
            np.asarray(x0, dtype=np.float64).ravel() if bias else np.zeros(d),
            np.asarray(a, dtype=np.float64).ravel(),
            np.asarray(t, dtype=np.float64).ravel(),
            rel,
        )
        return line, ""
    if not bias:
        rel_affine = float(core.fit_line(np.ascontiguousarray(X, dtype=np.float64), True)[3])
        if rel_affine <= LINE_RTOL:
            return None, (
                "the samples lie on a line that does not pass through the origin; with "
                "bias=False the extreme-point solver needs X = t a^T (rank one through the "
                f"origin), relative residual {rel:.3g} > {LINE_RTOL:g}"
            )
        return None, (
            f"X (n={n}, d={d}) is not rank one: relative residual of the best line through "
            f"the origin is {rel:.3g} > {LINE_RTOL:g}"
        )
    return None, (
        f"the samples (n={n}, d={d}) do not lie on one line: relative residual of the best "
        f"line is {rel:.3g} > {LINE_RTOL:g}"
    )


# --------------------------------------------------------------------- constant model
def _constant_fit(X, y, loss, beta):
    """All samples identical (bias=True): the best network is the best constant.

    Any network takes a single value on identical samples and the penalty is >= 0, so the
    best constant with no neurons is globally optimal (gap 0).
    """
    n, d = X.shape
    if loss == "squared":
        if beta == 0:
            if np.ptp(y) > 0:
                raise ValueError(
                    "beta = 0 (interpolation) is infeasible: identical samples in X have "
                    "different targets y."
                )
            c = float(y[0])
        else:
            c = float(np.mean(y))
        v = y - c
    elif loss == "hinge":
        n_pos = int(np.sum(y > 0))
        n_neg = n - n_pos
        if beta == 0 and n_pos and n_neg:
            raise ValueError(
                "beta = 0 (hard margin) is infeasible: identical samples in X have "
                "different labels y."
            )
        c = 1.0 if n_pos > n_neg else (-1.0 if n_neg > n_pos else 0.0)
        # dual: lambda_i in [0, 1] on the violated/active side, 1^T v = 0
        lam = np.zeros(n)
        if n_pos and n_neg:
            if n_pos >= n_neg:
                lam[y < 0] = 1.0
                lam[y > 0] = n_neg / n_pos
            else:
                lam[y > 0] = 1.0
                lam[y < 0] = n_pos / n_neg
        v = y * lam
    else:  # logistic (beta > 0 guaranteed by validation)
        n_pos = int(np.sum(y > 0))
        n_neg = n - n_pos
        if n_pos == 0 or n_neg == 0:
            raise ValueError("y has only one class; the logistic loss then has no minimizer.")
        c = float(np.log(n_pos / n_neg))
        v = y / (1.0 + np.exp(y * c))  # -dL/df
    J = network_objective(X, y, np.zeros((d, 0)), np.zeros(0), np.zeros(0), c, beta, loss)
    return ExtremePointsResult(
        hidden_weights=np.zeros((d, 0)),
        hidden_bias=np.zeros(0),
        output_weights=np.zeros(0),
        intercept=c,
        objective=J,
        dual_value=J,
        duality_gap=0.0,
        dual_coef=np.ascontiguousarray(v, dtype=np.float64),
        n_iter=0,
        converged=True,
        message="all samples identical: best constant model (closed form)",
        kernel_primal=J,
        history_gap=[],
    )


# ----------------------------------------------------------------------------- solver
def _arr(res, key):
    return np.asarray(res[key], dtype=np.float64).ravel()


def fit_extreme_points(X, y, line, *, loss="squared", beta=1e-3, bias=True, tol=1e-8, max_iter=200):
    """Globally optimal network for samples on a line (d = 1 or rank one).

    Parameters
    ----------
    X : ndarray (n, d), float64, validated
    y : ndarray (n,), float64 (in {-1, +1} for hinge/logistic)
    line : LineParametrization
        From :func:`line_parametrization` with the same ``bias``.
    loss, beta, bias, tol, max_iter
        Validated hyper-parameters.

    Returns
    -------
    ExtremePointsResult
    """
    n, d = X.shape
    x0, a, t = line.x0, line.a, np.ascontiguousarray(line.t, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)

    if bias and np.ptp(t) == 0:
        return _constant_fit(X, y, loss, beta)

    core = _get_core()
    if bias:
        res = core.fit_spline_1d(t, y, loss=loss, beta=beta, tol=tol, max_iter=max_iter)
        kr, wr = _arr(res, "knots_right"), _arr(res, "w_right")
        kl, wl = _arr(res, "knots_left"), _arr(res, "w_left")
        ax0 = float(a @ x0)
        # right ramp (t - k)_+ = (a.x - a.x0 - k)_+ ; left ramp (k - t)_+ = (-a.x + a.x0 + k)_+
        U = np.concatenate([np.tile(a[:, None], (1, kr.size)), np.tile(-a[:, None], (1, kl.size))], axis=1)
        b = np.concatenate([-kr - ax0, kl + ax0])
        w = np.concatenate([wr, wl])
        c = float(res["intercept"])
        n_iter = int(res.get("n_iter", 0))
    else:
        res = core.fit_ray_pair(t, y, loss=loss, beta=beta)
        U = np.stack([a, -a], axis=1)
        b = np.zeros(2)
        w = np.array([float(res["w_pos"]), float(res["w_neg"])])
        c = 0.0
        n_iter = int(res.get("n_iter", 1))

    keep = w != 0.0
    U, b, w = np.ascontiguousarray(U[:, keep]), b[keep], w[keep]
    U = U.reshape(d, -1)

    J = network_objective(X, y, U, b, w, c, beta, loss)
    primal = float(res["primal"])
    dual_value = float(res["dual_value"])
    if not np.isfinite(J) or abs(J - primal) > _PRIMAL_RTOL * max(abs(J), abs(primal)) + 1e-13:
        warnings.warn(
            f"the recomputed objective {J!r} differs from the kernel's primal value "
            f"{primal!r}; the reported objective and gap use the recomputed value.",
            RuntimeWarning,
            stacklevel=4,
        )
    gap = max(0.0, J - dual_value) if np.isfinite(dual_value) else float("inf")
    if np.isnan(gap):
        gap = float("inf")
    history = [float(g) for g in np.asarray(res.get("history_gap", []), dtype=np.float64).ravel()]
    return ExtremePointsResult(
        hidden_weights=U,
        hidden_bias=np.ascontiguousarray(b, dtype=np.float64),
        output_weights=np.ascontiguousarray(w, dtype=np.float64),
        intercept=c,
        objective=float(J),
        dual_value=dual_value,
        duality_gap=float(gap),
        dual_coef=_arr(res, "dual"),
        n_iter=n_iter,
        converged=bool(res["converged"]),
        message=str(res.get("message", "")),
        kernel_primal=primal,
        history_gap=history,
    )
