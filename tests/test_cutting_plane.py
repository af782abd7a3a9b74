"""Cutting-plane training (Algorithm 1, Section 3.5) and its master problem.

References are independent of the library: for d = 2 the activation patterns
D = diag(1[X u > 0]) are enumerated by sorting angles, and the exact convex program

    min  L(sum_D D X (v_D - w_D), y) + beta sum_D (||v_D|| + ||w_D||)
    s.t. (2D - I) X v_D >= 0,  (2D - I) X w_D >= 0

(beta = 0: min sum_D (||v_D|| + ||w_D||) s.t. sum_D D X (v_D - w_D) = y) is solved by
CVXPY + Clarabel.  Its value is the global optimum over bias-free networks of any width.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from fastconvexrelu import (
    ConvexReLUClassifier,
    ConvexReLURegressor,
    _core,
    closed_form_network,
    network_objective,
    whiten,
)
from fastconvexrelu._validation import ConvergenceWarning
from fastconvexrelu.cutting_plane import cutting_plane

cp = pytest.importorskip("cvxpy")


# --------------------------------------------------------------------------- references
def patterns_2d(X):
    """All nonzero activation patterns 1[X u > 0] of 2-D data (open arcs between the
    critical angles; their closures cover the boundary patterns)."""
    ang = np.arctan2(X[:, 1], X[:, 0])
    crit = np.unique(np.round(np.concatenate([ang + np.pi / 2, ang - np.pi / 2]) % (2 * np.pi), 13))
    widths = np.diff(np.concatenate([crit, [crit[0] + 2 * np.pi]]))
    pats = set()
    for t in crit + widths / 2:
        pats.add(tuple((X @ np.array([np.cos(t), np.sin(t)]) > 0).astype(int)))
    return [np.array(p, float) for p in sorted(pats) if any(p)]


def reference_2d(X, y, beta, loss="squared"):
    n, d = X.shape
    assert d == 2
    pats = patterns_2d(X)
    V = [cp.Variable(d) for _ in pats]
    W = [cp.Variable(d) for _ in pats]
    f = sum(cp.multiply(D, X @ (v - w)) for D, v, w in zip(pats, V, W))
    cons = []
    for D, v, w in zip(pats, V, W):
        S = (2 * D - 1)[:, None] * X
        cons += [S @ v >= 0, S @ w >= 0]
    reg = sum(cp.norm(v) + cp.norm(w) for v, w in zip(V, W))
    if beta == 0:
        obj, cons = reg, cons + [f == y]
    elif loss == "squared":
        obj = 0.5 * cp.sum_squares(f - y) + beta * reg
    elif loss == "hinge":
        obj = cp.sum(cp.pos(1 - cp.multiply(y, f))) + beta * reg
    else:
        obj = cp.sum(cp.logistic(-cp.multiply(y, f))) + beta * reg
    prob = cp.Problem(cp.Minimize(obj), cons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10,
                   max_iter=500)
    assert prob.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE), prob.status
    return float(prob.value)


def rel(a, b):
    return abs(a - b) / max(1.0, abs(b))


def quiet_cp(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cutting_plane(*args, **kw)


def random_2d(rng, n, halfplane=False):
    X = rng.standard_normal((n, 2))
    if halfplane:  # all samples in a half-plane: the relaxation's cone {Xu >= 0} is not {0}
        X[:, 0] = np.abs(X[:, 0]) + 0.2
    return X


def huber_whitened(y, beta):
    """Global optimum for whitened data (XX^T = I): Q_X = unit ball cap R^n_+, so the problem
    is min_{a, b >= 0} 1/2||a - b - y||^2 + beta (||a|| + ||b||) = h(||y_+||) + h(||y_-||)."""
    out = 0.0
    for t in (np.linalg.norm(np.maximum(y, 0)), np.linalg.norm(np.maximum(-y, 0))):
        out += beta * t - beta**2 / 2 if t > beta else t**2 / 2
    return out


# --------------------------------------------------------------------------- master problem
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_master_matches_cvxpy(loss):
    rng = np.random.default_rng(0)
    for trial in range(4):
        n, m = 25, 30
        Phi = np.maximum(rng.standard_normal((n, m)), 0.0)
        Phi[:, 3] = Phi[:, 1]  # duplicate neuron
        Phi[:, 7] = 0.0  # dead neuron
        Phi[:, 9] = 2.0 * Phi[:, 2] - Phi[:, 4].clip(0)  # dependent column
        Phi = np.asfortranarray(Phi)
        y = rng.standard_normal(n)
        if loss == "logistic":
            y = np.where(y > 0, 1.0, -1.0)
        beta = [0.05, 0.3, 1.0, 3.0][trial]
        r = _core.lasso_master(Phi, y, loss, beta, 1e-10, 100000)
        w = cp.Variable(m)
        z = Phi @ w
        L = 0.5 * cp.sum_squares(z - y) if loss == "squared" else cp.sum(cp.logistic(-cp.multiply(y, z)))
        prob = cp.Problem(cp.Minimize(L + beta * cp.norm1(w)))
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
        assert r["converged"], r["message"]
        assert rel(r["primal"], prob.value) < 1e-7
        assert r["primal"] <= prob.value + 1e-8 * max(1, prob.value)
        # the certificate: restricted-feasible dual, gap = primal - dual >= 0, tiny
        assert np.max(np.abs(Phi.T @ r["dual"])) <= beta * (1 + 1e-12)
        assert 0 <= r["gap"] <= 1e-10 * r["primal"] * 1.0001
        assert r["dual_value"] <= prob.value + 1e-8 * max(1, prob.value)
        assert r["w"][7] == 0.0
        # primal value is recomputed from w
        f = Phi @ r["w"]
        L_w = 0.5 * np.sum((f - y) ** 2) if loss == "squared" else np.sum(np.logaddexp(0, -y * f))
        assert abs(r["primal"] - (L_w + beta * np.sum(np.abs(r["w"])))) < 1e-12 * max(1, L_w)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_master_intercept_matches_cvxpy(loss):
    """intercept=True: min_{w, c} L(Phi w + c) + beta ||w||_1 with c unpenalized; the dual
    point is zero-sum, restricted-feasible and in the domain of L^* (a weak-duality bound)."""
    rng = np.random.default_rng(10)
    for trial in range(4):
        n, m = 30, 12
        Phi = np.maximum(rng.standard_normal((n, m)) + 0.3, 0.0)
        Phi[:, 5] = Phi[:, 2]  # duplicate neuron
        Phi[:, 8] = 0.0  # dead neuron
        Phi = np.asfortranarray(Phi)
        y = rng.standard_normal(n) + 2.0  # far from centered: the intercept matters
        if loss == "logistic":
            y = np.where(y > 1.5, 1.0, -1.0)
        beta = [0.05, 0.3, 1.0, 3.0][trial]
        r = _core.lasso_master(Phi, y, loss, beta, 1e-11, 100000, intercept=True)
        w, c = cp.Variable(m), cp.Variable()
        z = Phi @ w + c
        L = 0.5 * cp.sum_squares(z - y) if loss == "squared" else cp.sum(cp.logistic(-cp.multiply(y, z)))
        prob = cp.Problem(cp.Minimize(L + beta * cp.norm1(w)))
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
        assert r["converged"], r["message"]
        assert rel(r["primal"], prob.value) < 1e-7
        assert r["primal"] <= prob.value + 1e-8 * max(1, prob.value)
        f = Phi @ r["w"] + r["intercept"]
        assert np.allclose(r["fitted"], f, rtol=0, atol=1e-12 * max(1, np.abs(f).max()))
        L_w = 0.5 * np.sum((f - y) ** 2) if loss == "squared" else np.sum(np.logaddexp(0, -y * f))
        assert abs(r["primal"] - (L_w + beta * np.sum(np.abs(r["w"])))) < 1e-12 * max(1, L_w)
        # the dual point: 1^T v = 0, ||Phi^T v||_inf <= beta, -y v in [0, 1] (logistic)
        v = r["dual"]
        assert abs(v.sum()) <= 1e-12 * max(1.0, np.abs(v).sum())
        assert np.max(np.abs(Phi.T @ v)) <= beta * (1 + 1e-12)
        if loss == "logistic":
            a = -y * v
            assert np.all((a >= 0) & (a <= 1))
            a_ = a[(a > 0) & (a < 1)]
            D = float(np.sum(-a_ * np.log(a_) - (1 - a_) * np.log1p(-a_)))
        else:
            D = float(-0.5 * v @ v - v @ y)
        assert D == pytest.approx(r["dual_value"], rel=1e-12, abs=1e-12)
        assert D <= prob.value + 1e-8 * max(1, prob.value)  # weak duality
        assert 0 <= r["gap"] <= 1e-11 * r["primal"] * 1.0001
        # without the intercept the optimum is strictly worse on these (shifted) targets
        r0 = _core.lasso_master(Phi, y, loss, beta, 1e-11, 100000)
        assert r0["primal"] > r["primal"] + 1e-3
        assert r0["intercept"] == 0.0
        # warm start at the solution: no sweep needed
        r2 = _core.lasso_master(Phi, y, loss, beta, 1e-11, 100000, r["w"], intercept=True,
                                c0=r["intercept"])
        assert r2["converged"] and r2["n_epochs"] == 0
        assert r2["primal"] == pytest.approx(r["primal"], rel=1e-12)
        # lasso_certificate of (w, c): the same primal, and a valid gap at a worse point
        cert = _core.lasso_certificate(Phi, y, loss, beta, r["w"], intercept=True,
                                       c=r["intercept"])
        assert cert["primal"] == pytest.approx(r["primal"], rel=1e-13)
        bad = _core.lasso_certificate(Phi, y, loss, beta, np.zeros(m), intercept=True, c=0.0)
        assert bad["gap"] >= bad["primal"] - prob.value - 1e-8 * max(1, prob.value)
        assert bad["primal"] - bad["gap"] <= prob.value + 1e-8 * max(1, prob.value)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_master_dependent_all_active_columns(loss):
    """Many all-active neurons (affine columns X u + b, linearly dependent with each other and
    with the intercept, and nearly collinear with 1) plus ReLU columns: the master converges
    and matches CVXPY."""
    rng = np.random.default_rng(12)
    n, d = 80, 3
    X = rng.standard_normal((n, d))
    U = rng.standard_normal((d, 40))
    U /= np.linalg.norm(U, axis=0)
    b = np.r_[np.full(20, 8.0), 0.3 * rng.standard_normal(20)]  # first 20: all active
    Phi = np.asfortranarray(np.maximum(X @ U + b, 0.0))
    assert np.all(Phi[:, :20] > 0)
    f0 = np.sin(2 * X[:, 0]) + X[:, 1]
    y = np.where(f0 + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0) if loss == "logistic" else f0
    beta = 0.05
    r = _core.lasso_master(Phi, y, loss, beta, 1e-10, 2000, intercept=True)
    assert r["converged"], r["message"]
    w, c = cp.Variable(40), cp.Variable()
    z = Phi @ w + c
    L = 0.5 * cp.sum_squares(z - y) if loss == "squared" else cp.sum(cp.logistic(-cp.multiply(y, z)))
    prob = cp.Problem(cp.Minimize(L + beta * cp.norm1(w)))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    assert r["primal"] <= prob.value + 1e-8 * max(1, prob.value)
    assert r["primal"] - r["gap"] <= prob.value + 1e-8 * max(1, prob.value)
    assert rel(r["primal"], prob.value) < 1e-7


def test_master_intercept_empty_model():
    """No columns: the optimal constant (squared: mean(y); logistic: log(n+/n-))."""
    y = np.array([1.0, 1.0, 1.0, -1.0, 1.0, -1.0, 1.0])
    Phi = np.zeros((7, 0), order="F")
    r = _core.lasso_master(Phi, y, "logistic", 0.1, 1e-12, 1000, intercept=True)
    assert r["converged"] and r["intercept"] == pytest.approx(np.log(5 / 2), rel=1e-10)
    r = _core.lasso_master(Phi, y, "squared", 0.1, 1e-12, 1000, intercept=True)
    assert r["converged"] and r["intercept"] == pytest.approx(y.mean(), rel=1e-12)


def test_master_dual_formula_squared():
    """D(v) = -1/2||v||^2 - v^T y with v = s (Phi w - y); strong duality at the optimum."""
    rng = np.random.default_rng(1)
    Phi = np.asfortranarray(np.abs(rng.standard_normal((15, 8))))
    y = rng.standard_normal(15)
    beta = 0.4
    r = _core.lasso_master(Phi, y, "squared", beta, 1e-12, 100000)
    v = r["dual"]
    assert np.allclose(r["grad"], r["fitted"] - y, atol=1e-14)
    assert np.allclose(v, r["scale"] * (Phi @ r["w"] - y))
    D = -0.5 * v @ v - v @ y
    assert abs(D - r["dual_value"]) < 1e-12 * max(1, abs(D))
    assert abs(r["primal"] - D) <= 1e-11 * r["primal"]
    # any restricted-feasible v gives a lower bound (weak duality): scaled random directions
    for _ in range(20):
        u = rng.standard_normal(15)
        u *= beta / np.max(np.abs(Phi.T @ u))
        assert -0.5 * u @ u - u @ y <= r["primal"] + 1e-12
    # lasso_certificate evaluates the gap of any w: zero weights give gap = P(0) - D
    c = _core.lasso_certificate(Phi, y, "squared", beta, np.zeros(8))
    assert c["primal"] == pytest.approx(0.5 * y @ y)
    assert c["gap"] == pytest.approx(c["primal"] - c["dual_value"], abs=1e-12)
    assert c["gap"] >= r["primal"] - r["primal"] * 1e-12 - c["dual_value"] - 1e-12


def test_master_warm_start_and_empty():
    rng = np.random.default_rng(2)
    Phi = np.asfortranarray(np.abs(rng.standard_normal((20, 10))))
    y = rng.standard_normal(20)
    r1 = _core.lasso_master(Phi, y, "squared", 0.2, 1e-10, 100000)
    r2 = _core.lasso_master(Phi, y, "squared", 0.2, 1e-10, 100000, r1["w"])
    assert r2["converged"] and r2["n_epochs"] == 0
    assert r2["primal"] == pytest.approx(r1["primal"], rel=1e-12)
    r0 = _core.lasso_master(np.zeros((20, 0), order="F"), y, "squared", 0.2)
    assert r0["w"].shape == (0,) and r0["gap"] == pytest.approx(0.0, abs=1e-12)
    assert r0["primal"] == pytest.approx(0.5 * y @ y)


def test_master_bad_input():
    Phi = np.asfortranarray(np.ones((4, 2)))
    y = np.ones(4)
    with pytest.raises(ValueError, match="beta"):
        _core.lasso_master(Phi, y, "squared", 0.0)
    with pytest.raises(ValueError, match="hinge"):
        _core.lasso_master(Phi, y, "hinge", 0.1)
    with pytest.raises(ValueError, match="rows"):
        _core.lasso_master(Phi, np.ones(3), "squared", 0.1)
    with pytest.raises(ValueError, match="finite"):
        _core.lasso_master(Phi, np.array([1.0, np.nan, 1.0, 1.0]), "squared", 0.1)
    with pytest.raises(ValueError, match="-1 or \\+1"):
        _core.lasso_master(Phi, np.array([1.0, 0.5, 1.0, -1.0]), "logistic", 0.1)
    with pytest.raises(ValueError, match="w0"):
        _core.lasso_master(Phi, y, "squared", 0.1, 1e-10, 100, np.ones(3))


# ------------------------------------------------------------------ whitened data (n <= d)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_whitened_min_norm_interpolation_closed_form(seed):
    rng = np.random.default_rng(seed)
    n, d = [(5, 8), (8, 12), (10, 10)][seed]
    X = whiten(rng.standard_normal((n, d)))
    y = rng.standard_normal(n)
    y[0], y[1] = abs(y[0]) + 0.1, -abs(y[1]) - 0.1  # both signs (Lemma 3.1)
    r = cutting_plane(X, y, beta=0.0)
    Ap = np.linalg.pinv(X)
    J_lemma = np.linalg.norm(Ap @ np.maximum(y, 0)) + np.linalg.norm(Ap @ np.maximum(-y, 0))
    cf = closed_form_network(X, y)
    assert r.converged and r.n_iter <= 3
    assert rel(r.objective, J_lemma) < 1e-6
    assert rel(r.objective, cf.objective) < 1e-6
    assert np.isfinite(r.duality_gap) and r.duality_gap <= 1e-6 * r.objective
    assert "whitened" in r.certificate
    # the network interpolates, J is network_objective of the returned network
    assert np.allclose(r.predict(X), y, atol=1e-8)
    assert r.objective == network_objective(X, y, r.hidden_weights, None, r.output_weights,
                                            None, 0.0, "squared")
    # dual: lambda^T y / max|lambda^T (Xu)_+| with the relaxation exact
    assert r.dual_value == pytest.approx(r.dual_coef @ y, rel=1e-12)
    assert r.dual_value <= J_lemma * (1 + 1e-9)


@pytest.mark.parametrize("beta", [1e-3, 0.1, 0.7])
def test_whitened_regularized_matches_huber_formula(beta):
    rng = np.random.default_rng(7)
    X = whiten(rng.standard_normal((9, 15)))
    y = rng.standard_normal(9)
    r = cutting_plane(X, y, beta=beta)
    J_star = huber_whitened(y, beta)
    assert r.converged
    assert rel(r.objective, J_star) < 1e-8
    assert np.isfinite(r.duality_gap) and r.duality_gap <= 1e-7 * max(1, J_star)
    assert r.objective - r.duality_gap <= J_star + 1e-12  # the dual value is a lower bound
    # dual sign convention: v = s (f - y), D = -1/2||v||^2 - v^T y
    f = r.predict(X)
    v = r.dual_coef
    assert np.allclose(v / np.linalg.norm(v), (f - y) / np.linalg.norm(f - y), atol=1e-9)
    assert r.dual_value == pytest.approx(-0.5 * v @ v - v @ y, rel=1e-12, abs=1e-14)


# -------------------------------------------------------------- d = 2 against the reference
def test_squared_d2_matches_global_optimum():
    rng = np.random.default_rng(11)
    for trial in range(6):
        n = int(rng.integers(3, 13))
        X = random_2d(rng, n, halfplane=trial % 2 == 1)
        y = rng.standard_normal(n)
        beta = [0.01, 0.1, 0.5][trial % 3]
        J_ref = reference_2d(X, y, beta)
        r = quiet_cp(X, y, beta=beta, oracle="auto", max_iter=300)
        assert r.converged
        assert rel(r.objective, J_ref) < 1e-6, (trial, r.objective, J_ref)
        assert np.isfinite(r.duality_gap)
        assert r.duality_gap >= r.objective - J_ref - 1e-9 * max(1, J_ref)
        assert r.duality_gap <= 1e-6 * max(1, J_ref)
        # the estimator (oracle="auto") gives the same network objective
        est = ConvexReLURegressor(solver="cutting_plane", bias=False, beta=beta, max_iter=300)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        assert rel(est.objective_, J_ref) < 1e-6


def test_relaxation_on_non_spike_free_data_never_certifies_falsely():
    """The spike-free relaxation alone does not reach the optimum on these data; the gap is a
    true bound (exact enumeration) or inf (no check allowed), never a false certificate."""
    rng = np.random.default_rng(12)
    seen_suboptimal = 0
    for trial in range(6):
        n = int(rng.integers(5, 11))
        X = random_2d(rng, n, halfplane=trial % 2 == 0)
        y = rng.standard_normal(n)
        beta = 0.05
        J_ref = reference_2d(X, y, beta)
        r = quiet_cp(X, y, beta=beta, oracle="relaxation", max_iter=300)
        assert r.objective >= J_ref - 1e-7 * max(1, J_ref)
        assert np.isfinite(r.duality_gap)  # d = 2: exact enumeration available
        assert r.duality_gap >= r.objective - J_ref - 1e-9 * max(1, J_ref)
        assert "exact enumeration" in r.certificate
        r_nocheck = quiet_cp(X, y, beta=beta, oracle="relaxation", max_iter=300,
                             exact_check=False)
        assert r_nocheck.duality_gap == np.inf  # n > d, not full row rank: nothing to certify
        assert np.isfinite(r_nocheck.relaxation_gap)
        assert r_nocheck.objective == pytest.approx(r.objective, rel=1e-9)
        if r.objective > J_ref + 1e-4 * max(1, J_ref):
            seen_suboptimal += 1
            assert r.duality_gap >= 1e-4 * max(1, J_ref)
            # the relaxation's own gap is small: it would be a false certificate
            assert r_nocheck.relaxation_gap < r.objective - J_ref
    assert seen_suboptimal >= 3


def test_full_row_rank_condition_number_bound_is_true():
    """n <= d, not whitened, exact enumeration disabled: the gap uses M <= rho M_rel."""
    rng = np.random.default_rng(13)
    for trial in range(8):
        X = rng.standard_normal((2, 2))
        X[1] = X[0] + 0.6 * rng.standard_normal(2)  # correlated rows: not spike-free in general
        y = rng.standard_normal(2)
        for beta in (0.0, 0.2):
            J_ref = reference_2d(X, y, beta)
            r = quiet_cp(X, y, beta=beta, oracle="relaxation", exact_check=False)
            assert np.isfinite(r.duality_gap)
            assert "rho" in r.certificate or "condition number" in r.certificate
            assert r.duality_gap >= r.objective - J_ref - 1e-9 * max(1, J_ref)
            assert r.objective >= J_ref - 1e-7 * max(1, J_ref)


def test_min_norm_interpolation_d2():
    rng = np.random.default_rng(14)
    for trial in range(4):
        n = int(rng.integers(3, 9))
        X = random_2d(rng, n, halfplane=trial % 2 == 0)
        y = rng.standard_normal(n)
        J_ref = reference_2d(X, y, 0.0)
        r = quiet_cp(X, y, beta=0.0, oracle="auto", max_iter=300)
        assert r.converged
        assert rel(r.objective, J_ref) < 1e-6
        assert np.allclose(r.predict(X), y, atol=1e-7 * max(1, np.abs(y).max()))
        assert r.duality_gap >= r.objective - J_ref - 1e-9 * max(1, J_ref)
        assert r.duality_gap <= 1e-6 * max(1, J_ref)


@pytest.mark.parametrize("loss", ["hinge", "logistic"])
def test_classification_losses_d2(loss):
    rng = np.random.default_rng(15 if loss == "hinge" else 16)
    for trial in range(4):
        n = int(rng.integers(4, 11))
        X = random_2d(rng, n, halfplane=trial % 2 == 0)
        y = np.where(rng.standard_normal(n) > 0, 1.0, -1.0)
        y[0], y[1] = 1.0, -1.0
        beta = [0.1, 0.5][trial % 2]
        J_ref = reference_2d(X, y, beta, loss)
        r = quiet_cp(X, y, loss=loss, beta=beta, oracle="auto", max_iter=300)
        assert r.converged
        assert rel(r.objective, J_ref) < 1e-6
        assert r.duality_gap >= r.objective - J_ref - 1e-9 * max(1, J_ref)
        assert r.duality_gap <= 1e-6 * max(1, J_ref)
        # dual point in the domain of -L^*: a = -y v in [0, 1]
        a = -y * r.dual_coef
        assert a.min() >= -1e-12 and a.max() <= 1 + 1e-12
        est = ConvexReLUClassifier(solver="cutting_plane", bias=False, beta=beta, loss=loss,
                                   max_iter=300)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, np.where(y > 0, "b", "a"))
        assert rel(est.objective_, J_ref) < 1e-6
        assert list(est.classes_) == ["a", "b"]


def test_every_finite_gap_is_a_true_bound():
    rng = np.random.default_rng(17)
    checked = 0
    for trial in range(16):
        loss = ["squared", "squared", "hinge", "logistic"][trial % 4]
        n = int(rng.integers(3, 10))
        X = random_2d(rng, n, halfplane=rng.random() < 0.5)
        y = rng.standard_normal(n)
        if loss != "squared":
            y = np.where(y > 0, 1.0, -1.0)
        beta = float(rng.choice([0.02, 0.2, 1.0]))
        J_ref = reference_2d(X, y, beta, loss)
        for oracle, max_iter in (("relaxation", 50), ("auto", 3), ("auto", 300)):
            r = quiet_cp(X, y, loss=loss, beta=beta, oracle=oracle, max_iter=max_iter)
            assert r.objective >= J_ref - 1e-7 * max(1, J_ref)
            if np.isfinite(r.duality_gap):
                checked += 1
                assert r.duality_gap >= r.objective - J_ref - 1e-9 * max(1, J_ref), (
                    trial, oracle, max_iter, r.duality_gap, r.objective - J_ref)
                assert r.dual_value <= J_ref + 1e-9 * max(1, J_ref)
    assert checked >= 40


# ------------------------------------------------------------------------ estimator API
def test_estimator_attributes_and_predict():
    rng = np.random.default_rng(18)
    X = rng.standard_normal((10, 2))
    y = rng.standard_normal(10)
    est = ConvexReLURegressor(solver="cutting_plane", bias=False, beta=0.1).fit(X, y)
    m = est.output_weights_.shape[0]
    assert est.hidden_weights_.shape == (2, m)
    assert np.allclose(np.linalg.norm(est.hidden_weights_, axis=0), 1.0)
    assert np.all(est.hidden_bias_ == 0) and est.hidden_bias_.shape == (m,)
    assert est.intercept_ == 0.0
    assert est.solver_ == "cutting_plane"
    assert est.converged_ and est.n_iter_ >= 1
    assert est.dual_coef_.shape == (10,)
    assert np.isfinite(est.duality_gap_) and np.isfinite(est.relaxation_gap_)
    assert est.n_active_ == m
    f = np.maximum(X @ est.hidden_weights_, 0) @ est.output_weights_
    assert np.allclose(est.predict(X), f)
    assert est.objective_ == pytest.approx(
        network_objective(X, y, est.hidden_weights_, None, est.output_weights_, None, 0.1,
                          "squared"), rel=1e-14)


def test_verbose_prints_rounds(capsys):
    rng = np.random.default_rng(19)
    X = rng.standard_normal((6, 2))
    y = rng.standard_normal(6)
    r = cutting_plane(X, y, beta=0.1, oracle="auto", verbose=True)
    out = capsys.readouterr().out
    assert out.count("[cutting_plane] round") == r.n_iter
    assert "duality gap" in out


def test_max_iter_reports_not_converged():
    rng = np.random.default_rng(20)
    X = rng.standard_normal((8, 2))
    y = rng.standard_normal(8)
    with pytest.warns(ConvergenceWarning):
        r = cutting_plane(X, y, beta=0.05, oracle="auto", max_iter=2)
    assert not r.converged and r.status == "max_iter" and r.n_iter == 2


# ------------------------------------------------------------------------------ bad input
def test_bias_true_bad_input_is_rejected():
    X = np.random.default_rng(0).standard_normal((6, 2))
    y = np.arange(6.0)
    with pytest.raises(ValueError, match="beta"):
        cutting_plane(X, y, beta=0.0, bias=True)
    with pytest.raises(ValueError, match="bias"):
        cutting_plane(X, y, bias="yes")
    lab = np.where(y > 2, 1.0, -1.0)
    for loss in ("logistic", "hinge"):
        with pytest.raises(ValueError, match="labels y in"):
            cutting_plane(X, np.where(y > 2, 1.0, 0.0), loss=loss, bias=True)  # {0, 1}
        with pytest.raises(ValueError, match="labels y in"):
            cutting_plane(X, y, loss=loss, bias=True)
    with pytest.raises(ValueError, match="beta"):
        cutting_plane(X, lab, loss="logistic", beta=0.0, bias=True)
    # one class: the logistic intercept diverges (no minimizer); the hinge has c = +-1
    with pytest.raises(ValueError, match="both classes"):
        cutting_plane(X, np.ones(6), loss="logistic", bias=True)
    r = cutting_plane(X, -np.ones(6), loss="hinge", beta=0.1, bias=True)
    assert r.objective == pytest.approx(0.0, abs=1e-12) and r.intercept <= -1 + 1e-12
    # the C++ master re-checks
    with pytest.raises(ValueError, match="both classes"):
        _core.lasso_master(np.ones((6, 2), order="F"), np.ones(6), "logistic", 0.1,
                           intercept=True)
    with pytest.raises(ValueError, match="c0"):
        _core.lasso_master(np.ones((6, 2), order="F"), lab, "logistic", 0.1, intercept=True,
                           c0=np.nan)


def test_nan_and_bad_parameters_are_rejected():
    X = np.random.default_rng(0).standard_normal((6, 2))
    y = np.arange(6.0)
    Xn = X.copy()
    Xn[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cutting_plane(Xn, y)
    with pytest.raises(ValueError, match="NaN"):
        ConvexReLURegressor(solver="cutting_plane", bias=False).fit(Xn, y)
    yn = y.copy()
    yn[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cutting_plane(X, yn)
    with pytest.raises(ValueError, match="beta"):
        cutting_plane(X, y, beta=-1.0)
    with pytest.raises(ValueError, match="oracle"):
        cutting_plane(X, y, oracle="magic")
    with pytest.raises(ValueError, match="labels"):
        cutting_plane(X, y, loss="hinge")
    with pytest.raises(ValueError, match="beta = 0"):
        cutting_plane(X, np.sign(y - 2.5), loss="hinge", beta=0.0)
    with pytest.raises(ValueError, match="logistic"):
        cutting_plane(X, np.sign(y - 2.5), loss="logistic", beta=0.0)
    with pytest.raises(ValueError, match="solver"):
        ConvexReLURegressor(solver="cutting-plane", bias=False).fit(X, y)


def test_beta0_infeasible_interpolation_says_so():
    # x_2 = 2 x_1 forces f(x_2) = 2 f(x_1) for every bias-free ReLU network
    X = np.array([[1.0, 0.5], [2.0, 1.0], [-0.3, 1.0], [0.2, -1.0]])
    y = np.array([1.0, 1.0, 0.5, -0.5])
    with pytest.raises(ValueError, match="infeasible.*proven"):
        cutting_plane(X, y, beta=0.0, oracle="auto")
    with pytest.raises(ValueError, match="infeasible"):
        ConvexReLURegressor(solver="cutting_plane", bias=False, beta=0.0).fit(X, y)
    # a sample at the origin can only be fitted with f = 0
    with pytest.raises(ValueError, match="infeasible"):
        cutting_plane(np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([1.0, 2.0]), beta=0.0)


def test_beta0_relaxation_failure_is_not_called_infeasible():
    rng = np.random.default_rng(21)
    X = rng.standard_normal((6, 2))  # the relaxation's cone {Xu >= 0} is {0}
    y = rng.standard_normal(6)
    with pytest.raises(ValueError, match="not shown infeasible"):
        cutting_plane(X, y, beta=0.0, oracle="relaxation")
    r = cutting_plane(X, y, beta=0.0, oracle="auto")  # feasible after all
    assert np.allclose(r.predict(X), y, atol=1e-7)


def test_zero_target():
    X = np.random.default_rng(0).standard_normal((5, 3))
    r = cutting_plane(X, np.zeros(5), beta=0.1)
    assert r.objective == 0.0 and r.output_weights.size == 0 and r.duality_gap == 0.0
    r0 = cutting_plane(X, np.zeros(5), beta=0.0)
    assert r0.objective == 0.0 and r0.duality_gap == 0.0


# ------------------------------------------------------------------- master, python level
@pytest.mark.parametrize("loss,beta", [("squared", 0.0), ("squared", 0.3), ("hinge", 0.2),
                                       ("logistic", 0.2)])
def test_solve_master_matches_cvxpy(loss, beta):
    from fastconvexrelu.cutting_plane import solve_master

    rng = np.random.default_rng(3)
    n, m = 12, 20
    Phi = np.maximum(rng.standard_normal((n, m)), 0.0)
    y = rng.standard_normal(n)
    if loss != "squared":
        y = np.where(y > 0, 1.0, -1.0)
    r = solve_master(Phi, y, loss=loss, beta=beta)
    w = cp.Variable(m)
    z = Phi @ w
    if beta == 0:
        prob = cp.Problem(cp.Minimize(cp.norm1(w)), [z == y])
    else:
        L = {"squared": 0.5 * cp.sum_squares(z - y),
             "hinge": cp.sum(cp.pos(1 - cp.multiply(y, z))),
             "logistic": cp.sum(cp.logistic(-cp.multiply(y, z)))}[loss]
        prob = cp.Problem(cp.Minimize(L + beta * cp.norm1(w)))
    prob.solve(solver=cp.CLARABEL)
    assert rel(r.primal, prob.value) < 1e-7
    assert np.max(np.abs(Phi.T @ r.dual)) <= (beta if beta > 0 else 1.0) * (1 + 1e-9)
    assert r.dual_value <= prob.value + 1e-7 * max(1, prob.value)
    assert 0 <= r.gap <= 1e-7 * max(1, r.primal)
    if beta == 0:
        assert np.allclose(Phi @ r.w, y, atol=1e-9)


def test_solve_master_beta0_infeasible():
    from fastconvexrelu.cutting_plane import solve_master

    Phi = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="infeasible"):
        solve_master(Phi, np.array([1.0, 1.0, 1.0]), beta=0.0)
    r = solve_master(Phi, np.array([1.0, 2.0, -3.0]), beta=0.0)
    assert r.primal == pytest.approx(4.0) and r.gap <= 1e-9


# =========================================================================================
# Algorithm 3 (bias=True): pattern oracle, exact certificates
# =========================================================================================
from reference import brute_force_patterns_lp, solve_arrangement_reference  # noqa: E402

from fastconvexrelu.arrangement import enumerate_patterns  # noqa: E402


def _bias_problem(seed, n, loss, d=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(2 * X @ rng.standard_normal(d)) + 0.2 * rng.standard_normal(n)
    if loss != "squared":
        y = np.where(y > np.median(y), 1.0, -1.0)
    return X, y


@pytest.mark.parametrize(
    "seed,n,loss,beta",
    [(0, 7, "squared", 0.05), (1, 8, "squared", 0.5), (2, 8, "hinge", 0.2), (3, 12, "squared", 0.1),
     (4, 12, "hinge", 0.05), (5, 8, "logistic", 0.1), (6, 12, "logistic", 0.03),
     (7, 10, "logistic", 0.5)],
)
def test_bias_matches_brute_force_arrangement_program(seed, n, loss, beta):
    X, y = _bias_problem(seed, n, loss)
    # patterns: LP brute force over all 2^n sign vectors for n <= 8, else the enumeration
    # (itself checked against the LP brute force in test_arrangement.py)
    P = brute_force_patterns_lp(X, True) if n <= 8 else enumerate_patterns(X).patterns
    ref = solve_arrangement_reference(X, y, loss, beta, bias=True, patterns=P)
    r = cutting_plane(X, y, loss=loss, beta=beta, bias=True)
    assert r.converged
    J = network_objective(X, y, r.hidden_weights, r.hidden_bias, r.output_weights, r.intercept,
                          beta, loss)
    assert J == pytest.approx(r.objective, rel=1e-12)
    assert np.isfinite(r.duality_gap) and r.n_patterns > 0
    assert r.objective <= ref + 1e-6 * max(1.0, ref)
    assert r.objective - r.duality_gap <= ref + 1e-6 * max(1.0, ref)  # a true bound
    assert r.duality_gap <= 1e-6 * max(1.0, ref)
    assert np.allclose(r.predict(X), np.maximum(X @ r.hidden_weights + r.hidden_bias, 0)
                       @ r.output_weights + r.intercept)


@pytest.mark.parametrize("loss", ["squared", "hinge"])
def test_bias_false_still_matches_reference_through_arrangement_program(loss):
    X, y = _bias_problem(5, 8, loss)
    ref = solve_arrangement_reference(X, y, loss, 0.1, bias=False,
                                      patterns=brute_force_patterns_lp(X, False))
    r = cutting_plane(X, y, loss=loss, beta=0.1, oracle="auto")
    assert r.objective == pytest.approx(ref, rel=1e-6, abs=1e-7)
    assert np.isfinite(r.duality_gap) and r.objective - r.duality_gap <= ref + 1e-7


@pytest.mark.parametrize("kind", ["1d", "rank_one"])
@pytest.mark.parametrize("loss", ["squared", "hinge"])
def test_bias_matches_extreme_point_solver(kind, loss):
    rng = np.random.default_rng(7)
    n = 10
    t = rng.standard_normal(n)
    X = t[:, None] if kind == "1d" else np.c_[t, 0.5 - 2 * t]  # samples on one line
    y = np.sin(3 * t) + 0.1 * rng.standard_normal(n)
    if loss == "hinge":
        y = np.where(y > 0, 1.0, -1.0)
    Est = ConvexReLURegressor if loss == "squared" else ConvexReLUClassifier
    kw = dict(loss="hinge") if loss == "hinge" else {}
    ep = Est(solver="extreme_points", beta=0.05, **kw).fit(X, y)
    cpl = Est(solver="cutting_plane", beta=0.05, **kw).fit(X, y)
    assert cpl.solver_ == "cutting_plane" and cpl.converged_
    assert cpl.objective_ == pytest.approx(ep.objective_, rel=1e-6, abs=1e-8)
    assert np.isfinite(cpl.duality_gap_)
    assert cpl.objective_ - cpl.duality_gap_ <= ep.objective_ + 1e-7


def test_bias_finite_gaps_bound_true_suboptimality():
    """Every finite duality gap (also of unconverged runs) bounds J - global optimum."""
    rng = np.random.default_rng(123)
    checked = 0
    for trial in range(14):
        n = int(rng.integers(4, 8))
        loss = ("squared", "hinge")[trial % 2]
        X, y = _bias_problem(1000 + trial, n, loss)
        if loss == "hinge" and np.all(y == y[0]):
            continue
        beta = float(10 ** rng.uniform(-1.5, 0))
        ref = solve_arrangement_reference(X, y, loss, beta, bias=True,
                                          patterns=brute_force_patterns_lp(X, True))
        max_iter = int(rng.integers(1, 4)) if trial % 3 else 200
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            r = cutting_plane(X, y, loss=loss, beta=beta, bias=True, max_iter=max_iter)
        assert np.isfinite(r.duality_gap)
        assert r.objective >= ref - 1e-6 * max(1.0, ref)  # no network beats the optimum
        assert r.objective - r.duality_gap <= ref + 1e-7 * max(1.0, ref)
        checked += 1
    assert checked >= 10


def test_bias_logistic_finite_gaps_bound_true_suboptimality():
    """Logistic with an intercept: every finite duality gap (also after 1-3 rounds) bounds
    J - global optimum (CVXPY over all brute-force patterns; its logistic solutions are
    accurate to ~1e-7 relative, hence the tolerance)."""
    rng = np.random.default_rng(321)
    for trial in range(8):
        n = int(rng.integers(4, 9))
        X, y = _bias_problem(2000 + trial, n, "logistic")
        beta = float(10 ** rng.uniform(-2, 0))
        ref = solve_arrangement_reference(X, y, "logistic", beta, bias=True,
                                          patterns=brute_force_patterns_lp(X, True))
        max_iter = (1, 2, 3, 200)[trial % 4]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            r = cutting_plane(X, y, loss="logistic", beta=beta, bias=True, max_iter=max_iter)
        assert np.isfinite(r.duality_gap) and r.n_patterns > 0
        J = network_objective(X, y, r.hidden_weights, r.hidden_bias, r.output_weights,
                              r.intercept, beta, "logistic")
        assert J == pytest.approx(r.objective, rel=1e-12)
        assert r.objective >= ref - 1e-7 * max(1.0, ref)  # no network beats the optimum
        assert r.objective - r.duality_gap <= ref + 1e-7 * max(1.0, ref)
        # the dual point: zero-sum, in the domain of L^* and with the reported value
        a = -y * r.dual_coef
        assert abs(r.dual_coef.sum()) <= 1e-12 * max(1.0, np.abs(r.dual_coef).sum())
        assert np.all((a >= -1e-15) & (a <= 1 + 1e-15))
        a = np.clip(a, 0, 1)
        a_ = a[(a > 0) & (a < 1)]
        D = float(np.sum(-a_ * np.log(a_) - (1 - a_) * np.log1p(-a_)))
        assert D == pytest.approx(r.dual_value, rel=1e-12, abs=1e-12)
        if max_iter == 200:
            assert r.converged and r.duality_gap <= 1e-6 * max(1.0, ref)


def test_bias_logistic_estimator_path():
    """ConvexReLUClassifier(loss="logistic", solver="cutting_plane", bias=True): fitted
    attributes, probabilities, and the global optimum (CVXPY over all patterns)."""
    X, y = _bias_problem(31, 12, "logistic")
    labels = np.where(y > 0, "yes", "no")
    beta = 0.1
    est = ConvexReLUClassifier(loss="logistic", solver="cutting_plane", bias=True,
                               beta=beta).fit(X, labels)
    assert est.solver_ == "cutting_plane" and est.converged_
    ref = solve_arrangement_reference(X, y, "logistic", beta, bias=True,
                                      patterns=enumerate_patterns(X).patterns)
    assert est.objective_ == pytest.approx(ref, rel=1e-6)
    assert np.isfinite(est.duality_gap_) and est.duality_gap_ <= 1e-6 * max(1.0, ref)
    assert est.objective_ - est.duality_gap_ <= ref + 1e-7 * max(1.0, ref)
    f = (np.maximum(X @ est.hidden_weights_ + est.hidden_bias_, 0) @ est.output_weights_
         + est.intercept_)
    assert np.allclose(est.decision_function(X), f)
    proba = est.predict_proba(X)
    assert proba.shape == (12, 2) and np.allclose(proba.sum(axis=1), 1.0)
    pos = est.classes_[1]
    assert np.allclose(proba[:, 1], 1 / (1 + np.exp(-f)))
    assert np.array_equal(est.predict(X), np.where(f > 0, pos, est.classes_[0]))
    # the objective is the logistic J of the +-1 labels the estimator uses
    ypm = np.where(labels == pos, 1.0, -1.0)
    J = network_objective(X, ypm, est.hidden_weights_, est.hidden_bias_, est.output_weights_,
                          est.intercept_, beta, "logistic")
    assert J == pytest.approx(est.objective_, rel=1e-12)


def test_bias_large_problem_reports_inf_gap_and_searched_gap():
    X, y = _bias_problem(9, 80, "squared", d=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        r = cutting_plane(X, y, beta=0.5, bias=True, max_iter=15)
    assert r.duality_gap == np.inf and r.n_patterns == 0
    assert np.isfinite(r.relaxation_gap) and "enumeration not attempted" in r.certificate
    J = network_objective(X, y, r.hidden_weights, r.hidden_bias, r.output_weights, r.intercept,
                          0.5, "squared")
    assert J == pytest.approx(r.objective, rel=1e-12)


def test_bias_deterministic_and_estimator_attributes():
    X, y = _bias_problem(11, 30, "squared", d=3)
    a = ConvexReLURegressor(solver="cutting_plane", beta=0.2, max_iter=30).fit(X, y)
    b = ConvexReLURegressor(solver="cutting_plane", beta=0.2, max_iter=30).fit(X, y)
    assert a.objective_ == b.objective_
    assert a.hidden_bias_.shape == a.output_weights_.shape
    f = np.maximum(X @ a.hidden_weights_ + a.hidden_bias_, 0) @ a.output_weights_ + a.intercept_
    assert np.allclose(a.predict(X), f)


# ------------------------------------------------- Algorithm 3: local re-optimization (tail)
@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_refine_network_never_increases_J(loss):
    from fastconvexrelu.cutting_plane import _refine_network

    rng = np.random.default_rng(40)
    X, y = _bias_problem(40, 60, loss, d=3)
    m = 7
    U = rng.standard_normal((3, m))
    U /= np.linalg.norm(U, axis=0)
    B, w, c = rng.standard_normal(m), rng.standard_normal(m), 0.3
    beta = 0.2
    J0 = network_objective(X, y, U, B, w, c, beta, loss)
    Un, Bn, wn, cn, Jn = _refine_network(X, y, U, B, w, c, loss, beta, 50)
    assert np.allclose(np.linalg.norm(Un, axis=0), 1.0)  # unit neurons, rescaled exactly
    assert Jn == pytest.approx(network_objective(X, y, Un, Bn, wn, cn, beta, loss), rel=1e-13)
    assert Jn < J0 - 1e-3 * J0  # a real decrease from a random start
    # more steps from there: never worse (monotone), None when nothing is gained
    again = _refine_network(X, y, Un, Bn, wn, cn, loss, beta, 50)
    assert again is None or again[4] <= Jn


def test_refine_steps_zero_is_plain_algorithm3_and_both_reach_the_optimum():
    X, y = _bias_problem(3, 12, "squared")
    P = enumerate_patterns(X).patterns
    ref = solve_arrangement_reference(X, y, "squared", 0.1, bias=True, patterns=P)
    for steps in (0, 300):
        r = cutting_plane(X, y, beta=0.1, bias=True, refine_steps=steps)
        assert r.converged and np.isfinite(r.duality_gap)
        assert r.objective == pytest.approx(ref, rel=1e-6)
        assert r.objective - r.duality_gap <= ref + 1e-7 * max(1.0, ref)
    for bad in (-1, 2.5, True, "10"):
        with pytest.raises(ValueError, match="refine_steps"):
            cutting_plane(X, y, beta=0.1, bias=True, refine_steps=bad)


def test_refine_lowers_J_in_the_tail_without_enumeration():
    """Fixed seed, no enumeration (d = 5): after the same number of rounds the refined run
    has a lower J (a measured property of this heuristic, see bench/RESULTS.md)."""
    X, y = _bias_problem(21, 120, "squared", d=5)
    out = {}
    for steps in (0, 300):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            r = cutting_plane(X, y, beta=0.2, bias=True, max_iter=8, refine_steps=steps)
        assert r.duality_gap == np.inf
        J = network_objective(X, y, r.hidden_weights, r.hidden_bias, r.output_weights,
                              r.intercept, 0.2, "squared")
        assert J == pytest.approx(r.objective, rel=1e-12)
        out[steps] = J
    assert out[300] < 0.9 * out[0]


def test_algorithm1_on_data_that_is_not_spike_free_warns_instead_of_claiming_a_fit():
    # Gaussian data, n >> d: no direction has X u >= 0, the relaxation (15) admits no neuron
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = X[:, 0] + 0.3 * rng.standard_normal(200)
    with pytest.warns(UserWarning, match="spike-free relaxation"):
        est = ConvexReLURegressor(beta=1.0, bias=False, solver="cutting_plane").fit(X, y)
    assert est.n_active_ == 0 and est.duality_gap_ == np.inf
    better = ConvexReLURegressor(beta=1.0, bias=False, solver="arrangements",
                                 n_patterns=50, random_state=0, max_iter=2000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        better.fit(X, y)
    assert better.n_active_ > 0 and better.objective_ < 0.5 * est.objective_
