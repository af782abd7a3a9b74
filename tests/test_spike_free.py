"""Spike-free ratio (Lemma 2.3-2.5), extreme points of the rectified ellipsoid (Lemma 2.8,
Corollary 2.1) and the sampled sets Q_A / A B_2 cap R^n_+ — exact enumeration checked
against dense sampling on the sphere (an independent lower bound)."""

import numpy as np
import pytest

import fastconvexrelu as fcr


def sphere(rng, N, d):
    if d == 2:
        t = np.linspace(0, 2 * np.pi, N, endpoint=False)
        return np.column_stack([np.cos(t), np.sin(t)])
    U = rng.standard_normal((N, d))
    return U / np.linalg.norm(U, axis=1, keepdims=True)


def sampled_ratio(A, U):
    return float(np.max(np.linalg.norm(np.maximum(U @ A.T, 0.0) @ np.linalg.pinv(A).T, axis=1)))


# ------------------------------------------------------------------ spike-free ratio
@pytest.mark.parametrize("n, d", [(2, 2), (3, 2), (3, 3), (4, 3), (2, 4), (3, 4)])
def test_ratio_exact_vs_dense_sampling(n, d):
    rng = np.random.default_rng(10 * n + d)
    U = sphere(rng, 200_000, d)
    for _ in range(3):
        A = rng.standard_normal((n, d))
        res = fcr.spike_free_ratio(A)
        assert res.exact and res.n_faces > 0
        lb = sampled_ratio(A, U)
        assert lb <= res.value + 1e-9  # sampling never beats the exact maximum
        assert lb >= res.value * (1 - 0.03)  # ... and comes close to it
        # the returned maximizer attains the value
        assert np.linalg.norm(res.u) == pytest.approx(1.0)
        np.testing.assert_allclose(sampled_ratio(A, res.u[None]), res.value, rtol=1e-12)
        assert res.lower_bound == res.value == res.upper_bound
        if res.full_row_rank:
            assert res.value >= 1 - 1e-12  # u in A^T R^n_+ gives 1
            assert res.spike_free == (res.value <= 1 + 1e-9)


def test_ratio_is_one_on_diagonal_and_whitened():
    rng = np.random.default_rng(0)
    for A in [np.diag([3.0, -0.5, 2.0]), np.diag([1.0, 2.0, 3.0, 4.0]), np.eye(3, 5) * 2.0]:
        res = fcr.spike_free_ratio(A)
        assert res.exact and res.value <= 1 + 1e-9 and res.spike_free is True
    for n, d in [(3, 3), (4, 6), (6, 8)]:
        W = fcr.whiten(rng.standard_normal((n, d)))
        res = fcr.spike_free_ratio(W)
        assert res.exact and abs(res.value - 1.0) <= 1e-9 and res.spike_free is True
        assert res.upper_bound <= 1 + 1e-9  # cond(W) = 1 (Lemma 2.4)
        # sampling mode: lower bound <= 1 and the condition-number bound certifies it
        s = fcr.spike_free_ratio(W, method="sampling", n_samples=2000)
        assert not s.exact and s.value <= 1 + 1e-9 and s.spike_free is True


def test_ratio_non_spike_free_example():
    # two nearly anti-parallel rows: Q_A has spikes (Figure 3); for n = d = 2 with an obtuse
    # angle phi between the rows the ratio is exactly 1 / sin(phi)
    A = np.array([[1.0, 0.0], [-1.0, 0.2]])
    res = fcr.spike_free_ratio(A)
    phi = np.arccos(A[0] @ A[1] / np.linalg.norm(A[0]) / np.linalg.norm(A[1]))
    assert res.exact and res.spike_free is False
    np.testing.assert_allclose(res.value, 1 / np.sin(phi), rtol=1e-12)
    assert res.value > 1
    assert sampled_ratio(A, sphere(np.random.default_rng(0), 100_000, 2)) > 1
    # nearly parallel rows (acute angle) are spike-free in the plane
    assert fcr.spike_free_ratio([[1.0, 0.0], [1.0, 0.1]]).spike_free is True
    # the sampling lower bound already certifies "not spike-free"
    s = fcr.spike_free_ratio(A, method="sampling", n_samples=500)
    assert s.spike_free is False and not s.exact and s.value <= res.value + 1e-12


