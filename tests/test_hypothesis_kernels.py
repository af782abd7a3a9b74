"""Property-based tests of the main C++ kernels (issue 20), each against an independent check:
the hyperplane-arrangement enumeration (every pattern realized by an LP, every sampled
(u, b) pattern listed), the cone projection (KKT conditions and optimality against SciPy's
NNLS), the 1-D extreme points (Lemma 2.6, closed form) and the loss interface (the Python
reference).  Malformed input (NaN, wrong shapes, empty arrays) raises ``ValueError``."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, nnls

from fastconvexrelu import _core
from fastconvexrelu._losses import loss_value

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def small_X(draw, max_n=7, max_d=3):
    n = draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    X = rng.integers(-3, 4, size=(n, d)).astype(float)  # integer grid: ties and collinearity
    if draw(st.booleans()):
        X = rng.normal(size=(n, d))
    if draw(st.booleans()) and n >= 2:
        X[-1] = X[0]  # a duplicated row
    return X * draw(st.sampled_from([1.0, 1e-3, 1e3]))


def _realizable(X, p, bias):
    """An LP: is there (u, b) with X u + b >= 1 on p and <= 0 off p (b = 0 without bias)?"""
    n, d = X.shape
    A = np.hstack([X, np.ones((n, 1))]) if bias else X
    sign = np.where(p > 0, -1.0, 1.0)  # -(a.z) <= -1 on p, a.z <= 0 off p
    rhs = np.where(p > 0, -1.0, 0.0)
    r = linprog(np.zeros(A.shape[1]), A_ub=sign[:, None] * A, b_ub=rhs,
                bounds=[(None, None)] * A.shape[1], method="highs")
    return r.status == 0


@SETTINGS
@given(small_X(), st.booleans())
def test_enumerate_patterns_is_exactly_the_arrangement(X, bias):
    r = _core.enumerate_patterns(np.asfortranarray(X), bias)
    P = np.asarray(r["patterns"]).astype(np.uint8)
    assert P.shape[0] == X.shape[0] and P.shape[1] == r["count"]
    cols = {P[:, j].tobytes() for j in range(P.shape[1])}
    assert len(cols) == P.shape[1]  # no pattern twice
    assert np.all(P.sum(axis=0) > 0)  # the all-zero pattern is excluded
    for j in range(P.shape[1]):  # every listed pattern is realized by some (u, b)
        assert _realizable(X, P[:, j], bias), P[:, j]
    rng = np.random.default_rng(1)  # every realized pattern of random (u, b) is listed
    d = X.shape[1]
    scale = float(np.max(np.abs(X))) or 1.0
    for _ in range(300):
        u = rng.normal(size=d)
        b = rng.normal() * scale * np.linalg.norm(u) if bias else 0.0
        p = (X @ u + b > 1e-9 * scale * np.linalg.norm(u)).astype(np.uint8)
        if p.any():
            assert p.tobytes() in cols, p


@SETTINGS
@given(st.integers(1, 8), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_cone_projection_kkt_and_against_nnls(m, d, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(m, d))
    g = rng.normal(size=d)
    r = _core.cone_projection(np.asfortranarray(A), g)
    assert r["converged"]
    u, lam = np.asarray(r["u"]), np.asarray(r["lam"])
    # projection of g onto {u : A u >= 0}: u = g + A^T lam, lam >= 0, A u >= 0, lam . A u = 0
    np.testing.assert_allclose(u, g + A.T @ lam, atol=1e-9)
    assert np.all(lam >= -1e-12) and np.all(A @ u >= -1e-9)
    assert abs(float(lam @ (A @ u))) <= 1e-8
    # the dual is the NNLS  min_{lam >= 0} ||g + A^T lam||: SciPy's value matches
    lam_ref, dist_ref = nnls(-A.T, g)
    assert np.linalg.norm(u - g) == pytest.approx(
        np.linalg.norm(A.T @ lam_ref), abs=1e-8) or dist_ref == pytest.approx(np.linalg.norm(u), abs=1e-8)
    assert np.linalg.norm(u) == pytest.approx(dist_ref, abs=1e-8)


@SETTINGS
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=1,
                max_size=30))
def test_extreme_points_1d_closed_form(xs):
    x = np.array(xs)
    U, b = _core.extreme_points_1d(x)
    n = x.shape[0]
    U, b = np.asarray(U), np.asarray(b)
    assert U.shape == (1, 2 * n) and b.shape == (2 * n,)
    # Lemma 2.6: the neurons (+1, -x_i) and (-1, x_i), one ramp starting at each sample
    assert set(np.abs(U[0]).tolist()) == {1.0}
    got = sorted(zip(U[0].tolist(), b.tolist()))
    want = sorted([(1.0, -v) for v in xs] + [(-1.0, v) for v in xs])
    assert got == want


@SETTINGS
@given(st.sampled_from(["squared", "logistic", "softmax", "huber", "hinge"]),
       st.integers(1, 12), st.integers(0, 2**31 - 1), st.booleans())
def test_loss_eval_matches_python_reference(loss, n, seed, weighted):
    rng = np.random.default_rng(seed)
    o = 3 if loss == "softmax" else (1 if loss in ("logistic", "hinge") else 2)
    F = rng.normal(size=(n, o)) * 3
    if loss in ("logistic", "hinge"):
        Y = np.where(rng.random((n, 1)) < 0.5, -1.0, 1.0)
    elif loss == "softmax":
        Y = np.eye(3)[rng.integers(0, 3, n)]
    else:
        Y = rng.normal(size=(n, o))
    s = rng.random(n) if weighted else None
    kw = {} if s is None else {"sample_weight": s}
    v = _core.loss_eval(loss, np.asfortranarray(F), np.asfortranarray(Y), 0.7, **kw)["value"]
    assert v == pytest.approx(loss_value(F, Y, loss, 0.7, s), rel=1e-12, abs=1e-12)


_BAD = st.sampled_from(["nan", "inf", "empty", "shape"])


@SETTINGS
@given(_BAD, st.integers(1, 6), st.integers(1, 3))
def test_kernels_reject_malformed_input_with_value_error(bad, n, d):
    rng = np.random.default_rng(n * 10 + d)
    X = rng.normal(size=(n, d))
    y = rng.normal(size=n)
    if bad == "nan":
        X[0, 0] = np.nan
    elif bad == "inf":
        X[0, 0] = -np.inf
    elif bad == "empty":
        X, y = np.zeros((0, d)), np.zeros(0)
    Fy = np.asfortranarray(y[:, None])
    F = np.asfortranarray(X[:, :1]) if X.shape[0] else np.zeros((0, 1), order="F")
    if bad == "shape":
        Fy = np.asfortranarray(rng.normal(size=(n + 1, 1)))
    calls = [
        lambda: _core.enumerate_patterns(np.asfortranarray(X), True),
        lambda: _core.extreme_points_1d(X[:, 0]),
        lambda: _core.loss_eval("squared", F, Fy),
        lambda: _core.group_lasso_fista(np.asfortranarray(np.abs(X)), Fy, "squared", 0.1,
                                        True, 5),
    ]
    if bad == "shape":
        calls = calls[2:]
    for call in calls:
        with pytest.raises(ValueError):
            call()
