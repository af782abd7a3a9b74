"""Shared helpers of the paper reproductions: data sets, small exact convex programs over a
fixed set of neurons, gradient-descent wrappers, printing and lazy plotting.

Nothing here is part of the public API; the reproductions are
:func:`fastconvexrelu.reproduce.run` and the ``fastconvexrelu reproduce`` command.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._plotting import MATPLOTLIB_MISSING, _pyplot  # "... install the plot extra ..."

__all__ = [
    "Report",
    "pyplot",
    "check_plot",
    "save",
    "fig1_data",
    "hinge_data_1d",
    "min_l1_interpolation",
    "lasso",
    "hinge_fixed",
    "train_gd_safe",
    "spline_deviation",
    "chord_deviation",
]


# ------------------------------------------------------------------------------ output
class Report:
    """Collects the printed lines of a reproduction (always printed; ``verbose`` adds detail)."""

    def __init__(self, title, verbose=False):
        self.verbose = bool(verbose)
        self.lines = []
        self(f"== {title} ==")

    def __call__(self, line=""):
        self.lines.append(str(line))
        print(line, flush=True)

    def detail(self, line=""):
        if self.verbose:
            self(line)


def pyplot():
    """``matplotlib.pyplot`` with the Agg backend, or ImportError("... install the plot extra")."""
    return _pyplot()


def check_plot(plot):
    """Fail fast (before any computation) when a plot is requested without matplotlib."""
    if plot is not None:
        pyplot()


def save(fig, path, report):
    plt = pyplot()
    fig.savefig(str(path), dpi=110)
    plt.close(fig)
    report(f"plot written to {path}")


# -------------------------------------------------------------------------------- data
def fig1_data():
    """The 1-D regression set of Figures 1a/1b and 6a (6 samples; the paper's values are not
    published, so this is a fixed set of the same kind)."""
    x = np.array([-2.0, -1.2, -0.3, 0.4, 1.1, 2.0])
    y = np.array([0.5, -0.6, 0.4, 1.0, -0.2, 0.6])
    return x, y


def hinge_data_1d():
    """1-D binary classification set of Figures 1c and 7: 9 evenly spaced samples on
    [-2, 2] with three sign changes."""
    x = np.linspace(-2.0, 2.0, 9)
    y = np.array([1, 1, -1, -1, 1, 1, 1, -1, -1], dtype=float)
    return x, y


# ------------------------------------------------- exact convex programs over fixed neurons
def _linprog():
    try:
        from scipy.optimize import linprog
    except ImportError as exc:  # pragma: no cover - scipy is in the test extra
        raise ImportError("this reproduction needs SciPy (linear programs): pip install scipy") from exc
    return linprog


def min_l1_interpolation(Phi, y, weights=None, intercept=True):
    r"""``min sum_j s_j |w_j|`` s.t. ``Phi w (+ c 1) = y`` (the restricted problem (17)).

    Returns ``(value, w, c, v)`` with ``v`` the optimal dual vector (``|Phi_j^T v| <= s_j``,
    ``1^T v = 0`` with an intercept, ``v^T y = value``), or ``None`` when infeasible.
    """
    Phi = np.asarray(Phi, float)
    y = np.asarray(y, float)
    n, k = Phi.shape
    s = np.ones(k) if weights is None else np.asarray(weights, float)
    nc = 1 if intercept else 0
    c_obj = np.concatenate([s, s, np.zeros(nc)])
    A_eq = np.hstack([Phi, -Phi] + ([np.ones((n, 1))] if intercept else []))
    bounds = [(0, None)] * (2 * k) + [(None, None)] * nc
    res = _linprog()(c_obj, A_eq=A_eq, b_eq=y, bounds=bounds, method="highs")
    if res.status != 0:
        return None
    w = res.x[:k] - res.x[k:2 * k]
    c = float(res.x[-1]) if intercept else 0.0
    v = np.asarray(res.eqlin.marginals, float)
    return float(np.sum(s * np.abs(w))), w, c, v


def _soft(z, thr):
    return np.sign(z) * np.maximum(np.abs(z) - thr, 0.0)


def lasso(Phi, y, beta, weights=None, intercept=True, w0=None, max_iter=100000, tol=1e-11):
    r"""Exact ``min 1/2 ||Phi w + c 1 - y||^2 + beta sum_j s_j |w_j|`` (c free if ``intercept``).

    Accelerated proximal gradient (FISTA with adaptive restart, warm start ``w0``); every few
    hundred iterations the support and signs are *polished* (the KKT linear system on the
    support) and the candidate is accepted as soon as it satisfies all KKT conditions to
    ``tol`` (relative), so the result is the exact optimum up to rounding whenever the support
    is identified.  Returns ``(value, w, c, v)``, ``v = y - f`` the residual (the dual vector
    of Theorem 4.1).
    """
    Phi = np.asarray(Phi, float)
    y = np.asarray(y, float)
    n, k = Phi.shape
    s = np.ones(k) if weights is None else np.asarray(weights, float)
    if intercept:
        P, t = Phi - Phi.mean(axis=0), y - y.mean()
    else:
        P, t = Phi, y
    thr = beta * s

    def finish(w):
        f = Phi @ w
        c = float(np.mean(y - f)) if intercept else 0.0
        v = y - f - c
        return 0.5 * float(v @ v) + beta * float(np.sum(s * np.abs(w))), w, c, v

    if k == 0:
        return finish(np.zeros(0))
    scale = max(float(np.abs(P.T @ t).max()), beta * float(s.max()), 1e-300)

    def kkt_violation(w):
        g = P.T @ (t - P @ w)  # = beta s sign(w) on the support, |g| <= beta s elsewhere
        on = w != 0
        viol = np.where(on, np.abs(g - thr * np.sign(w)), np.maximum(np.abs(g) - thr, 0.0))
        return float(viol.max()) / scale

    def objective(w):
        r = t - P @ w
        return 0.5 * float(r @ r) + float(thr @ np.abs(w))

    def polish(w):
        """Best KKT-exact candidate from the supports {|w_j| > eps max|w|}, or None."""
        top = max(float(np.abs(w).max()), 1e-300)
        found, seen = None, set()
        for eps in (1e-12, 1e-9, 1e-6, 1e-4, 1e-2):
            S = np.flatnonzero(np.abs(w) > eps * top)
            if S.tobytes() in seen:
                continue
            seen.add(S.tobytes())
            cand = np.zeros(k)
            if S.size:
                sg = np.sign(w[S])
                PS = P[:, S]
                wS = np.linalg.lstsq(PS.T @ PS, PS.T @ t - thr[S] * sg, rcond=None)[0]
                if not np.all(np.sign(wS) == sg):
                    continue
                cand[S] = wS
            if kkt_violation(cand) <= tol:
                if found is None or objective(cand) < objective(found):
                    found = cand
        return found

    L = float(np.linalg.norm(P, 2) ** 2) or 1.0
    w = np.zeros(k) if w0 is None else np.asarray(w0, float).copy()
    z, tk, f_old = w.copy(), 1.0, objective(w)
    best = w.copy()
    for it in range(1, max_iter + 1):
        w_new = _soft(z - P.T @ (P @ z - t) / L, thr / L)
        f_new = objective(w_new)
        if f_new > f_old + 1e-15 * abs(f_old):  # adaptive restart (reject the step)
            z, tk = w.copy(), 1.0
        else:
            t_new = 0.5 * (1 + np.sqrt(1 + 4 * tk * tk))
            z = w_new + ((tk - 1) / t_new) * (w_new - w)
            w, tk, f_old = w_new, t_new, f_new
        if it % 100 == 0 or it == max_iter:
            cand = polish(w)
            if cand is not None:
                best = cand
                break
            best = w
    else:
        best = w
    if kkt_violation(w) < kkt_violation(best):
        best = w
    return finish(best)


def hinge_fixed(Phi, y, beta, weights=None, intercept=True):
    r"""``min sum_i (1 - y_i f_i)_+ + beta sum_j s_j |w_j|`` over ``w`` (and c) with fixed
    hidden neurons ``Phi`` (an LP); ``beta = 0`` is the hard-margin problem (``None`` if
    infeasible).  Returns ``(value, w, c)``."""
    Phi = np.asarray(Phi, float)
    y = np.asarray(y, float)
    n, k = Phi.shape
    s = np.ones(k) if weights is None else np.asarray(weights, float)
    nc = 1 if intercept else 0
    YP = y[:, None] * Phi
    if beta > 0:
        # variables [w+, w-, c, xi]
        cost = np.concatenate([beta * s, beta * s, np.zeros(nc), np.ones(n)])
        A_ub = np.hstack([-YP, YP] + ([-y[:, None]] if intercept else []) + [-np.eye(n)])
        bounds = [(0, None)] * (2 * k) + [(None, None)] * nc + [(0, None)] * n
    else:
        cost = np.concatenate([s, s, np.zeros(nc)])
        A_ub = np.hstack([-YP, YP] + ([-y[:, None]] if intercept else []))
        bounds = [(0, None)] * (2 * k) + [(None, None)] * nc
    res = _linprog()(cost, A_ub=A_ub, b_ub=-np.ones(n), bounds=bounds, method="highs")
    if res.status != 0:
        return None
    w = res.x[:k] - res.x[k:2 * k]
    c = float(res.x[2 * k]) if intercept else 0.0
    f = Phi @ w + c
    norm = float(np.sum(s * np.abs(w)))
    if beta > 0:
        return float(np.sum(np.maximum(0.0, 1.0 - y * f))) + beta * norm, w, c
    return norm, w, c


# ------------------------------------------------------------------------ gradient descent
def train_gd_safe(X, y, m, beta, init_std, lr, n_iter, loss="squared", random_state=0,
                  max_halvings=6):
    """:func:`fastconvexrelu.train_gd`, retried with half the step size when it diverges.

    Returns ``(GDResult, lr_used)``.
    """
    from ..gradient_descent import train_gd
    from .._validation import ConvergenceWarning

    res = None
    for _ in range(max_halvings + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            res = train_gd(X, y, m=m, beta=beta, init_std=init_std, lr=lr, n_iter=n_iter,
                           loss=loss, random_state=random_state)
        if res.n_iter == n_iter:
            return res, lr
        lr *= 0.5
    return res, lr


# ------------------------------------------------------------------- function diagnostics
def spline_deviation(predict, x, y, n_grid=801):
    """``max |f(t) - s(t)|`` on ``[min x, max x]``, ``s`` the linear spline interpolant."""
    order = np.argsort(x)
    xs, ys = np.asarray(x, float)[order], np.asarray(y, float)[order]
    grid = np.linspace(xs[0], xs[-1], n_grid)
    return float(np.max(np.abs(predict(grid) - np.interp(grid, xs, ys))))


def chord_deviation(predict, x, n_per_interval=60):
    """``max_i max_{t in [x_i, x_{i+1}]} |f(t) - chord_i(t)|``: zero iff ``f`` is linear
    between consecutive samples (all kinks at samples, the structure of Lemma 2.6)."""
    xs = np.unique(np.asarray(x, float))
    worst = 0.0
    fx = predict(xs)
    for i in range(xs.size - 1):
        t = np.linspace(xs[i], xs[i + 1], n_per_interval)
        chord = fx[i] + (fx[i + 1] - fx[i]) * (t - xs[i]) / (xs[i + 1] - xs[i])
        worst = max(worst, float(np.max(np.abs(predict(t) - chord))))
    return worst
