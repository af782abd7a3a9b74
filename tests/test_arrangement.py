"""Tests of the activation-pattern enumeration / sampling and the exact pattern oracle."""

import warnings
from itertools import product
from math import comb

import numpy as np
import pytest
from scipy.optimize import linprog

from fastconvexrelu.arrangement import enumerate_patterns, pattern_oracle, sample_patterns

cp = pytest.importorskip("cvxpy")


# ------------------------------------------------------------------- brute force (LP)
def strictly_feasible(A, signs):
    """Is {w : signs_i a_i^T w > 0 for all i} non-empty?  LP: max t, s_i a_i^T w >= t."""
    n, k = A.shape
    # variables (w, t); minimize -t;  -(s_i a_i^T w) + t <= 0
    A_ub = np.hstack([-(signs[:, None] * A), np.ones((n, 1))])
    res = linprog(
        np.r_[np.zeros(k), -1.0], A_ub=A_ub, b_ub=np.zeros(n),
        bounds=[(-1, 1)] * k + [(None, 1)], method="highs",
    )
    return res.status == 0 and -res.fun > 1e-9


def brute_force_patterns(X, bias):
    """All patterns by LP feasibility of every sign vector (zero rows: always inactive)."""
    A = np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X
    nz = np.flatnonzero(np.linalg.norm(A, axis=1) > 0)
    out = set()
    for s in product((1.0, -1.0), repeat=nz.size):
        s = np.array(s)
        if strictly_feasible(A[nz], s):
            D = np.zeros(X.shape[0], dtype=bool)
            D[nz] = s > 0
            if D.any():
                out.add(D.tobytes())
    return out


def as_set(P):
    return {P[:, j].tobytes() for j in range(P.shape[1])}


def check_generators(X, res, bias):
    Z = X @ res.hidden_weights + (res.hidden_bias if bias else 0.0)
    assert np.all(np.abs(Z[np.linalg.norm(X, axis=1) > 0]) > 0) or not bias
    assert np.array_equal(Z > 0, res.patterns)
    if not bias:
        assert np.all(res.hidden_bias == 0)


def degenerate_cases(rng):
    X1 = rng.standard_normal((7, 2))
    X1[4:] = X1[:3]  # duplicate rows
    t = rng.standard_normal(6)
    X2 = np.c_[t, 2 * t + 1]  # collinear points (rank-one affine data)
    X3 = rng.standard_normal((7, 1)) @ rng.standard_normal((1, 3))  # rank one, through 0
    X4 = np.array([[0.0], [0.0], [1.0], [1.0], [2.0], [-1.0]])  # 1-D with duplicates
    X5 = np.r_[rng.integers(-2, 3, (6, 2)).astype(float), [[0.0, 0.0]]]  # integer grid, zero row
    X6 = rng.standard_normal((7, 3))
    X6[:, 2] = X6[:, 0] - X6[:, 1]  # rank 2 in R^3
    return [X1, X2, X3, X4, X5, X6]


@pytest.mark.parametrize("bias", [True, False])
def test_enumeration_matches_brute_force(bias):
    rng = np.random.default_rng(0)
    cases = [rng.standard_normal((n, d)) for n, d in [(6, 2), (7, 3), (5, 1), (8, 2)]]
    cases += degenerate_cases(rng)
    for X in cases:
        res = enumerate_patterns(X, bias=bias)
        assert res.exact and res.count == res.patterns.shape[1]
        assert len(as_set(res.patterns)) == res.count  # distinct
        assert not np.any(np.all(~res.patterns, axis=0))  # all-zero excluded
        check_generators(X, res, bias)
        assert as_set(res.patterns) == brute_force_patterns(X, bias), X


@pytest.mark.parametrize("n,d", [(12, 2), (20, 2), (15, 3), (9, 4)])
def test_counts_general_position(n, d):
    rng = np.random.default_rng(n + d)
    X = rng.standard_normal((n, d))
    # bias: central arrangement of n hyperplanes in R^(d+1) in general position; the
    # all-zero pattern is one of the cells
    assert enumerate_patterns(X, bias=True).count == 2 * sum(comb(n - 1, i) for i in range(d + 1)) - 1
    # no bias: Xu < 0 for all i is impossible for Gaussian data with n >> d? not necessarily:
    # count the cells and subtract the all-zero cell when it exists
    cells = 2 * sum(comb(n - 1, i) for i in range(d))
    zero_cell = strictly_feasible(X, -np.ones(n))
    assert enumerate_patterns(X, bias=False).count == cells - int(zero_cell)


