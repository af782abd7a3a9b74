"""Whitening (Lemma 2.4), the closed-form networks (Lemma 3.1, Lemma 2 of A.7) and the
l0-l1 equivalence condition (Lemma 3.2), checked against independent computations and an
exact CVXPY reference of the minimum-norm problem (4)."""

import itertools

import numpy as np
import pytest

import fastconvexrelu as fcr


def orthonormal_rows(rng, n, d):
    U, _, Vt = np.linalg.svd(rng.standard_normal((n, d)), full_matrices=False)
    return U @ Vt


def signed_target(rng, n):
    y = rng.standard_normal(n)
    y[0], y[1] = abs(y[0]) + 0.1, -abs(y[1]) - 0.1  # both signs
    return y


def cvxpy_min_norm(A, y):
    """Exact value of (4) (no bias) for small n: the convex program over all 2^n activation
    patterns, min sum_S ||v_S|| + ||w_S|| s.t. sum_S D_S A (v_S - w_S) = y,
    (2 D_S - I) A v_S >= 0, (2 D_S - I) A w_S >= 0 (every pattern gives valid neurons and
    the patterns cover R^d, so this is exactly (4))."""
    cp = pytest.importorskip("cvxpy")
    n, d = A.shape
    cons, obj, f = [], 0, 0
    for p in itertools.product([0.0, 1.0], repeat=n):
        p = np.array(p)
        G = (2 * p - 1)[:, None] * A
        v, w = cp.Variable(d), cp.Variable(d)
        cons += [G @ v >= 0, G @ w >= 0]
        obj += cp.norm(v) + cp.norm(w)
        f = f + (p[:, None] * A) @ (v - w)
    prob = cp.Problem(cp.Minimize(obj), cons + [f == y])
    prob.solve(solver=cp.CLARABEL)
    assert prob.status == cp.OPTIMAL
    return float(prob.value)


# ------------------------------------------------------------------------ whitening
@pytest.mark.parametrize("kind", ["zca", "paper"])
def test_whiten_gives_identity_gram_for_n_le_d(kind):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 7)) * [1, 10, 0.1, 3, 1, 1, 2]
    Xw, T = fcr.whiten(X, kind=kind, return_transform=True)
    np.testing.assert_allclose(Xw @ Xw.T, np.eye(4), atol=1e-12)
    np.testing.assert_allclose(X @ T, Xw, atol=1e-12)
    assert Xw.shape == ((4, 7) if kind == "zca" else (4, 4))


def test_whiten_zca_is_U_Vt_and_paper_is_U():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 5))
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    np.testing.assert_allclose(fcr.whiten(X), U @ Vt, atol=1e-12)
    np.testing.assert_allclose(fcr.whiten(X, kind="paper"), U, atol=1e-12)
    np.testing.assert_allclose(fcr.whiten(X, kind="paper", return_transform=True)[1], Vt.T / s)


def test_whiten_n_gt_d_and_rank_deficient():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((8, 3))
    Xp = fcr.whiten(X, kind="paper")
    np.testing.assert_allclose(Xp.T @ Xp, np.eye(3), atol=1e-12)  # A~^T A~ = I_r
    Xz = fcr.whiten(X)
    np.testing.assert_allclose(Xz.T @ Xz, np.eye(3), atol=1e-12)  # rank d: V V^T = I_d
    # rank 2 with n <= d: singular values below eps * s_max are dropped
    R = rng.standard_normal((3, 2)) @ rng.standard_normal((2, 6))
    Rw = fcr.whiten(R)
    assert np.linalg.matrix_rank(Rw) == 2
    G = Rw @ Rw.T
    np.testing.assert_allclose(G @ G, G, atol=1e-10)  # projection, not I
    assert fcr.whiten(R, kind="paper").shape == (3, 2)
    assert fcr.whiten(np.diag([1.0, 1e-3, 0.0]), kind="paper", eps=1e-2).shape == (3, 1)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(X=[[1.0, np.nan]]), "X contains NaN"),
        (dict(X=[[1.0, np.inf]]), "X contains infinity"),
        (dict(X=[1.0, 2.0]), "X must be a 2-D"),
        (dict(X=np.zeros((0, 3))), "X is empty"),
        (dict(X=np.zeros((2, 3))), "X is zero"),
        (dict(X=np.eye(2), kind="pca"), "kind must be"),
        (dict(X=np.eye(2), eps=-1.0), "eps must be"),
        (dict(X=np.eye(2), eps=np.nan), "eps must be"),
    ],
)
def test_whiten_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fcr.whiten(**kwargs)


