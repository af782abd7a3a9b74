"""Tests of the hull neurons (Lemma 2.7, eq. (10)), the interpolating network (Theorem 3.5)
and the batched minimum-norm-point kernel behind them."""

import warnings

import numpy as np
import pytest

import fastconvexrelu as fcr
from fastconvexrelu import _core
from fastconvexrelu.hull_neurons import (
    InterpolatingNetwork,
    MinNormPoints,
    hull_neurons,
    interpolating_network,
    min_norm_points,
)


# ------------------------------------------------------------------------------ references
def clarabel_distance(P, t):
    """Distance of t to conv(rows of P) with CVXPY + Clarabel (second-order-cone form of (28);
    the data are centred and scaled first, which leaves the problem invariant)."""
    cp = pytest.importorskip("cvxpy")
    shift = P.mean(axis=0)
    scale = max(np.linalg.norm(P - shift, axis=1).max(), np.linalg.norm(t - shift), 1e-300)
    Q, c = (P - shift) / scale, (t - shift) / scale
    lam = cp.Variable(Q.shape[0])
    prob = cp.Problem(cp.Minimize(cp.norm(Q.T @ lam - c)), [lam >= 0, cp.sum(lam) == 1])
    with warnings.catch_warnings():  # tight tolerances: Clarabel may report "almost solved"
        warnings.simplefilter("ignore", UserWarning)
        prob.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    lam_v = np.maximum(lam.value, 0.0)
    lam_v /= lam_v.sum()
    return scale * np.linalg.norm(c - Q.T @ lam_v)


def certificate(X, i, u):
    """Lower bound min_{j != i} u^T (a_i - a_j) on the distance of a_i to the others' hull."""
    return max(0.0, np.min(np.delete((X[i] - X) @ u, i)))


def scale_of(X):
    return np.linalg.norm(X - X.mean(axis=0), axis=1).max()


