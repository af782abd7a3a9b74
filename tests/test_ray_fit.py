"""Tests of ``_core.fit_ray_pair``: the exact bias-free two-neuron solver on rank-one data.

Reference: the same convex program (2 features p = (t)_+, q = (-t)_+, no intercept) solved by
CVXPY + Clarabel.  Checks: objective agrees to 1e-6 relative, the certificate is honest
(gap >= 0, gap >= J - J_cvxpy - 1e-9 * scale, the returned dual vector is feasible and its
dual value recomputed independently is a lower bound on the CVXPY optimum), infeasible
beta = 0 problems and invalid input raise ValueError.
"""
from __future__ import annotations

import math
import threading
from fractions import Fraction

import numpy as np
import pytest

cp = pytest.importorskip("cvxpy")
pytest.importorskip("clarabel")
_core = pytest.importorskip("fastconvexrelu._core")

fit_ray_pair = _core.fit_ray_pair

REL_TOL = 1e-6
KEYS = {"w_pos", "w_neg", "fitted", "dual", "primal", "dual_value", "gap", "converged", "message"}


# --------------------------------------------------------------------------------------------
# Independent reference
# --------------------------------------------------------------------------------------------
def features(t):
    t = np.asarray(t, dtype=float)
    return np.maximum(t, 0.0), np.maximum(-t, 0.0)


def exact_dot(a, b):
    """Exact inner product of two float vectors (rational arithmetic)."""
    return float(sum((Fraction(x) * Fraction(z) for x, z in zip(a.tolist(), b.tolist())), Fraction(0)))


def loss_value(f, y, loss):
    if loss == "squared":
        return 0.5 * float(np.sum((f - y) ** 2))
    if loss == "hinge":
        return float(np.sum(np.maximum(0.0, 1.0 - y * f)))
    return float(np.sum(np.logaddexp(0.0, -y * f)))


def neg_conjugate(v, y, loss):
    """-sum_i l_i^*(v_i) (returns -inf outside the conjugate's domain)."""
    if loss == "squared":
        return float(-np.sum(v * y + 0.5 * v * v))
    u = -y * v
    if np.any(u < -1e-12) or np.any(u > 1 + 1e-12):
        return -np.inf
    u = np.clip(u, 0.0, 1.0)
    if loss == "hinge":
        return float(np.sum(u))

    def xlogx(x):
        return np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)

    return float(-np.sum(xlogx(u) + xlogx(1.0 - u)))


def cvx_solve(t, y, loss, beta):
    """Optimal value of the same problem by CVXPY + Clarabel (None if infeasible)."""
    p, q = features(t)
    Phi = np.column_stack([p, q])
    w = cp.Variable(2)
    f = Phi @ w
    if beta == 0:
        if loss == "squared":
            cons = [f == y]
        else:
            cons = [cp.multiply(y, f) >= 1]
        prob = cp.Problem(cp.Minimize(cp.norm1(w)), cons)
    else:
        if loss == "squared":
            L = 0.5 * cp.sum_squares(f - y)
        elif loss == "hinge":
            L = cp.sum(cp.pos(1 - cp.multiply(y, f)))
        else:
            L = cp.sum(cp.logistic(-cp.multiply(y, f)))
        prob = cp.Problem(cp.Minimize(L + beta * cp.norm1(w)))
    # Tight tolerances for the beta = 0 LPs: with the defaults (~1e-8) Clarabel's slightly
    # infeasible hard-margin iterates can sit ~1e-9 relative below the true optimum.
    if beta == 0:
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12,
                   tol_ktratio=1e-10)
    else:
        prob.solve(solver=cp.CLARABEL)
    if prob.status in ("infeasible", "infeasible_inaccurate"):
        return None
    assert prob.status in ("optimal", "optimal_inaccurate"), prob.status
    return float(prob.value)