def test_one_dimensional_counts():
    x = np.array([3.0, -1.0, 0.5, 2.0, 7.0])[:, None]
    assert enumerate_patterns(x, bias=True).count == 2 * 5 - 1
    # duplicates count once
    x2 = np.r_[x, x[:2]]
    assert enumerate_patterns(x2, bias=True).count == 2 * 5 - 1
    # one distinct point: only the all-ones pattern
    assert enumerate_patterns(np.ones((4, 1)), bias=True).count == 1
    # no bias, points on both sides of 0: patterns 1[x > 0] and 1[x < 0]
    assert enumerate_patterns(x, bias=False).count == 2
    # X = 0 without bias: no nonzero pattern
    assert enumerate_patterns(np.zeros((3, 2)), bias=False).count == 0


def test_max_patterns_and_bad_input():
    X = np.random.default_rng(1).standard_normal((20, 2))
    with pytest.raises(ValueError, match="max_patterns=10.*found"):
        enumerate_patterns(X, max_patterns=10)
    with pytest.raises(ValueError, match="X"):
        enumerate_patterns(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="X"):
        enumerate_patterns(np.ones(3))
    with pytest.raises(ValueError, match="max_patterns"):
        enumerate_patterns(X, max_patterns=0)
    with pytest.raises(ValueError, match="bias"):
        enumerate_patterns(X, bias="yes")
    with pytest.raises(ValueError, match="n_patterns"):
        sample_patterns(X, 0)
    with pytest.raises(ValueError, match="random_state"):
        sample_patterns(X, 5, random_state="a")


@pytest.mark.parametrize("bias", [True, False])
def test_sampling(bias):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 3))
    a = sample_patterns(X, 50, bias=bias, random_state=7)
    b = sample_patterns(X, 50, bias=bias, random_state=np.random.default_rng(7))
    assert np.array_equal(a.patterns, b.patterns) and np.allclose(a.hidden_weights, b.hidden_weights)
    assert a.count == 50 and not a.exact
    check_generators(X, a, bias)
    assert len(as_set(a.patterns)) == 50
    assert not np.any(np.all(~a.patterns, axis=0))
    allp = as_set(enumerate_patterns(X, bias=bias).patterns)
    assert as_set(a.patterns) <= allp
    # small arrangement: fewer patterns than requested, all of them found
    Xs = X[:4, :1]
    s = sample_patterns(Xs, 100, bias=bias, random_state=0)
    e = enumerate_patterns(Xs, bias=bias)
    assert s.count == e.count < 100
    assert as_set(s.patterns) == as_set(e.patterns)