# ------------------------------------------------------------------------------ Lemma 2.7
@pytest.mark.parametrize(
    "n, d, seed",
    [(6, 2, 0), (25, 2, 1), (30, 3, 2), (40, 5, 3), (60, 8, 4), (30, 20, 5), (12, 40, 6)],
)
def test_distances_match_clarabel(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    U, b, dist = hull_neurons(X)
    sc = scale_of(X)
    ref = np.array([clarabel_distance(np.delete(X, i, axis=0), X[i]) for i in range(n)])
    inside = ref <= 1e-6 * sc
    # vertices: same distance to 1e-6 relative; interior points (n > d + 1): exactly 0
    np.testing.assert_allclose(dist[~inside], ref[~inside], rtol=1e-6)
    assert np.all(dist[inside] == 0.0)
    if n > 3 * (d + 1):
        assert inside.any()  # the test set really has interior points
    # eq. (10): unit u_i, b_i = min_{j != i} -a_j^T u_i, u_i^T a_i + b_i = d_i
    ok = dist > 0
    np.testing.assert_allclose(np.linalg.norm(U[:, ok], axis=0), 1.0, rtol=1e-12)
    S = X @ U
    for i in np.flatnonzero(ok):
        assert b[i] == pytest.approx(np.min(-np.delete(S[:, i], i)), rel=1e-12, abs=1e-12 * sc)
        assert S[i, i] + b[i] == pytest.approx(dist[i], rel=1e-9, abs=1e-12 * sc)
    assert np.all(np.isnan(U[:, ~ok])) and np.all(np.isnan(b[~ok]))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_distances_match_osqp():
    osqp = pytest.importorskip("osqp")
    sparse = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(11)
    n, d = 30, 12
    X = rng.standard_normal((n, d))
    _, _, dist = hull_neurons(X)
    G = X @ X.T
    P = sparse.csc_matrix(np.triu(2.0 * G))
    A = sparse.vstack([sparse.csc_matrix(np.ones((1, n))), sparse.eye(n)], format="csc")
    solver = osqp.OSQP()
    lo, hi = np.r_[1.0, np.zeros(n)], np.r_[1.0, np.full(n, np.inf)]
    solver.setup(P, -2 * G[0], A, lo, hi, eps_abs=1e-9, eps_rel=1e-9, polishing=True,
                 verbose=False, max_iter=100000)
    for i in range(n):
        hi_i = hi.copy()
        hi_i[1 + i] = 0.0
        solver.update(q=-2 * G[i], l=lo, u=hi_i)
        lam = np.maximum(solver.solve().x, 0.0)
        lam[i] = 0.0
        lam /= lam.sum()
        assert dist[i] == pytest.approx(np.linalg.norm(X[i] - X.T @ lam), rel=1e-6)


def test_certified_bounds_and_weights():
    """Independent check of optimality: feasible weights give the distance (upper bound) and
    the neuron direction gives the matching lower bound min_j u^T (a_i - a_j)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 6))  # many interior points
    res = min_norm_points(X, X, exclude=np.arange(80))
    assert isinstance(res, MinNormPoints)
    W = res.dense_weights()
    assert np.all(W >= 0) and np.all(np.diag(W) == 0)
    np.testing.assert_allclose(W.sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_allclose(res.residuals, X - W @ X, atol=1e-13)
    sc = scale_of(X)
    np.testing.assert_allclose(np.linalg.norm(X - W @ X, axis=1)[res.distances > 0],
                               res.distances[res.distances > 0], rtol=1e-13)
    for i in range(80):
        if res.distances[i] > 0:
            lb = certificate(X, i, res.residuals[i] / res.distances[i])
            assert lb >= res.distances[i] * (1 - 1e-9)
            assert res.lower_bounds[i] >= res.distances[i] * (1 - 1e-9)
        else:
            assert np.linalg.norm(res.residuals[i]) <= 1e-10 * sc
    assert np.all(res.converged)
    assert set(np.unique(res.status)) <= {0, 1, 2}


def test_interior_points_match_convex_hull_vertices():
    spatial = pytest.importorskip("scipy.spatial")
    rng = np.random.default_rng(7)
    X = rng.standard_normal((50, 2))
    _, _, dist = hull_neurons(X)
    vertices = np.zeros(50, dtype=bool)
    vertices[spatial.ConvexHull(X).vertices] = True
    np.testing.assert_array_equal(dist > 0, vertices)


def test_anisotropic_features_certified():
    """Feature scales over 4 orders of magnitude: the certificate gap stays at rounding level
    relative to the data scale (the support is ill-determined, the distance is not)."""
    rng = np.random.default_rng(14)
    X = rng.standard_normal((60, 6)) * np.logspace(-2, 2, 6)
    res = min_norm_points(X, X, exclude=np.arange(60))
    sc = scale_of(X)
    for i in np.flatnonzero(res.distances > 0):
        lb = certificate(X, i, res.residuals[i] / res.distances[i])
        assert res.distances[i] - lb <= 1e-9 * sc


def test_translation_and_scale_invariance():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((40, 7))
    U, b, dist = hull_neurons(X)
    Y = 1e3 * X + 1e5  # large offset: handled by internal centring
    U2, b2, dist2 = hull_neurons(Y)
    np.testing.assert_array_equal(dist2 == 0, dist == 0)
    ok = dist > 0
    np.testing.assert_allclose(dist2[ok], 1e3 * dist[ok], rtol=1e-8)
    np.testing.assert_allclose(U2[:, ok], U[:, ok], atol=1e-7)
    # b_i changes with the offset as b' = 1e3 b - 1e5 1^T u
    np.testing.assert_allclose(b2[ok], 1e3 * b[ok] - 1e5 * U[:, ok].sum(axis=0), rtol=1e-8,
                               atol=1e-6)


# ------------------------------------------------------------------------------ Theorem 3.5
def test_interpolating_network_zero_training_error_gaussian():
    # Theorem 3.6 regime: d > 4 n log^2(n - 1)  (n = 8: d > 121)
    rng = np.random.default_rng(0)
    n, d = 8, 200
    assert d > 4 * n * np.log(n - 1) ** 2
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    net = interpolating_network(X, y)
    assert isinstance(net, InterpolatingNetwork)
    U, b, w = net  # unpacks as (U, b, w)
    assert U.shape == (d, n) and b.shape == (n,) and w.shape == (n,)
    np.testing.assert_allclose(net.predict(X), y, rtol=0, atol=1e-12 * np.abs(y).max())
    # the activation matrix is diag(d_i) and w_i = y_i / d_i (proof of Theorem 3.5)
    _, _, dist = hull_neurons(X)
    H = net.hidden(X)
    np.testing.assert_allclose(H, np.diag(dist), atol=1e-12 * np.abs(X).max())
    np.testing.assert_allclose(w, y / dist, rtol=1e-12)
    # a new point activates at most the neurons whose half-space contains it
    assert np.all(net.hidden(rng.standard_normal((5, d))) >= 0)


def test_interpolating_network_multioutput_and_lists():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((6, 150))
    Y = rng.standard_normal((6, 3))
    net = interpolating_network(X.tolist(), Y.tolist())
    assert net.w.shape == (6, 3)
    np.testing.assert_allclose(net.predict(X), Y, atol=1e-12)


def test_interpolating_network_names_non_vertices():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.5], [0.25, 0.5]])
    U, b, dist = hull_neurons(X)
    np.testing.assert_array_equal(dist[4:], 0.0)
    assert np.all(dist[:4] > 0)
    assert np.all(np.isnan(U[:, 4:]))
    with pytest.raises(ValueError, match=r"samples \[4, 5\] \(2 of 6\) are not vertices"):
        interpolating_network(X, np.arange(6.0))


def test_interpolating_network_bad_y():
    X = np.random.default_rng(2).standard_normal((5, 40))
    with pytest.raises(ValueError, match="rows"):
        interpolating_network(X, np.ones(4))
    with pytest.raises(ValueError, match="y"):
        interpolating_network(X, np.ones((5, 2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        interpolating_network(X, [1.0, 2.0, np.nan, 0.0, 1.0])
    net = interpolating_network(X, np.ones(5))
    with pytest.raises(ValueError, match="features"):
        net.predict(np.ones((2, 3)))


# ------------------------------------------------------------------------------ batch API
@pytest.mark.parametrize("gram, working_set", [("auto", 64), (True, 0), (True, 4), (False, 4)])
def test_batch_subsets_equal_per_target_solves(gram, working_set):
    rng = np.random.default_rng(4)
    m, k, d = 70, 9, 5
    P = rng.standard_normal((m, d))
    T = 1.5 * rng.standard_normal((k, d))
    subsets = [rng.choice(m, size=rng.integers(1, m), replace=False) for _ in range(k)]
    subsets[0] = subsets[0][:3]  # small lists use a sparse scan
    res = min_norm_points(P, T, subsets, gram=gram, working_set=working_set)
    W = res.dense_weights()
    for i, sub in enumerate(subsets):
        one = min_norm_points(P[np.sort(sub)], T[i:i + 1], gram=False, working_set=0)
        assert res.distances[i] == pytest.approx(one.distances[0], rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(res.residuals[i], one.residuals[0], atol=1e-12)
        assert res.lower_bounds[i] <= res.distances[i]
        assert res.lower_bounds[i] == pytest.approx(res.distances[i], rel=1e-9, abs=1e-14)
        # weights live on the subset only
        outside = np.setdiff1d(np.arange(m), sub)
        assert np.all(W[i, outside] == 0)
        np.testing.assert_allclose(T[i] - W[i] @ P, res.residuals[i], atol=1e-12)
        if res.distances[i] > 0:
            u = res.residuals[i] / res.distances[i]
            assert res.biases[i] == pytest.approx(np.min(-P[sub] @ u), rel=1e-12, abs=1e-12)
    # the same sets as a (k, m) mask and as per-target boolean masks
    mask = np.zeros((k, m), dtype=bool)
    for i, sub in enumerate(subsets):
        mask[i, sub] = True
    for alt in (mask, list(mask)):
        r2 = min_norm_points(P, T, alt, gram=gram, working_set=working_set)
        np.testing.assert_array_equal(r2.distances, res.distances)
        np.testing.assert_array_equal(r2.indices, res.indices)
    # unsorted indices with repeats are accepted
    r3 = min_norm_points(P, T, [np.r_[s, s[:2]][::-1] for s in subsets], gram=gram,
                         working_set=working_set)
    np.testing.assert_array_equal(r3.distances, res.distances)


def test_batch_exclude_equals_hull_neurons_and_subsets():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 4))
    _, b, dist = hull_neurons(X)
    r1 = min_norm_points(X, X, exclude=np.arange(50))
    r2 = min_norm_points(X, X.copy(), [np.delete(np.arange(50), i) for i in range(50)])
    np.testing.assert_array_equal(r1.distances, dist)
    np.testing.assert_array_equal(r1.biases, b)
    np.testing.assert_allclose(r2.distances, dist, rtol=1e-12, atol=1e-15)
    # no subsets: every target sees every point; targets inside the hull get distance 0
    r3 = min_norm_points(X, np.vstack([X.mean(axis=0), X[0] + 100.0]))
    assert r3.distances[0] == 0.0 and r3.distances[1] > 90


def test_to_scipy():
    pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(6)
    X = rng.standard_normal((20, 3))
    res = min_norm_points(X, X, exclude=np.arange(20))
    np.testing.assert_array_equal(res.to_scipy().toarray(), res.dense_weights())


def test_deterministic_across_thread_counts_and_modes():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((400, 40))  # d > 32 and k = m: the Gram matrix is used
    X[7] = X[3]  # a duplicate pair
    runs = [min_norm_points(X, X, exclude=np.arange(400), n_jobs=t) for t in (1, 2, 3)]
    for r in runs[1:]:
        for name in ("indptr", "indices", "weights", "residuals", "distances", "biases",
                     "lower_bounds", "n_iter", "status"):
            np.testing.assert_array_equal(getattr(r, name), getattr(runs[0], name))
    ref = runs[0].distances
    assert ref[3] == 0 and ref[7] == 0
    for gram in (True, False):
        for ws in (0, 8, 64):
            r = min_norm_points(X, X, exclude=np.arange(400), gram=gram, working_set=ws)
            np.testing.assert_allclose(r.distances, ref, rtol=1e-10)
    U1, b1, d1 = hull_neurons(X, n_jobs=1)
    U2, b2, d2 = hull_neurons(X, n_jobs=2)
    np.testing.assert_array_equal(U1, U2)
    np.testing.assert_array_equal(d1, d2)


def test_max_iter_warning():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((40, 10))
    with pytest.warns(fcr.ConvergenceWarning, match="max_iter"):
        res = min_norm_points(X, X, exclude=np.arange(40), max_iter=1)
    assert np.any(res.status == 3) and not np.all(res.converged)
    # distances stay valid upper bounds of the optimum
    _, _, dist = hull_neurons(X)
    assert np.all(res.distances >= dist * (1 - 1e-12))


# ------------------------------------------------------------------------------ edge cases
def test_duplicates_have_distance_zero():
    rng = np.random.default_rng(12)
    X = rng.standard_normal((6, 30))
    X = np.vstack([X, X[2]])
    U, b, dist = hull_neurons(X)
    assert dist[2] == 0 and dist[6] == 0
    assert np.all(dist[[0, 1, 3, 4, 5]] > 0)
    assert np.isnan(U[:, 2]).all() and np.isnan(b[6])
    with pytest.raises(ValueError, match=r"samples \[2, 6\]"):
        interpolating_network(X, np.ones(7))
    # all samples equal
    U, b, dist = hull_neurons(np.ones((4, 3)))
    assert np.all(dist == 0) and np.isnan(U).all()


def test_two_samples_and_one_dimension():
    U, b, dist = hull_neurons([[1.0], [3.5]])
    np.testing.assert_allclose(dist, [2.5, 2.5])
    np.testing.assert_allclose(U, [[-1.0, 1.0]])
    np.testing.assert_allclose(b, [3.5, -1.0])  # (3.5 - x)_+ and (x - 1)_+: kink at the other
    net = interpolating_network([[1.0], [3.5]], [2.0, -1.0])
    np.testing.assert_allclose(net.predict([[1.0], [3.5]]), [2.0, -1.0])
    # 1-D data: only the two extremes are vertices (Lemma 2.6 kinks at samples)
    x = np.array([[0.3], [-2.0], [1.7], [0.0]])
    _, _, dist = hull_neurons(x)
    np.testing.assert_allclose(dist, [0.0, 2.0, 1.4, 0.0])


def test_rank_deficient_data():
    rng = np.random.default_rng(13)
    Z = rng.standard_normal((30, 3))
    Q, _ = np.linalg.qr(rng.standard_normal((10, 3)))
    X = Z @ Q.T + 2.0  # rank-3 affine subspace of R^10
    _, _, dist = hull_neurons(X)
    _, _, dist_z = hull_neurons(Z)  # isometric copy
    np.testing.assert_array_equal(dist == 0, dist_z == 0)
    np.testing.assert_allclose(dist, dist_z, rtol=1e-9, atol=1e-12)


def test_input_conversion():
    X = [[0, 0], [2, 0], [0, 2], [1, 1]]  # list of ints: (1, 1) is on an edge
    _, _, dist = hull_neurons(X)
    np.testing.assert_allclose(dist, [np.sqrt(2), np.sqrt(2), np.sqrt(2), 0.0])
    Xf = np.asfortranarray(np.random.default_rng(0).standard_normal((10, 4)))
    np.testing.assert_array_equal(hull_neurons(Xf)[2], hull_neurons(np.ascontiguousarray(Xf))[2])
    np.testing.assert_array_equal(hull_neurons(Xf.astype(np.float32))[2] > 0,
                                  hull_neurons(Xf)[2] > 0)


@pytest.mark.parametrize(
    "X, match",
    [
        (np.ones((1, 3)), "at least 2 samples"),
        (np.ones(3), "2-dimensional"),
        (np.ones((2, 2, 2)), "2-dimensional"),
        (np.zeros((0, 3)), "non-empty"),
        (np.array([[0.0, 1.0], [np.nan, 0.0]]), "NaN or inf"),
        (np.array([[0.0, 1.0], [np.inf, 0.0]]), "NaN or inf"),
        ([["a", "b"], ["c", "d"]], "real numeric"),
        (None, "None"),
    ],
)
def test_bad_input(X, match):
    with pytest.raises(ValueError, match=match):
        hull_neurons(X)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(T=np.ones((2, 4))), "T must have 3 columns"),
        (dict(subsets=[[0], [1]], exclude=[0, 1]), "either subsets or exclude"),
        (dict(subsets=[[0], []]), r"subsets\[1\] is empty"),
        (dict(subsets=[[0], [5]]), "outside"),
        (dict(subsets=[[0]]), "one entry per target"),
        (dict(subsets=[[0.5], [1]]), "integer indices"),
        (dict(subsets=np.ones((2, 4), dtype=bool)), "shape"),
        (dict(subsets=np.ones((2, 5))), "boolean"),
        (dict(subsets=[np.ones(4, dtype=bool), [1]]), "length 4"),
        (dict(subsets=3), "sequence"),
        (dict(exclude=[0]), "shape"),
        (dict(exclude=[0, 7]), "-1 or point indices"),
        (dict(tol=-1.0), "tol"),
        (dict(zero_tol=np.nan), "zero_tol"),
        (dict(max_iter=0), "max_iter"),
        (dict(n_jobs=0), "n_jobs"),
        (dict(gram="yes"), "gram"),
        (dict(working_set=-1), "working_set"),
    ],
)
def test_min_norm_points_bad_arguments(kwargs, match):
    P = np.arange(15.0).reshape(5, 3) ** 1.5
    T = kwargs.pop("T", P[:2] + 0.1)
    with pytest.raises(ValueError, match=match):
        min_norm_points(P, T, **kwargs)


def test_core_validates_too():
    P = np.ones((3, 2))
    with pytest.raises(ValueError, match="strictly increasing"):
        _core.min_norm_points(P, P[:1], indptr=np.array([0, 2]), indices=np.array([1, 0]))
    with pytest.raises(ValueError, match="no candidate"):
        _core.min_norm_points(P[:1], P[:1], exclude=np.array([0]))
    with pytest.raises(ValueError, match="NaN"):
        _core.hull_neurons(np.array([[0.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="at least 2"):
        _core.hull_neurons(np.ones((1, 2)))


def test_public_exports():
    assert fcr.hull_neurons is hull_neurons
    assert fcr.interpolating_network is interpolating_network
    assert "hull_neurons" in fcr.__all__ and "interpolating_network" in fcr.__all__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hull_neurons(np.eye(3))