# --------------------------------------------------------------------------------------------
# Checks shared by all comparisons
# --------------------------------------------------------------------------------------------
def check_against_cvxpy(t, y, loss, beta):
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    r = fit_ray_pair(t, y, loss, beta)
    assert set(r) == KEYS
    J_ref = cvx_solve(t, y, loss, beta)
    assert J_ref is not None
    scale = max(1.0, abs(J_ref))

    # primal: fitted and primal recomputed from the weights
    p, q = features(t)
    f = r["w_pos"] * p + r["w_neg"] * q
    np.testing.assert_allclose(r["fitted"], f, rtol=1e-13, atol=1e-13)
    if beta == 0:
        J = abs(r["w_pos"]) + abs(r["w_neg"])
        if loss == "squared":
            np.testing.assert_allclose(f, y, rtol=0, atol=1e-9 * max(1e-300, np.abs(y).max()))
        else:
            assert np.all(y * f >= 1 - 1e-12)
    else:
        J = loss_value(f, y, loss) + beta * (abs(r["w_pos"]) + abs(r["w_neg"]))
    assert abs(J - r["primal"]) <= 1e-12 * max(1.0, abs(J))

    # optimality vs CVXPY
    assert abs(r["primal"] - J_ref) <= REL_TOL * scale, (r["primal"], J_ref)

    # certificate
    gap = r["gap"]
    assert np.isfinite(gap) and gap >= 0
    assert gap >= r["primal"] - J_ref - 1e-9 * scale
    assert abs(gap - max(0.0, r["primal"] - r["dual_value"])) <= 1e-11 * scale
    v = r["dual"]
    bound = 1.0 if beta == 0 else beta
    assert abs(exact_dot(p, v)) <= bound  # feasible for the exact inner product
    assert abs(exact_dot(q, v)) <= bound
    if beta == 0:
        if loss == "hinge":
            assert np.all(y * v >= 0)  # v = y * alpha, alpha >= 0
        D = float(y @ v)
    else:
        D = neg_conjugate(v, y, loss)
    assert abs(D - r["dual_value"]) <= 1e-10 * scale
    assert r["dual_value"] <= J_ref + 1e-7 * scale  # weak duality (CVXPY is only ~1e-8 exact)
    assert r["converged"] == (gap <= 1e-10 * max(1.0, abs(r["primal"])))
    assert r["converged"], r["message"]
    return r