def test_ratio_rank_one_lemma_2_5_and_range_condition():
    a = np.array([1.0, -2.0, 0.5])
    pos = fcr.spike_free_ratio(np.outer([1.0, 2.0, 3.0, 0.5], a))  # c >= 0: spike-free
    assert pos.exact and not pos.full_row_rank and pos.spike_free is True
    assert pos.range_residual <= 1e-12
    mixed = fcr.spike_free_ratio(np.outer([1.0, -2.0, 3.0], a))  # (Au)_+ leaves range(A)
    assert mixed.spike_free is False and mixed.range_residual > 0.1
    # n > d generic data are not spike-free
    generic = np.random.default_rng(1).standard_normal((5, 2))
    assert fcr.spike_free_ratio(generic).spike_free is False


def test_ratio_budget_and_errors():
    A = np.random.default_rng(2).standard_normal((4, 4))
    auto = fcr.spike_free_ratio(A, max_faces=10)
    assert not auto.exact and "lower bound" in auto.method
    assert auto.value <= fcr.spike_free_ratio(A).value + 1e-12
    with pytest.raises(ValueError, match="max_faces"):
        fcr.spike_free_ratio(A, method="exact", max_faces=10)
    for kwargs, match in [
        (dict(X=[[np.nan, 1.0]]), "X contains NaN"),
        (dict(X=[1.0, 2.0]), "X must be a 2-D"),
        (dict(X=np.zeros((0, 2))), "X is empty"),
        (dict(X=A, method="magic"), "method must be"),
        (dict(X=A, max_faces=0), "max_faces"),
        (dict(X=A, n_samples=0), "n_samples"),
        (dict(X=A, tol=-1.0), "tol"),
    ]:
        with pytest.raises(ValueError, match=match):
            fcr.spike_free_ratio(**kwargs)
    zero = fcr.spike_free_ratio(np.zeros((2, 3)))
    assert zero.value == 0.0 and zero.spike_free is True


# ------------------------------------------------------------------- extreme point
def sampled_extreme(A, alpha, U, bias):
    P = U @ A.T
    if not bias:
        return max(0.0, float(np.max(np.maximum(P, 0.0) @ alpha)))
    # for fixed u the best bias puts the kink on a sample (piecewise linear in b)
    shifted = (np.max(np.maximum(P - P[:, [k]], 0.0) @ alpha) for k in range(A.shape[0]))
    return max(0.0, float(max(shifted)))


@pytest.mark.parametrize("n, d", [(5, 2), (12, 2), (4, 3), (6, 3)])
@pytest.mark.parametrize("bias", [False, True])
def test_extreme_point_exact_vs_dense_sampling(n, d, bias):
    rng = np.random.default_rng(100 * n + 10 * d + bias)
    U = sphere(rng, 100_000, d)
    for _ in range(3):
        A = rng.standard_normal((n, d))
        alpha = rng.standard_normal(n)
        if bias:
            alpha -= alpha.mean() + 0.05  # 1^T alpha < 0: bounded
        ep = fcr.extreme_point(A, alpha, bias=bias)
        assert ep.exact and ep.method.startswith("exact")
        lb = sampled_extreme(A, alpha, U, bias)
        assert lb <= ep.value + 1e-9
        assert lb >= ep.value - 0.03 * max(1.0, ep.value)
        # the returned neuron attains the value and is a unit vector (or 0 for value 0)
        pre = A @ ep.u + ep.b
        np.testing.assert_allclose(np.maximum(pre, 0.0) @ alpha, ep.value, atol=1e-12)
        np.testing.assert_array_equal(ep.active, pre > 0)
        if ep.value > 0:
            assert np.linalg.norm(ep.u) == pytest.approx(1.0)
        if bias:  # Corollary 2.1: the kink is on a sample
            assert abs(A[ep.kink_sample] @ ep.u + ep.b) <= 1e-12
        # the relaxation (15) is feasible, hence a lower bound
        rel = fcr.extreme_point(A, alpha, bias=bias, method="relaxation")
        assert not rel.exact and rel.value <= ep.value + 1e-9