# ---------------------------------------------------------------------- closed form
def test_closed_form_interpolates_and_value_matches_independent_formula():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((5, 8))
    y = signed_target(rng, 5)
    net = fcr.closed_form_network(A, y)
    assert net.hidden_weights.shape == (8, 2) and net.output_weights.shape == (2,)
    np.testing.assert_allclose(np.linalg.norm(net.hidden_weights, axis=0), 1.0, rtol=1e-14)
    np.testing.assert_allclose(net.predict(A), y, atol=1e-12)
    assert net.max_abs_residual < 1e-12
    # independent pseudo-inverse A^T (A A^T)^{-1}
    Ap = A.T @ np.linalg.inv(A @ A.T)
    p, q = Ap @ np.maximum(y, 0), Ap @ np.maximum(-y, 0)
    np.testing.assert_allclose(net.objective, np.linalg.norm(p) + np.linalg.norm(q), rtol=1e-12)
    np.testing.assert_allclose(net.output_weights, [np.linalg.norm(p), -np.linalg.norm(q)])
    np.testing.assert_allclose(net.hidden_weights[:, 0], p / np.linalg.norm(p), atol=1e-12)
    # the library's own objective of this network (beta = 0: min-norm problem) agrees
    J = fcr.network_objective(
        A, y, net.hidden_weights, None, net.output_weights, None, 0.0, "squared"
    )
    np.testing.assert_allclose(J, net.objective, rtol=1e-12)


def test_closed_form_is_optimal_on_whitened_data_vs_cvxpy():
    rng = np.random.default_rng(4)
    A = fcr.whiten(rng.standard_normal((4, 6)))
    y = signed_target(rng, 4)
    net = fcr.closed_form_network(A, y)
    # whitened: ||A^+ (y)_+|| = ||(y)_+|| (Lemma 3.2's proof)
    expected = np.linalg.norm(np.maximum(y, 0)) + np.linalg.norm(np.maximum(-y, 0))
    np.testing.assert_allclose(net.objective, expected, rtol=1e-12)
    np.testing.assert_allclose(net.objective, cvxpy_min_norm(A, y), rtol=1e-6)


def test_closed_form_vector_one_hot():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((6, 9))
    Y = np.eye(3)[[0, 1, 2, 0, 2, 1]]
    net = fcr.closed_form_network(A, Y)
    assert net.hidden_weights.shape == (9, 3) and net.output_weights.shape == (3, 3)
    np.testing.assert_allclose(net.predict(A), Y, atol=1e-12)
    Ap = np.linalg.pinv(A)
    np.testing.assert_allclose(net.objective, np.linalg.norm(Ap @ Y, axis=0).sum(), rtol=1e-10)
    np.testing.assert_allclose(np.diag(net.output_weights), np.linalg.norm(Ap @ Y, axis=0))


@pytest.mark.parametrize(
    "X, y, match",
    [
        (np.ones((3, 2)), [1.0, -1.0, 1.0], "n <= d"),
        (np.array([[1.0, 0, 0], [2.0, 0, 0]]), [1.0, -1.0], "full row rank"),
        (np.eye(3), [1.0, 2.0, 0.0], "both positive and negative"),
        (np.eye(3), [-1.0, -2.0, -3.0], "both positive and negative"),
        (np.eye(3), [[1.0, 0.0], [0.0, -1.0], [1.0, 0.0]], "non-negative"),
        (np.eye(3), [[1.0, 0.0], [0.0, 0.0], [1.0, 0.0]], "all-zero column"),
        (np.eye(3), [1.0, np.nan, -1.0], "y contains NaN"),
        (np.eye(3), [1.0, -1.0], "inconsistent numbers of samples"),
        ([[np.inf, 1.0]], [1.0], "X contains infinity"),
        (np.zeros((0, 2)), [], "X is empty"),
    ],
)
def test_closed_form_bad_input(X, y, match):
    with pytest.raises(ValueError, match=match):
        fcr.closed_form_network(X, y)