def random_t(rng, n, zeros=False, ties=False):
    t = rng.standard_normal(n) * rng.choice([0.1, 1.0, 10.0])
    if ties and n >= 4:
        t[rng.integers(0, n, size=n // 3)] = t[0]
        t[rng.integers(0, n, size=n // 4)] = -abs(t[1])
    if zeros and n >= 3:
        t[rng.integers(0, n, size=max(1, n // 5))] = 0.0
    return t


def labels(rng, n, bias=0.0):
    return np.where(rng.standard_normal(n) + bias > 0, 1.0, -1.0)


BETAS = [1e-4, 1e-2, 0.3, 3.0]


# --------------------------------------------------------------------------------------------
# beta > 0, random problems
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("beta", BETAS)
def test_squared_random(seed, beta):
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(1, 40))
    t = random_t(rng, n, zeros=seed % 3 == 0, ties=seed % 4 == 1)
    y = rng.standard_normal(n) * rng.choice([0.1, 1.0, 5.0]) + rng.choice([0.0, 1.0]) * t
    check_against_cvxpy(t, y, "squared", beta)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("beta", BETAS)
def test_hinge_random(seed, beta):
    rng = np.random.default_rng(2000 + seed)
    n = int(rng.integers(1, 40))
    t = random_t(rng, n, zeros=seed % 3 == 0, ties=seed % 2 == 1)
    if seed % 4 == 2:  # separable on each side
        y = np.where(t >= 0, 1.0, -1.0) * (1 if seed % 8 == 2 else -1)
    else:
        y = labels(rng, n, bias=0.3 * np.sign(t))
    check_against_cvxpy(t, y, "hinge", beta)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("beta", BETAS)
def test_logistic_random(seed, beta):
    rng = np.random.default_rng(3000 + seed)
    n = int(rng.integers(1, 40))
    t = random_t(rng, n, zeros=seed % 3 == 0, ties=seed % 4 == 1)
    if seed % 4 == 2:  # separable: large weights when beta is small
        y = np.where(t >= 0, 1.0, -1.0)
    else:
        y = labels(rng, n, bias=np.sign(t))
    check_against_cvxpy(t, y, "logistic", beta)


@pytest.mark.parametrize("loss", ["squared", "hinge", "logistic"])
def test_rank_one_two_features(loss):
    """X = c a^T in R^{n x 2}: t = X a / ||a||; the two neurons are u = +-a/||a||."""
    rng = np.random.default_rng(7)
    a = np.array([3.0, -4.0])
    c = rng.standard_normal(25)
    X = np.outer(c, a)
    t = X @ a / np.linalg.norm(a)
    y = rng.standard_normal(25) if loss == "squared" else labels(rng, 25, bias=np.sign(c))
    r = check_against_cvxpy(t, y, loss, 0.05)
    u = a / np.linalg.norm(a)
    f = r["w_pos"] * np.maximum(X @ u, 0) + r["w_neg"] * np.maximum(-X @ u, 0)
    np.testing.assert_allclose(f, r["fitted"], atol=1e-12)


# --------------------------------------------------------------------------------------------
# exact structure of the solutions
# --------------------------------------------------------------------------------------------
def test_squared_closed_form():
    t = np.array([1.0, 2.0, -1.0, 0.0])
    y = np.array([1.0, 2.0, 3.0, 0.5])
    beta = 0.1
    r = fit_ray_pair(t, y, "squared", beta)
    assert r["w_pos"] == pytest.approx((5.0 - beta) / 5.0, rel=1e-15)
    assert r["w_neg"] == pytest.approx((3.0 - beta) / 1.0, rel=1e-15)
    assert r["fitted"][3] == 0.0
    assert r["dual"][3] == -0.5  # own best dual of a t = 0 sample: v = -y
    assert r["gap"] < 1e-14


def test_large_beta_gives_zero_network():
    rng = np.random.default_rng(5)
    t = rng.standard_normal(30)
    for loss in ["squared", "hinge", "logistic"]:
        y = rng.standard_normal(30) if loss == "squared" else labels(rng, 30)
        r = fit_ray_pair(t, y, loss, 1e3)
        assert r["w_pos"] == 0.0 and r["w_neg"] == 0.0
        assert r["converged"]


def test_hinge_weight_is_a_breakpoint():
    rng = np.random.default_rng(11)
    for _ in range(20):
        t = rng.standard_normal(15)
        y = labels(rng, 15, bias=np.sign(t))
        r = fit_ray_pair(t, y, "hinge", 0.05)
        for w, side in ((r["w_pos"], t > 0), (r["w_neg"], t < 0)):
            if w != 0:
                s = np.abs(t[side])
                assert np.min(np.abs(np.abs(w) - 1.0 / s)) <= 1e-14 * abs(w)


def test_logistic_stationarity_machine_precision():
    rng = np.random.default_rng(12)
    t = rng.standard_normal(50)
    y = labels(rng, 50, bias=2 * np.sign(t))
    beta = 1e-3
    r = fit_ray_pair(t, y, "logistic", beta)
    p, q = features(t)
    for w, phi in ((r["w_pos"], p), (r["w_neg"], q)):
        f = w * phi
        g = -np.sum(y * phi / (1.0 + np.exp(y * f))) + beta * np.sign(w)
        assert abs(g) <= 1e-12 * max(1.0, np.sum(phi))


def test_large_n_certificate():
    rng = np.random.default_rng(13)
    n = 200_000
    t = rng.standard_normal(n)
    for loss in ["squared", "hinge", "logistic"]:
        y = rng.standard_normal(n) + t if loss == "squared" else labels(rng, n, bias=np.sign(t))
        for beta in (1e-6, 1.0, 100.0):
            r = fit_ray_pair(t, y, loss, beta)
            assert r["converged"], (loss, beta, r["message"])
            p, q = features(t)
            for phi in (p, q):
                prod = phi * r["dual"]
                err = 4 * np.finfo(float).eps * np.sum(np.abs(prod))
                assert abs(math.fsum(prod)) <= beta + err


# --------------------------------------------------------------------------------------------
# beta = 0: minimum-norm interpolation / hard margin
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(10))
def test_squared_interpolation(seed):
    rng = np.random.default_rng(4000 + seed)
    n = int(rng.integers(1, 30))
    t = random_t(rng, n, zeros=seed % 2 == 0, ties=seed % 3 == 0)
    a, b = rng.standard_normal(2) * 3
    if seed == 3:
        a = 0.0
    y = np.where(t > 0, a * t, b * t)  # y = 0 where t = 0
    r = check_against_cvxpy(t, y, "squared", 0.0)
    assert r["w_pos"] == pytest.approx(a if np.any(t > 0) else 0.0, rel=1e-12, abs=1e-300)
    assert r["w_neg"] == pytest.approx(-b if np.any(t < 0) else 0.0, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("seed", range(10))
def test_hard_margin(seed):
    rng = np.random.default_rng(5000 + seed)
    n = int(rng.integers(1, 30))
    t = random_t(rng, n, ties=seed % 2 == 0)
    t[t == 0] = 1.0
    sp, sn = rng.choice([-1.0, 1.0], size=2)
    y = np.where(t > 0, sp, sn)
    r = check_against_cvxpy(t, y, "hinge", 0.0)
    if np.any(t > 0):
        assert abs(r["w_pos"]) == pytest.approx(1.0 / np.min(t[t > 0]), rel=1e-15)


def test_interpolation_infeasible():
    with pytest.raises(ValueError, match="interpolation is infeasible"):
        fit_ray_pair([1.0, 2.0], [1.0, 3.0], "squared", 0.0)  # not proportional
    with pytest.raises(ValueError, match="interpolation is infeasible"):
        fit_ray_pair([1.0, 0.0, -1.0], [1.0, 0.5, 1.0], "squared", 0.0)  # y != 0 at t = 0
    # within the relative tolerance 1e-9 of max|y| it is accepted
    r = fit_ray_pair([1.0, 2.0], [1.0, 2.0 + 1e-12], "squared", 0.0)
    assert r["w_pos"] == pytest.approx(1.0)
    # and the infeasibility agrees with CVXPY
    assert cvx_solve(np.array([1.0, 2.0]), np.array([1.0, 3.0]), "squared", 0.0) is None


def test_hard_margin_infeasible():
    with pytest.raises(ValueError, match="infeasible"):
        fit_ray_pair([1.0, 2.0, -1.0], [1.0, -1.0, 1.0], "hinge", 0.0)  # mixed labels, t > 0
    with pytest.raises(ValueError, match="infeasible"):
        fit_ray_pair([-1.0, -2.0], [1.0, -1.0], "hinge", 0.0)  # mixed labels, t < 0
    with pytest.raises(ValueError, match="infeasible"):
        fit_ray_pair([1.0, 0.0], [1.0, 1.0], "hinge", 0.0)  # t = 0 sample
    assert cvx_solve(np.array([1.0, 2.0]), np.array([1.0, -1.0]), "hinge", 0.0) is None


def test_logistic_beta_zero_rejected():
    with pytest.raises(ValueError, match="beta must be > 0 for the logistic loss"):
        fit_ray_pair([1.0, -1.0], [1.0, -1.0], "logistic", 0.0)


# --------------------------------------------------------------------------------------------
# input validation and binding
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, match",
    [
        (([1.0, 2.0], [1.0], "squared", 0.1), "same length"),
        (([], [], "squared", 0.1), "non-empty"),
        (([1.0, np.nan], [1.0, 2.0], "squared", 0.1), "t contains NaN"),
        (([1.0, 2.0], [1.0, np.inf], "squared", 0.1), "y contains NaN"),
        (([1.0, 2.0], [1.0, 2.0], "squared", -1.0), "beta"),
        (([1.0, 2.0], [1.0, 2.0], "squared", np.nan), "beta"),
        (([1.0, 2.0], [1.0, 0.0], "hinge", 0.1), "labels"),
        (([1.0, 2.0], [1.0, 2.0], "logistic", 0.1), "labels"),
        (([1.0, 2.0], [1.0, 2.0], "absolute", 0.1), "unknown loss"),
    ],
)
def test_validation(args, match):
    with pytest.raises(ValueError, match=match):
        fit_ray_pair(*args)


def test_defaults_and_docstring():
    r = fit_ray_pair(np.array([1.0, -2.0]), np.array([0.5, 1.0]))  # squared, beta = 1e-3
    assert r["w_pos"] == pytest.approx(0.5 - 1e-3)
    assert r["w_neg"] == pytest.approx((2.0 - 1e-3) / 4.0)
    doc = fit_ray_pair.__doc__
    assert "beta" in doc and "Returns" in doc and "w_pos" in doc


def test_threads():
    rng = np.random.default_rng(17)
    t = rng.standard_normal(100_000)
    y = labels(rng, 100_000, bias=np.sign(t))
    expected = fit_ray_pair(t, y, "logistic", 0.01)
    out = [None] * 4

    def work(k):
        out[k] = fit_ray_pair(t, y, "logistic", 0.01)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for r in out:
        assert r["w_pos"] == expected["w_pos"] and r["w_neg"] == expected["w_neg"]