def test_extreme_point_relaxation_is_exact_when_spike_free():
    rng = np.random.default_rng(3)
    W = fcr.whiten(rng.standard_normal((4, 6)))
    for _ in range(5):
        alpha = rng.standard_normal(4)
        ex = fcr.extreme_point(W, alpha)
        rel = fcr.extreme_point(W, alpha, method="relaxation")
        np.testing.assert_allclose(rel.value, ex.value, rtol=1e-9, atol=1e-12)
        # whitened: max alpha^T (W u)_+ = ||(alpha)_+|| (proof of Lemma 3.2)
        np.testing.assert_allclose(ex.value, np.linalg.norm(np.maximum(alpha, 0)), rtol=1e-12)


def test_extreme_point_spike_example_beats_relaxation():
    A = np.array([[1.0, 0.0], [-1.0, 0.2]])
    ep = fcr.extreme_point(A, [1.0, 0.0])  # direction e_1: the spike of Figure 3
    rel = fcr.extreme_point(A, [1.0, 0.0], method="relaxation")
    assert ep.value == pytest.approx(1.0) and rel.value < 0.5
    np.testing.assert_allclose(ep.u, [1.0, 0.0], atol=1e-12)


def test_extreme_point_nonpositive_direction_and_errors():
    ep = fcr.extreme_point(np.array([[1.0], [-1.0]]), [-1.0, -1.0])
    assert ep.value == 0.0 and np.all(ep.u == 0)
    with pytest.raises(ValueError, match="1\\^T alpha"):
        fcr.extreme_point(np.eye(2), [1.0, 1.0], bias=True)
    with pytest.raises(ValueError, match="alpha must have one entry per sample"):
        fcr.extreme_point(np.eye(2), [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="alpha contains NaN"):
        fcr.extreme_point(np.eye(2), [1.0, np.nan])
    with pytest.raises(ValueError, match="X contains infinity"):
        fcr.extreme_point([[np.inf, 0.0]], [1.0])
    with pytest.raises(ValueError, match="method"):
        fcr.extreme_point(np.eye(2), [1.0, 1.0], method="cvx")
    with pytest.raises(ValueError, match="bias"):
        fcr.extreme_point(np.eye(2), [1.0, 1.0], bias="yes")
    with pytest.raises(ValueError, match="max_faces"):
        fcr.extreme_point(np.eye(6), np.ones(6), method="exact", max_faces=5)
    auto = fcr.extreme_point(np.eye(6), np.ones(6), max_faces=5)
    assert not auto.exact and "relaxation" in auto.method


# ----------------------------------------------------------- rectified ellipsoid
def test_rectified_ellipsoid_points():
    A = np.array([[1.0, 0.0], [-1.0, 0.2]])  # not spike-free
    pts = fcr.rectified_ellipsoid(A, 400, random_state=0)
    for P in (pts.boundary, pts.interior, pts.relaxation_boundary, pts.relaxation_interior):
        assert P.ndim == 2 and P.shape[1] == 2 and np.all(P >= 0)
    assert pts.boundary.shape == (400, 2) and pts.interior.shape == (400, 2)
    Ainv = np.linalg.inv(A)
    # relaxation points are in A B_2 (preimage norm <= 1): the relaxation is inside Q_A
    assert np.all(np.linalg.norm(pts.relaxation_interior @ Ainv.T, axis=1) <= 1 + 1e-9)
    np.testing.assert_allclose(np.linalg.norm(pts.relaxation_boundary @ Ainv.T, axis=1), 1.0)
    # the spikes of Q_A leave the ellipsoid A B_2: preimage norm up to 1 / sin(phi) > 1
    assert np.max(np.linalg.norm(pts.boundary @ Ainv.T, axis=1)) > 4.0
    # spike-free (orthonormal rows): every point of Q_A is in the relaxation
    W = fcr.whiten(np.random.default_rng(0).standard_normal((3, 4)))
    q = fcr.rectified_ellipsoid(W, 300, random_state=1)
    assert np.all(np.linalg.norm(q.boundary @ W, axis=1) <= 1 + 1e-9)  # W^+ = W^T
    with pytest.raises(ValueError, match="n_samples"):
        fcr.rectified_ellipsoid(A, 0)
    with pytest.raises(ValueError, match="X contains NaN"):
        fcr.rectified_ellipsoid([[np.nan, 1.0]], 10)
