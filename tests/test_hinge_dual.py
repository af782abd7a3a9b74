"""Dual certificate of the hinge loss in the arrangement program (solver="arrangements").

On (nearly) separable data the multiplier of the hinge split (the gradient of the hinge's
Moreau envelope) is 0 at every margin above 1, so the dual point built from it alone collapsed
to 0 and the reported gap stayed equal to the primal.  The solver now also certifies dual
candidates fitted to the stationarity of the support blocks (and the subgradient at F), keeps
the best dual value of all outer iterations, scales hinge candidates up as well as down, and
stops ("stalled") when the gap no longer decreases.  Every reported gap must remain a true
bound: checked here against the optimum of the same program from CVXPY+Clarabel, and the
returned dual point is checked for feasibility with independent per-pattern SOCPs.
"""

import warnings

import cvxpy as cp
import numpy as np
import pytest

from fastconvexrelu.arrangement import sample_patterns
from fastconvexrelu._validation import ConvergenceWarning
from fastconvexrelu.arrangement_program import solve_arrangement_program


def _low_dim(separable, n=60, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(np.abs(X[:, 0]) - 0.8 + 0.5 * X[:, 1] > 0, 1.0, -1.0)
    if not separable:
        y[rng.random(n) < 0.1] *= -1
    return X, y


def _high_dim(n=40, d=60, seed=0):
    # d > n: separable by the patterns, the hinge optimum has loss ~0 and a tiny dual (~beta)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.where(X[:, 0] * X[:, 1] + 0.3 * X[:, 2] > 0, 1.0, -1.0)
    return X, y


def _problem(kind):
    if kind == "separable":
        X, y = _low_dim(True)
        beta = 0.1
    elif kind == "nonseparable":
        X, y = _low_dim(False)
        beta = 0.3
    else:
        X, y = _high_dim()
        beta = 1e-3
    D = sample_patterns(X, 20, bias=True, random_state=0).patterns.astype(float)
    return X, y, D, beta


def _cvx_optimum(X, y, D, beta):
    """The same restricted program (bias, free intercept) in CVXPY, solved by Clarabel."""
    n, d = X.shape
    Xt = np.hstack([X, np.ones((n, 1))])
    P = D.shape[1]
    V, W, c = cp.Variable((d + 1, P)), cp.Variable((d + 1, P)), cp.Variable()
    F = cp.sum(cp.multiply(D, Xt @ (V - W)), axis=1) + c
    S = 2 * D - 1
    obj = cp.sum(cp.pos(1 - cp.multiply(y, F))) + beta * (
        cp.sum(cp.norm(V[:d], axis=0)) + cp.sum(cp.norm(W[:d], axis=0)))
    prob = cp.Problem(cp.Minimize(obj), [cp.multiply(S, Xt @ V) >= 0, cp.multiply(S, Xt @ W) >= 0])
    prob.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    return float(prob.value)


def _dual_constraint_max(X, lam, D):
    """max over patterns i and signs of max{ +-lam^T D_i Xt v : (2D_i - I) Xt v >= 0,
    ||v[:d]|| <= 1 } by one small SOCP each (independent of the C++ cone projections)."""
    n, d = X.shape
    Xt = np.hstack([X, np.ones((n, 1))])
    worst = 0.0
    for i in range(D.shape[1]):
        g = Xt.T @ (D[:, i] * lam)
        for s in (1.0, -1.0):
            v = cp.Variable(d + 1)
            prob = cp.Problem(cp.Maximize(s * g @ v),
                              [cp.multiply(2 * D[:, i] - 1, Xt @ v) >= 0, cp.norm(v[:d]) <= 1])
            prob.solve(solver="CLARABEL")
            assert prob.status in ("optimal", "optimal_inaccurate"), prob.status
            worst = max(worst, float(prob.value))
    return worst


def _solve(X, y, D, beta, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return solve_arrangement_program(X, y, D, loss="hinge", beta=beta, **kw)


@pytest.mark.parametrize("kind", ["separable", "nonseparable", "high_dim_separable"])
def test_restricted_gap_is_a_true_bound(kind):
    X, y, D, beta = _problem(kind)
    Jstar = _cvx_optimum(X, y, D, beta)
    res = _solve(X, y, D, beta, tol=1e-4, max_iter=20000)
    slack = 1e-7 * (1.0 + abs(Jstar))
    assert res.objective >= Jstar - slack  # a feasible network
    assert np.isfinite(res.dual_objective)
    assert res.dual_objective <= Jstar + slack  # weak duality
    assert res.restricted_gap >= res.objective - Jstar - slack
    # the certificate is not trivial: within 50% of the optimum (measured: <= 8%)
    assert res.dual_objective >= 0.5 * Jstar


@pytest.mark.parametrize("kind", ["separable", "high_dim_separable"])
def test_returned_dual_point_is_feasible(kind):
    """The dual point itself: lam = -y a with a in [0, 1], 1^T lam = 0 (intercept), every
    pattern's dual constraint <= beta (independent SOCPs), and -L^*(lam) = sum a equals the
    reported dual objective."""
    X, y, D, beta = _problem(kind)
    res = _solve(X, y, D, beta, tol=1e-4, max_iter=20000)
    lam = np.asarray(res.dual, dtype=float)
    a = -y * lam
    assert a.min() >= -1e-12 and a.max() <= 1.0 + 1e-12
    assert abs(lam.sum()) <= 1e-9 * (1.0 + np.abs(lam).sum())
    assert np.sum(a) == pytest.approx(res.dual_objective, rel=1e-9, abs=1e-15)
    assert _dual_constraint_max(X, lam, D) <= beta * (1.0 + 1e-6)


def test_dual_does_not_collapse_on_separable_data():
    """High-dimensional separable data (loss ~0 at the optimum): the hinge multiplier alone gave
    the dual value 0 (gap = primal); the stationarity candidate gives a dual within a few percent
    of the optimum."""
    X, y, D, beta = _problem("high_dim_separable")
    Jstar = _cvx_optimum(X, y, D, beta)
    res = _solve(X, y, D, beta, tol=1e-4, max_iter=6000)
    assert res.dual_objective >= 0.9 * Jstar
    # (before: restricted_gap == objective); what is left is the primal's own error
    assert res.restricted_gap <= 0.5 * res.objective


def test_stalled_run_stops_early_and_warns():
    """The low-dimensional separable problem with a small beta: first-order progress on the
    primal is too slow to reach tol = 1e-8; the solver stops when the gap has stopped
    decreasing instead of running to max_iter, reports converged = False and warns."""
    X, y = _low_dim(True, n=100, d=5)
    D = sample_patterns(X, 30, bias=True, random_state=0).patterns.astype(float)
    with pytest.warns(ConvergenceWarning, match="stalled"):
        res = solve_arrangement_program(X, y, D, loss="hinge", beta=1e-3, tol=1e-8, max_iter=200000)
    assert not res.converged
    assert res.n_iter < 200000
    assert np.isfinite(res.restricted_gap) and res.restricted_gap > 0


def test_loose_tolerance_converges():
    X, y, D, beta = _problem("nonseparable")
    Jstar = _cvx_optimum(X, y, D, beta)
    res = _solve(X, y, D, beta, tol=1e-2, max_iter=50000)
    assert res.converged
    assert res.restricted_gap <= 1e-2 * res.objective * (1 + 1e-9) + 1e-12
    assert res.objective - Jstar <= res.restricted_gap + 1e-7
