"""Tests of the cone projection (Lawson-Hanson NNLS) and the spike-free oracle (15)."""

import sys
import warnings

import numpy as np
import pytest

import fastconvexrelu as fcr
from fastconvexrelu import ConvergenceWarning, _core
from fastconvexrelu.spike_free_oracle import (
    ConeProjection,
    ConeProjectionBatch,
    SpikeFreeOracle,
    spike_free_oracle_columnwise,
)

cp = pytest.importorskip("cvxpy")


def clarabel_solve(prob):
    """Solve with tight Clarabel tolerances (relaxed step by step if Clarabel gives up)."""
    for tol in (1e-11, 1e-10, 1e-9):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "inaccurate": retried with a looser tolerance
                prob.solve(solver="CLARABEL", tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol)
        except cp.error.SolverError:
            continue
        if prob.status == "optimal":
            return prob.value
    raise RuntimeError("Clarabel failed on a reference problem")


def cvxpy_projection(A, g):
    u = cp.Variable(A.shape[1])
    clarabel_solve(cp.Problem(cp.Minimize(0.5 * cp.sum_squares(u - g)), [A @ u >= 0]))
    return u.value


def cvxpy_socp(X, v, sense):
    u = cp.Variable(X.shape[1])
    obj = (cp.Maximize if sense == "max" else cp.Minimize)(v @ (X @ u))
    return clarabel_solve(cp.Problem(obj, [X @ u >= 0, cp.norm(u, 2) <= 1]))