# --------------------------------------------------------------- l0-l1 equivalence
def test_l0_l1_whitened_is_certified_satisfied():
    rng = np.random.default_rng(6)
    A = fcr.whiten(rng.standard_normal((5, 7)))
    y = signed_target(rng, 5)
    res = fcr.l0_l1_equivalence(A, y)
    assert res.satisfied is True and res.certified and res.inner_exact
    assert res.upper_bound <= 1 + 1e-7 and res.lower_bound >= 1 - 1e-9
    v = res.certificate
    net = res.network
    # v is feasible for the equality constraints and certifies the value by weak duality
    Z = np.maximum(A @ net.hidden_weights, 0.0)
    np.testing.assert_allclose(v @ Z, [1.0, -1.0], atol=1e-9)
    np.testing.assert_allclose(v @ y, net.objective, rtol=1e-9)
    # |v^T (A u)_+| <= 1 on many random unit u (independent sampling)
    Uu = rng.standard_normal((20000, 7))
    Uu /= np.linalg.norm(Uu, axis=1, keepdims=True)
    assert np.max(np.abs(np.maximum(Uu @ A.T, 0.0) @ v)) <= 1 + 1e-7


@pytest.mark.parametrize("seed", [0, 2])
def test_l0_l1_decision_agrees_with_cvxpy(seed):
    """satisfied <=> the closed form attains the optimum of (4) (strong duality)."""
    rng = np.random.default_rng(seed)
    n, d = 4, 6
    W = fcr.whiten(rng.standard_normal((n, d)))
    y = signed_target(rng, n)
    cases = [
        np.diag(rng.uniform(0.5, 2.0, n)) @ W,  # scaled orthonormal rows: satisfied
        W + 0.3 * rng.standard_normal((n, d)),  # perturbed: violated
    ]
    decisions = []
    for A in cases:
        res = fcr.l0_l1_equivalence(A, y)
        assert res.certified and res.inner_exact and res.satisfied is not None
        assert res.lower_bound <= res.upper_bound + 1e-9
        closed = res.network.objective
        opt = cvxpy_min_norm(A, y)
        assert opt <= closed * (1 + 1e-6)
        if res.satisfied:
            np.testing.assert_allclose(closed, opt, rtol=1e-6)
        else:
            assert closed > opt * (1 + 1e-4)
            # v / g(v) is dual feasible for (12): opt >= v^T y / g(v) = closed / upper_bound
            assert opt >= closed / res.upper_bound * (1 - 1e-6)
        decisions.append(res.satisfied)
    assert decisions == [True, False]


def test_l0_l1_vector_and_inexact_inner():
    rng = np.random.default_rng(7)
    A = fcr.whiten(rng.standard_normal((4, 6)))
    Y = np.eye(2)[[0, 1, 1, 0]]
    res = fcr.l0_l1_equivalence(A, Y)
    assert res.satisfied is True and res.certified and res.certificate.shape == (4, 2)
    # tiny face budget: the inner max is only estimated -> not certified
    y = signed_target(rng, 4)
    res2 = fcr.l0_l1_equivalence(A, y, max_faces=1)
    assert not res2.inner_exact and "estimated from below" in res2.method
    assert res2.satisfied is True and res2.certified is False


def test_l0_l1_bad_parameters():
    with pytest.raises(ValueError, match="tol"):
        fcr.l0_l1_equivalence(np.eye(2), [1.0, -1.0], tol=0.0)
    with pytest.raises(ValueError, match="max_iter"):
        fcr.l0_l1_equivalence(np.eye(2), [1.0, -1.0], max_iter=0)
    with pytest.raises(ValueError, match="n <= d"):
        fcr.l0_l1_equivalence(np.ones((3, 2)), [1.0, -1.0, 1.0])


def test_l0_l1_first_order_decision_and_zero_targets():
    rng = np.random.default_rng(0)
    W = fcr.whiten(rng.standard_normal((4, 6)))
    # a zero target entry: the dual vector is not pinned there; cutting planes from the
    # first-order start still certify the whitened and scaled-whitened cases
    y0 = np.array([1.0, -0.5, 0.0, 2.0])
    for A in (W, np.diag([0.5, 1.0, 2.0, 1.5]) @ W):
        res = fcr.l0_l1_equivalence(A, y0)
        assert res.satisfied is True and res.certified and res.upper_bound <= 1 + 1e-7
    # no zero entry: a violation is decided exactly by the unique first-order dual vector
    # even when the cutting planes get no iteration to raise the lower bound
    A = W + 0.05 * rng.standard_normal((4, 6))
    y = np.array([1.0, -0.5, 0.3, 2.0])
    quick = fcr.l0_l1_equivalence(A, y, max_iter=1)
    assert quick.satisfied is False and quick.certified and "first-order" in quick.method
    full = fcr.l0_l1_equivalence(A, y)
    assert full.satisfied is False and full.certified and full.lower_bound > 1
    assert full.network.objective > cvxpy_min_norm(A, y) * (1 + 1e-7)