# ------------------------------------------------------------------------- oracle
def cvxpy_pattern_max(X, v, D, s, bias):
    n, d = X.shape
    u = cp.Variable(d)
    b = cp.Variable() if bias else 0.0
    z = X @ u + b
    sig = 2.0 * D - 1.0
    prob = cp.Problem(cp.Maximize(s * (v * D) @ z), [cp.multiply(sig, z) >= 0, cp.norm(u) <= 1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prob.solve(solver="CLARABEL")
    if prob.status in ("unbounded", "unbounded_inaccurate"):
        return np.inf
    assert prob.status == "optimal", prob.status
    return prob.value


@pytest.mark.parametrize("bias", [True, False])
def test_pattern_oracle_against_cvxpy(bias):
    rng = np.random.default_rng(11 + bias)
    for trial in range(12):
        n, d = int(rng.integers(3, 10)), int(rng.integers(1, 4))
        X = rng.standard_normal((n, d))
        if trial % 4 == 3:
            X[n // 2:] = X[: n - n // 2]  # duplicates
        v = rng.standard_normal(n)
        P = rng.integers(0, 2, (n, 5)).astype(bool)
        P[:, 0] = True  # all-ones pattern: unbounded with a bias since 1^T v != 0
        res = pattern_oracle(X, v, P, bias=bias)
        assert res.converged
        for p in range(P.shape[1]):
            sig = 2.0 * P[:, p] - 1.0
            for c, s in enumerate((1.0, -1.0)):
                ref = cvxpy_pattern_max(X, v, P[:, p], s, bias)
                val = res.values[p, c]
                if np.isinf(ref):
                    assert np.isinf(val) and res.status[p, c] == 1
                    continue
                assert res.status[p, c] == 0
                assert abs(val - ref) <= 1e-6 * max(1.0, abs(ref))
                # the maximizer is feasible and attains the value
                u, b = res.hidden_weights[p, c], res.hidden_bias[p, c]
                z = X @ u + b
                assert np.linalg.norm(u) <= 1 + 1e-12
                assert np.min(sig * z) >= -1e-9 * (1 + abs(b))
                assert abs(s * (v * P[:, p]) @ z - val) <= 1e-8 * max(1.0, val)
                if not bias:
                    assert b == 0.0


def test_pattern_oracle_centered_dual_is_bounded():
    # 1^T v = 0 (intercept in the master): the all-ones pattern is bounded (value = that of
    # the linear neuron)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((9, 2))
    v = rng.standard_normal(9)
    v -= v.mean()
    P = np.ones((9, 1), dtype=bool)
    res = pattern_oracle(X, v, P, bias=True)
    assert np.all(res.status == 0)
    assert np.allclose(res.values[:, 0], np.linalg.norm(X.T @ v), rtol=1e-10)
    assert np.allclose(res.values[:, 1], np.linalg.norm(X.T @ v), rtol=1e-10)


def test_pattern_oracle_max_over_all_patterns_is_relu_max():
    # max over all patterns and signs of g = max_{|u|<=1, b} |v^T (Xu + b)_+| restricted to
    # the generators' neighbourhood: compare with dense random search (a lower bound) on a
    # centred v
    rng = np.random.default_rng(8)
    X = rng.standard_normal((8, 2))
    v = rng.standard_normal(8)
    v -= v.mean()
    E = enumerate_patterns(X, bias=True)
    res = pattern_oracle(X, v, E.patterns, bias=True)
    M = np.max(res.values)
    U = rng.standard_normal((2, 200000))
    U /= np.linalg.norm(U, axis=0)
    B = rng.uniform(-4, 4, 200000)
    vals = np.abs(v @ np.maximum(X @ U + B, 0))
    assert vals.max() <= M * (1 + 1e-9)
    assert vals.max() >= 0.95 * M


def test_pattern_oracle_bad_input():
    X = np.ones((3, 2))
    with pytest.raises(ValueError, match="v"):
        pattern_oracle(X, np.ones(4), np.ones((3, 1)))
    with pytest.raises(ValueError, match="patterns"):
        pattern_oracle(X, np.ones(3), np.ones((4, 1)))
    with pytest.raises(ValueError, match="patterns"):
        pattern_oracle(X, np.ones(3), 2 * np.ones((3, 1)))
    with pytest.raises(ValueError, match="v"):
        pattern_oracle(X, np.array([1.0, np.inf, 0.0]), np.ones((3, 1)))


def test_pattern_oracle_signs_option():
    rng = np.random.default_rng(21)
    X = rng.standard_normal((10, 3))
    v = rng.standard_normal(10)
    v -= v.mean()
    P = sample_patterns(X, 6, random_state=0).patterns
    full = pattern_oracle(X, v, P)
    sg = np.array([1, -1, 0, 1, -1, 0])
    part = pattern_oracle(X, v, P, signs=sg)
    for p, s in enumerate(sg):
        for c in (0, 1):
            if s == 0 or (s == 1) == (c == 0):
                assert part.values[p, c] == full.values[p, c]
            else:
                assert np.isnan(part.values[p, c]) and part.status[p, c] == 3
    with pytest.raises(ValueError, match="signs"):
        pattern_oracle(X, v, P, signs=[2] * 6)