def make_A(rng, n, d, kind):
    A = rng.standard_normal((n, d))
    if kind == "shifted":  # data with a non-trivial cone {u : A u >= 0}
        A += 2.0
    elif kind == "duplicated":  # rank-deficient: duplicated rows and a zero row
        h = max(1, n // 2)
        A[h:] = A[: n - h]
        A[0] = 0.0
    elif kind == "neardup":  # rows duplicated up to 1e-9: numerically dependent, not exactly
        h = max(1, n // 2)
        A[h:] = A[: n - h] + 1e-9 * rng.standard_normal((n - h, d))
    elif kind == "lowrank":  # rank 3 with duplicates of rows scaled
        A = rng.standard_normal((n, 3)) @ rng.standard_normal((3, d))
        A[-1] = 2.5 * A[0]
    return A


def check_kkt(A, g, r, rtol=1e-11):
    scale = max(np.linalg.norm(g), 1e-300) * np.abs(A).max()
    assert r.converged, r.message
    assert r.min_Au >= -rtol * scale
    assert np.min(A @ r.u) >= -rtol * scale
    lam_scale = max(1.0, float(np.max(r.lam)))
    assert r.complementarity <= rtol * scale * lam_scale
    assert r.dual_infeasibility == 0.0 and np.all(r.lam >= 0)
    assert r.stationarity <= 1e-10 * max(1.0, np.linalg.norm(g)) * lam_scale
    np.testing.assert_allclose(
        r.u, g + A.T @ r.lam, atol=1e-10 * max(1.0, np.linalg.norm(g)) * lam_scale
    )
    assert np.all(r.lam[np.setdiff1d(np.arange(A.shape[0]), r.active_set)] == 0)
    assert np.all(r.lam[r.active_set] > 0)
    assert r.distance == pytest.approx(np.linalg.norm(r.u - g), rel=1e-12, abs=1e-14)


SHAPES = [(5, 3), (3, 5), (40, 10), (10, 40), (40, 40), (25, 8), (1, 4), (4, 1), (30, 2)]


KINDS = ["gauss", "shifted", "duplicated", "neardup", "lowrank"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n,d", SHAPES)
def test_matches_cvxpy(n, d, kind):
    rng = np.random.default_rng([n, d, KINDS.index(kind)])
    A = make_A(rng, n, d, kind)
    g = rng.standard_normal(d)
    r = fcr.cone_projection(A, g)
    assert isinstance(r, ConeProjection)
    check_kkt(A, g, r)
    u_ref = cvxpy_projection(A, g)
    scale = max(1.0, np.linalg.norm(g))
    np.testing.assert_allclose(r.u, u_ref, rtol=0, atol=1e-8 * scale)
    assert r.distance == pytest.approx(np.linalg.norm(u_ref - g), rel=1e-8, abs=1e-8 * scale)
    # the dual NNLS objective equals the primal at the optimum (no duality gap)
    assert 0.5 * np.linalg.norm(g + A.T @ r.lam) ** 2 == pytest.approx(
        0.5 * np.linalg.norm(r.u) ** 2, rel=1e-10, abs=1e-14
    )


def test_g_in_cone_is_returned_unchanged():
    rng = np.random.default_rng(1)
    A = np.abs(rng.standard_normal((30, 6)))
    g = np.abs(rng.standard_normal(6))  # A g > 0
    r = fcr.cone_projection(A, g)
    np.testing.assert_array_equal(r.u, g)
    assert r.n_iter == 0 and r.active_set.size == 0 and r.distance == 0.0 and np.all(r.lam == 0)


@pytest.mark.parametrize("n,d", [(30, 6), (4, 9), (9, 9)])
def test_g_in_polar_cone_projects_to_zero(n, d):
    rng = np.random.default_rng(2)
    A = rng.standard_normal((n, d))
    mu = np.abs(rng.standard_normal(n))
    g = -A.T @ mu  # in the polar cone {-A^T mu : mu >= 0}
    r = fcr.cone_projection(A, g)
    check_kkt(A, g, r)
    assert np.linalg.norm(r.u) <= 1e-12 * np.linalg.norm(g)
    assert r.distance == pytest.approx(np.linalg.norm(g), rel=1e-12)
    # the oracle: -X^T v in the polar cone means max v^T X u over the relaxation is 0
    o = fcr.spike_free_oracle(A, mu)
    assert o.value2 == 0.0 and np.all(o.u2 == 0)


def test_zero_g_and_trivial_cone():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((200, 5))  # many random half-spaces: C = {0}
    r = fcr.cone_projection(A, np.zeros(5))
    assert np.all(r.u == 0) and r.n_iter == 0 and r.converged
    g = rng.standard_normal(5)
    r = fcr.cone_projection(A, g)
    check_kkt(A, g, r)
    assert np.linalg.norm(r.u) <= 1e-13 * np.linalg.norm(g)


def test_duplicate_rows_give_independent_active_set():
    rng = np.random.default_rng(4)
    B = rng.standard_normal((6, 4))
    A = np.vstack([B, B, 3 * B, np.zeros((2, 4))])
    g = rng.standard_normal(4) - 2 * B.sum(axis=0)
    r = fcr.cone_projection(A, g)
    check_kkt(A, g, r)
    assert np.linalg.matrix_rank(A[r.active_set]) == r.active_set.size
    np.testing.assert_allclose(r.u, cvxpy_projection(A, g), atol=1e-8 * np.linalg.norm(g))


@pytest.mark.parametrize("seed", [13, 15, 16, 20])
def test_near_duplicate_rows_converge(seed):
    # rows equal up to 1e-9: skipped as numerically dependent; their residual violation is
    # bounded by dep_tol ||a_j|| ||u|| and reported in the message
    rng = np.random.default_rng(seed)
    n, d = 60, 30
    A = rng.standard_normal((n, d))
    A = np.vstack([A, A[: n // 2] + 1e-9 * rng.standard_normal((n // 2, d))])
    g = rng.standard_normal(d)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = fcr.cone_projection(A, g)
    assert r.converged and "numerically dependent" in r.message
    rn = np.linalg.norm(A, axis=1)
    assert np.min(A @ r.u / rn) >= -3e-10 * np.linalg.norm(g)
    np.testing.assert_allclose(r.u, cvxpy_projection(A, g), atol=1e-8 * np.linalg.norm(g))


# ------------------------------------------------------------------------ warm start
@pytest.mark.parametrize("n,d", [(60, 15), (15, 40), (400, 20)])
def test_warm_start_same_result_fewer_iterations(n, d):
    rng = np.random.default_rng(5)
    A = rng.standard_normal((n, d)) + 1.0
    g = rng.standard_normal(d)
    cold = fcr.cone_projection(A, g)
    assert np.linalg.norm(cold.u) > 0.1  # non-trivial projection: unique multipliers
    assert cold.n_iter > 0
    for ws in (cold, cold.active_set, cold.lam, cold.lam > 0):
        warm = fcr.cone_projection(A, g, warm_start=ws)
        np.testing.assert_allclose(warm.u, cold.u, rtol=0, atol=1e-13 * np.linalg.norm(g))
        np.testing.assert_array_equal(warm.active_set, cold.active_set)
        assert warm.n_iter == 0 < cold.n_iter
    # a nearby g (next cutting-plane iteration): identical to the cold start, fewer steps
    g2 = g + 1e-3 * rng.standard_normal(d)
    cold2 = fcr.cone_projection(A, g2)
    warm2 = fcr.cone_projection(A, g2, warm_start=cold)
    np.testing.assert_allclose(warm2.u, cold2.u, rtol=0, atol=1e-12 * np.linalg.norm(g2))
    np.testing.assert_array_equal(warm2.active_set, cold2.active_set)
    assert warm2.n_iter < cold2.n_iter


def test_bad_warm_start_still_correct():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((50, 12))
    g = rng.standard_normal(12)
    cold = fcr.cone_projection(A, g)
    junk = rng.choice(50, size=30, replace=False)  # more rows than d, mostly wrong
    warm = fcr.cone_projection(A, g, warm_start=junk)
    check_kkt(A, g, warm)
    np.testing.assert_allclose(warm.u, cold.u, atol=1e-12 * np.linalg.norm(g))


def test_oracle_warm_start():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((300, 20)) + 0.5
    v = rng.standard_normal(300)
    first = fcr.spike_free_oracle(X, v)
    again = fcr.spike_free_oracle(X, v, warm_start=first)
    assert again.plus.n_iter == 0 and again.minus.n_iter == 0
    for a, b in zip(first, again):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-13)
    v2 = v + 1e-3 * rng.standard_normal(300)
    cold = fcr.spike_free_oracle(X, v2)
    warm = fcr.spike_free_oracle(X, v2, warm_start=(first.plus.active_set, first.minus.active_set))
    for a, b in zip(cold, warm):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assert warm.plus.n_iter + warm.minus.n_iter < cold.plus.n_iter + cold.minus.n_iter


# ------------------------------------------------------------------------ batch
def test_batch_equals_loop_and_is_thread_independent():
    rng = np.random.default_rng(8)
    A = rng.standard_normal((80, 12)) + 0.2
    G = rng.standard_normal((17, 12))
    b2 = fcr.cone_projection(A, G, n_threads=2)
    b1 = fcr.cone_projection(A, G, n_threads=1)
    assert isinstance(b2, ConeProjectionBatch) and len(b2) == 17 and b2.all_converged
    np.testing.assert_array_equal(b1.u, b2.u)
    np.testing.assert_array_equal(b1.lam, b2.lam)
    for i in range(17):
        single = fcr.cone_projection(A, G[i])
        np.testing.assert_array_equal(b2.u[i], single.u)
        np.testing.assert_array_equal(b2[i].active_set, single.active_set)
        assert b2[i].n_iter == single.n_iter
    # per-row warm starts from the batch itself: zero steps
    again = fcr.cone_projection(A, G, warm_start=b2)
    assert np.all(again.n_iter == 0)
    np.testing.assert_allclose(again.u, b2.u, atol=1e-13)


# ------------------------------------------------------------------------ OSQP backend
@pytest.mark.parametrize("n,d,kind", [(30, 8, "gauss"), (8, 20, "shifted"), (40, 10, "duplicated")])
def test_osqp_backend_agrees(n, d, kind):
    pytest.importorskip("osqp")
    rng = np.random.default_rng(9)
    A = make_A(rng, n, d, kind)
    G = rng.standard_normal((3, d))
    ours = fcr.cone_projection(A, G)
    theirs = fcr.cone_projection(A, G, backend="osqp")
    assert theirs.backend == "osqp" and theirs.all_converged
    np.testing.assert_allclose(theirs.u, ours.u, atol=1e-6 * np.linalg.norm(G, axis=1).max())
    np.testing.assert_allclose(
        theirs.distance, ours.distance, atol=1e-6 * np.linalg.norm(G, axis=1).max()
    )
    # multipliers agree where they are unique (independent active rows)
    if kind != "duplicated" and n <= d:
        np.testing.assert_allclose(theirs.lam, ours.lam, atol=1e-5)
    v = rng.standard_normal(n)
    o1 = fcr.spike_free_oracle(A, v)
    o2 = fcr.spike_free_oracle(A, v, backend="osqp")
    assert o2.value1 == pytest.approx(o1.value1, abs=1e-6 * max(1.0, o1.value1))
    assert o2.value2 == pytest.approx(o1.value2, abs=1e-6 * max(1.0, -o1.value2))


def test_osqp_missing_gives_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "osqp", None)
    with pytest.raises(ImportError, match=r"osqp.*fastconvexrelu\[osqp\]"):
        fcr.cone_projection(np.eye(3), np.ones(3), backend="osqp")


# ------------------------------------------------------------------------ spike-free oracle
@pytest.mark.parametrize(
    "n,d,shift", [(20, 5, 0.0), (20, 5, 1.0), (6, 15, 0.0), (40, 12, 0.5), (30, 30, 0.3)]
)
def test_oracle_matches_socp(n, d, shift):
    rng = np.random.default_rng(10 + n + d)
    X = rng.standard_normal((n, d)) + shift
    v = rng.standard_normal(n)
    res = fcr.spike_free_oracle(X, v)
    assert isinstance(res, SpikeFreeOracle) and res.converged
    u1, value1, u2, value2 = res
    assert value1 >= 0 >= value2
    assert value1 == pytest.approx(cvxpy_socp(X, v, "max"), abs=1e-8 * max(1.0, value1))
    assert value2 == pytest.approx(cvxpy_socp(X, v, "min"), abs=1e-8 * max(1.0, -value2))
    for u, val in ((u1, value1), (u2, value2)):
        if val == 0:
            assert np.all(u == 0)
            continue
        assert np.linalg.norm(u) == pytest.approx(1.0, abs=1e-12)
        assert np.min(X @ u) >= -1e-12 * np.abs(X).max()
        assert v @ X @ u == pytest.approx(val, rel=1e-10)


def test_oracle_whitened_data_closed_form():
    # X X^T = I (n <= d, spike-free, Lemma 2.4): max = ||(v)_+||, min = -||(v)_-||,
    # u1 = X^T (v)_+ / ||(v)_+||, u2 = X^T (v)_- / ||(v)_-||
    rng = np.random.default_rng(11)
    Q, _ = np.linalg.qr(rng.standard_normal((12, 7)))
    X = Q.T  # (7, 12), orthonormal rows
    v = rng.standard_normal(7)
    u1, value1, u2, value2 = fcr.spike_free_oracle(X, v)
    vp, vm = np.maximum(v, 0), np.maximum(-v, 0)
    assert value1 == pytest.approx(np.linalg.norm(vp), rel=1e-13)
    assert value2 == pytest.approx(-np.linalg.norm(vm), rel=1e-13)
    np.testing.assert_allclose(u1, X.T @ vp / np.linalg.norm(vp), atol=1e-13)
    np.testing.assert_allclose(u2, X.T @ vm / np.linalg.norm(vm), atol=1e-13)


def test_oracle_columnwise_A73():
    rng = np.random.default_rng(12)
    X = rng.standard_normal((25, 6)) + 0.7
    V = rng.standard_normal((25, 4))
    res = spike_free_oracle_columnwise(X, V)
    assert res.converged and res.U_max.shape == (6, 4) and res.values_max.shape == (4,)
    for k in range(4):
        single = fcr.spike_free_oracle(X, V[:, k])
        assert res.values_max[k] == pytest.approx(single.value1, rel=1e-13, abs=1e-15)
        assert res.values_min[k] == pytest.approx(single.value2, rel=1e-13, abs=1e-15)
        np.testing.assert_allclose(res.U_max[:, k], single.u1, atol=1e-13)
    assert res.k_max == int(np.argmax(res.values_max)) and res.value1 == res.values_max.max()
    assert res.k_min == int(np.argmin(res.values_min)) and res.value2 == res.values_min.min()
    np.testing.assert_array_equal(res.u1, res.U_max[:, res.k_max])
    # ||V^T X u|| >= |v_k^T X u|: the selected neurons give lower bounds on (50)
    assert res.norm1 == pytest.approx(np.linalg.norm(V.T @ X @ res.u1), rel=1e-12)
    assert res.norm1 >= res.value1 - 1e-12 and res.norm2 >= -res.value2 - 1e-12
    again = spike_free_oracle_columnwise(X, V, warm_start=res)
    assert np.all(again.plus.n_iter == 0) and np.all(again.minus.n_iter == 0)
    pytest.importorskip("osqp")
    osqp_res = spike_free_oracle_columnwise(X, V, backend="osqp")
    np.testing.assert_allclose(osqp_res.values_max, res.values_max, atol=1e-6)
    np.testing.assert_allclose(osqp_res.values_min, res.values_min, atol=1e-6)


# ------------------------------------------------------------------------ status / errors
def test_iteration_cap_reports_not_converged():
    rng = np.random.default_rng(13)
    A = rng.standard_normal((100, 20))
    g = rng.standard_normal(20)
    with pytest.warns(ConvergenceWarning):
        r = fcr.cone_projection(A, g, max_iter=2)
    assert not r.converged and "max_iter=2" in r.message
    assert r.min_Au < 0  # honest: not feasible yet
    full = fcr.cone_projection(A, g)
    assert full.converged and "converged" in full.message


def test_core_errors_are_value_errors():
    with pytest.raises(ValueError, match="g has length"):
        _core.cone_projection(np.eye(3), np.ones(2))
    with pytest.raises(ValueError, match="warm_start"):
        _core.cone_projection(np.eye(3), np.ones(3), warm_start=[5])
    with pytest.raises(ValueError, match="A contains NaN"):
        _core.cone_projection(np.array([[np.nan, 1.0]]), np.ones(2))


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: fcr.cone_projection([[1.0, np.nan]], [1.0, 2.0]), "A"),
        (lambda: fcr.cone_projection(np.eye(2), [1.0, np.inf]), "g"),
        (lambda: fcr.cone_projection(np.eye(2), [1.0, 2.0, 3.0]), "g"),
        (lambda: fcr.cone_projection(np.zeros((0, 2)), [1.0, 2.0]), "A"),
        (lambda: fcr.cone_projection(np.eye(2), []), "g"),
        (lambda: fcr.cone_projection(np.ones(3), [1.0]), "A"),
        (lambda: fcr.cone_projection(np.eye(2), np.ones((2, 2, 2))), "g"),
        (lambda: fcr.cone_projection(np.eye(2), [1.0, 1.0], backend="mosek"), "backend"),
        (lambda: fcr.cone_projection(np.eye(2), [1.0, 1.0], tol=-1), "tol"),
        (lambda: fcr.cone_projection(np.eye(2), [1.0, 1.0], max_iter=0), "max_iter"),
        (lambda: fcr.cone_projection(np.eye(2), [1.0, 1.0], n_threads=0), "n_threads"),
        (lambda: fcr.cone_projection(np.eye(2), [1.0, 1.0], warm_start=[7]), "warm_start"),
        (lambda: fcr.cone_projection(np.eye(2), [1.0, 1.0], warm_start=[0.5]), "warm_start"),
        (
            lambda: fcr.cone_projection(np.eye(2), np.ones((3, 2)), warm_start=[[0], [1]]),
            "warm_start",
        ),
        (lambda: fcr.spike_free_oracle(np.eye(2), [1.0, 2.0, 3.0]), "v"),
        (lambda: fcr.spike_free_oracle(np.eye(2), [1.0, np.nan]), "v"),
        (lambda: fcr.spike_free_oracle([[np.nan, 1.0]], [1.0]), "X"),
        (lambda: fcr.spike_free_oracle(np.eye(2), np.ones((2, 2))), "v"),
        (lambda: fcr.spike_free_oracle(np.eye(2), []), "v"),
        (lambda: fcr.spike_free_oracle(np.eye(2), [1.0, 1.0], zero_tol=np.nan), "zero_tol"),
        (lambda: fcr.spike_free_oracle(np.eye(2), [1.0, 1.0], warm_start="x"), "warm_start"),
        (lambda: spike_free_oracle_columnwise(np.eye(2), np.ones((3, 2))), "V"),
        (lambda: spike_free_oracle_columnwise(np.eye(2), np.ones((2, 0))), "V"),
    ],
)
def test_bad_input_names_argument(call, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        call()


def test_public_api():
    assert fcr.cone_projection is not None and "cone_projection" in fcr.__all__
    assert "spike_free_oracle" in fcr.__all__
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # converged runs emit no warning
        fcr.spike_free_oracle(np.eye(3), np.array([1.0, -1.0, 0.5]))
