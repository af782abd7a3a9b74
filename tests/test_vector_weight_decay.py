"""Vector outputs with the weight-decay penalty (supplementary A.7, Lemma 1, (48)-(50)).

References: CVXPY + Clarabel group lassos over finite neuron dictionaries -- exact for 1-D data
(A.7.1 Corollary 1 / Theorem 1: the breakpoint neurons u = +-1, b = -u a_i suffice), an upper
bound on the global optimum for a dense dictionary in 2-D -- and the scalar arrangement solver
for one output.
"""

import math
import warnings

import numpy as np
import pytest

cp = pytest.importorskip("cvxpy")

from fastconvexrelu import ConvexReLUClassifier, ConvexReLURegressor, network_objective
from fastconvexrelu.certificates import weight_decay_dual_norm
from fastconvexrelu.vector_outputs import fit_weight_decay, group_lasso_master


def _cvx_group_lasso(Phi, Y, beta, loss="squared", intercept=True, delta=1.0):
    n, m = Phi.shape
    o = Y.shape[1]
    W = cp.Variable((m, o))
    c = cp.Variable(o) if intercept else None
    F = Phi @ W + (np.ones((n, 1)) @ cp.reshape(c, (1, o), order="C") if intercept else 0)
    if loss == "squared":
        L = 0.5 * cp.sum_squares(F - Y)
    elif loss == "huber":
        L = 0.5 * cp.sum(cp.huber(F - Y, delta))  # cvxpy huber = 2 * ours
    elif loss == "softmax":
        L = cp.sum(cp.log_sum_exp(F, axis=1)) - cp.sum(cp.multiply(Y, F))
    else:
        raise ValueError(loss)
    obj = L + beta * cp.sum(cp.norm(W, 2, axis=1))
    prob = cp.Problem(cp.Minimize(obj))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    return float(prob.value), W.value, (None if c is None else c.value)


def _dictionary_1d(a):
    # A.7.1, Corollary 1: u = +-1, b = -u a_i
    U = np.concatenate([np.ones_like(a), -np.ones_like(a)])
    b = np.concatenate([-a, a])
    return U[None, :], b


def _dictionary_2d(X, n_dirs=90):
    th = np.linspace(0, 2 * np.pi, n_dirs, endpoint=False)
    D = np.vstack([np.cos(th), np.sin(th)])  # (2, K)
    Us, bs = [], []
    for i in range(X.shape[0]):
        Us.append(D)
        bs.append(-(X[i] @ D))
    return np.hstack(Us), np.concatenate(bs)


def _features(X, U, b):
    return np.maximum(X @ U + b, 0.0)


# --------------------------------------------------------------------------- (a) 1-D, exact
@pytest.mark.parametrize("o,seed", [(2, 0), (3, 1)])
def test_1d_matches_breakpoint_dictionary(o, seed):
    rng = np.random.default_rng(seed)
    n = 14
    a = np.sort(rng.uniform(-2, 2, n))
    Y = np.column_stack([np.sin(2 * a + k) for k in range(o)]) + 0.1 * rng.standard_normal((n, o))
    beta = 0.05
    U, b = _dictionary_1d(a)
    J_ref, _, _ = _cvx_group_lasso(_features(a[:, None], U, b), Y, beta)
    res = fit_weight_decay(a[:, None], Y, beta=beta, tol=1e-9)
    assert res.patterns_exact
    assert math.isfinite(res.duality_gap)
    J = res.objective
    # our J is the network objective of the returned network
    J_net = network_objective(a[:, None], Y, res.hidden_weights, res.hidden_bias,
                              res.output_weights, res.intercept, beta, "squared", penalty="l2")
    assert J == pytest.approx(J_net, rel=1e-12)
    assert J == pytest.approx(J_ref, rel=1e-6)
    assert res.duality_gap >= J - J_ref - 1e-9 * J_ref
    assert res.duality_gap <= 1e-6 * J
    assert res.converged


def test_1d_estimator_default_is_weight_decay():
    rng = np.random.default_rng(3)
    n = 12
    a = np.sort(rng.uniform(-1, 1, n))
    Y = np.column_stack([np.abs(a), a**2 - 0.3]) + 0.05 * rng.standard_normal((n, 2))
    beta = 0.02
    U, b = _dictionary_1d(a)
    J_ref, _, _ = _cvx_group_lasso(_features(a[:, None], U, b), Y, beta)
    est = ConvexReLURegressor(beta=beta).fit(a[:, None], Y)
    assert est.penalty_ == "weight_decay"
    assert est.objective_ == pytest.approx(J_ref, rel=1e-6)
    assert est.duality_gap_ >= est.objective_ - J_ref - 1e-9
    assert est.predict(a[:, None]).shape == (n, 2)
    # the l1 fit solves a different problem: its weight-decay J is no better than ours
    l1 = ConvexReLURegressor(beta=beta, penalty="l1").fit(a[:, None], Y)
    J_l1_wd = network_objective(a[:, None], Y, l1.hidden_weights_, l1.hidden_bias_,
                                l1.output_weights_, l1.intercept_, beta, "squared", penalty="l2")
    assert J_l1_wd >= est.objective_ - est.duality_gap_ - 1e-9


def test_1d_huber():
    rng = np.random.default_rng(5)
    n = 12
    a = np.sort(rng.uniform(-2, 2, n))
    Y = np.column_stack([a, np.cos(a)]) + rng.standard_normal((n, 2))
    beta, delta = 0.1, 0.5
    U, b = _dictionary_1d(a)
    J_ref, _, _ = _cvx_group_lasso(_features(a[:, None], U, b), Y, beta, "huber", delta=delta)
    res = fit_weight_decay(a[:, None], Y, loss="huber", beta=beta, huber_delta=delta, tol=1e-9)
    assert res.objective == pytest.approx(J_ref, rel=1e-6)
    assert J_ref - 1e-9 * J_ref <= res.objective
    assert res.objective - J_ref <= res.duality_gap + 1e-9 * J_ref
    assert res.duality_gap <= 1e-5 * res.objective


# --------------------------------------------------------------------------- (b) o = 1
def test_single_output_matches_scalar_arrangements():
    from fastconvexrelu._solver_arrangements import fit_arrangements

    rng = np.random.default_rng(7)
    X = rng.standard_normal((10, 2))
    y = np.sin(X[:, 0]) + X[:, 1] ** 2
    beta = 0.05
    ref = fit_arrangements(X, y, loss="squared", beta=beta, bias=True, tol=1e-10,
                           max_iter=200000)
    assert ref.patterns_exact
    res = fit_weight_decay(X, y[:, None], beta=beta, tol=1e-9)
    assert res.objective == pytest.approx(ref.objective, rel=1e-6)
    # both certified: each gap bounds the distance to the common optimum
    assert res.objective - (ref.objective - ref.duality_gap) >= -1e-9
    assert res.objective - ref.objective <= res.duality_gap + 1e-9


# --------------------------------------------------------------------------- (c) 2-D
def _2d_problem(seed, n=9, o=2, beta=0.05):
    """Random 2-D data with o outputs and the optimum over a dense neuron dictionary (CVXPY),
    an upper bound on the global weight-decay optimum."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    Y = np.column_stack([np.tanh(X @ rng.standard_normal(2)) for _ in range(o)])
    Y += 0.1 * rng.standard_normal((n, o))
    U, b = _dictionary_2d(X)
    J_dict, _, _ = _cvx_group_lasso(_features(X, U, b), Y, beta)
    return X, Y, beta, J_dict


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_2d_certificate_against_dense_dictionary(seed):
    X, Y, beta, J_dict = _2d_problem(10 + seed)
    res = fit_weight_decay(X, Y, beta=beta, tol=1e-8)
    assert res.patterns_exact and math.isfinite(res.duality_gap)
    J, gap = res.objective, res.duality_gap
    # J_dict >= global optimum >= J - gap
    assert J - gap <= J_dict + 1e-8 * J_dict
    assert J_dict >= J - 1e-7 * J_dict
    assert gap <= 1e-4 * J


def test_dual_norm_bounds_random_neurons():
    rng = np.random.default_rng(4)
    n, o = 8, 3
    X = rng.standard_normal((n, 2))
    G = rng.standard_normal((n, o))
    G -= G.mean(axis=0)
    from fastconvexrelu.arrangement import enumerate_patterns

    pats = enumerate_patterns(X, bias=True)
    dn = weight_decay_dual_norm(X, G, pats.patterns, bias=True, rel_tol=1e-8, max_evals=2000)
    assert dn.lower <= dn.upper
    assert dn.upper <= dn.lower * (1 + 1e-6)
    # brute force: many random unit u and biases through the samples
    U = rng.standard_normal((2, 4000))
    U /= np.linalg.norm(U, axis=0)
    b = -np.einsum("ij,ji->i", X[rng.integers(0, n, 4000)], U) + 0.3 * rng.standard_normal(4000)
    vals = np.linalg.norm(G.T @ np.maximum(X @ U + b, 0.0), axis=0)
    assert vals.max() <= dn.upper
    assert vals.max() >= 0.9 * dn.upper  # the brute force gets close


# --------------------------------------------------------------------------- (d) master
def _master_problem(loss, seed):
    rng = np.random.default_rng(seed)
    n, m, o = 30, 12, 3
    X = rng.standard_normal((n, 3))
    U = rng.standard_normal((3, m))
    U /= np.linalg.norm(U, axis=0)
    Phi = _features(X, U, rng.standard_normal(m) * 0.5)
    Y = np.eye(o)[rng.integers(0, o, n)] if loss == "softmax" else rng.standard_normal((n, o))
    return Phi, Y


@pytest.mark.parametrize("method", ["bcd", "fista"])
@pytest.mark.parametrize("loss", ["squared", "huber", "softmax"])
@pytest.mark.parametrize("intercept", [True, False])
def test_master_against_cvxpy(loss, intercept, method):
    Phi, Y = _master_problem(loss, 21 if method == "bcd" else 22)
    beta = 0.3
    J_ref, _, _ = _cvx_group_lasso(Phi, Y, beta, loss, intercept)
    tol = 1e-11 if method == "bcd" else 1e-8  # KKT residual / relative gap
    ms = group_lasso_master(Phi, Y, loss=loss, beta=beta, intercept=intercept, tol=tol,
                            method=method)
    assert ms.converged
    assert ms.objective == pytest.approx(J_ref, rel=1e-7 if method == "bcd" else 1e-6, abs=1e-8)
    assert ms.gap >= ms.objective - J_ref - 1e-8  # the gap bounds the true suboptimality
    assert ms.gap <= (1e-7 if method == "bcd" else 1e-8) * max(1.0, ms.objective)
    if not intercept:
        assert np.all(ms.intercept == 0)


@pytest.mark.parametrize("loss", ["squared", "softmax"])
def test_fista_master_capped_says_so_and_keeps_a_true_gap(loss):
    Phi, Y = _master_problem(loss, 22)
    J_ref, _, _ = _cvx_group_lasso(Phi, Y, 0.3, loss, True)
    short = group_lasso_master(Phi, Y, loss=loss, beta=0.3, tol=1e-12, max_epochs=3,
                               method="fista")
    assert not short.converged
    assert short.gap >= short.objective - J_ref - 1e-9
    with pytest.raises(ValueError, match="method"):
        group_lasso_master(Phi, Y, loss=loss, beta=0.3, method="newton")


def test_ascent_oracle_keeps_the_certificate():
    # the batched ascent only FINDS neurons: on 2-D data the final certificate is still the
    # branch and bound over all patterns, so it bounds J - J* for the dense dictionary
    X, Y, beta, J_dict = _2d_problem(11)
    res = fit_weight_decay(X, Y, beta=beta, tol=1e-6, oracle="ascent", max_iter=60)
    assert res.patterns_exact and math.isfinite(res.duality_gap)
    assert res.objective - res.duality_gap <= J_dict + 1e-8 * J_dict
    assert res.objective <= 1.02 * J_dict  # and it gets close to the optimum
    with pytest.raises(ValueError, match="oracle"):
        fit_weight_decay(X, Y, beta=beta, oracle="exact")
    with pytest.raises(ValueError, match="max_new"):
        fit_weight_decay(X, Y, beta=beta, max_new=0)


def test_ascent_oracle_high_dimensional_softmax():
    # d = 60 > 50: "auto" takes the ascent oracle and the first-order master; the loss falls
    # far below the constant predictor's and the relaxation gap is reported (no certificate)
    rng = np.random.default_rng(5)
    n, d, K = 300, 60, 4
    X = rng.standard_normal((n, d))
    labels = np.argmax(np.maximum(X @ rng.standard_normal((d, 8)), 0) @ rng.standard_normal((8, K)),
                       axis=1)
    Y = np.eye(K)[labels]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_weight_decay(X, Y, loss="softmax", beta=1.0, max_iter=15, random_state=0)
    counts = np.bincount(labels)
    J0 = -float(np.sum(counts * np.log(counts / n)))  # the best constant predictor's loss
    assert not res.patterns_exact and res.duality_gap == math.inf
    assert math.isfinite(res.relaxation_gap) and res.relaxation_gap >= 0
    assert res.objective < 0.2 * J0
    assert res.hidden_weights.shape[1] >= 10
    F = np.maximum(X @ res.hidden_weights + res.hidden_bias, 0) @ res.output_weights + res.intercept
    assert np.mean(F.argmax(axis=1) == labels) > 0.9


# --------------------------------------------------------------------------- (e) bad input
def test_bad_input():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((10, 2))
    Y = rng.standard_normal((10, 2))
    Ybad = Y.copy()
    Ybad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"y\[:, 1\]"):
        ConvexReLURegressor(beta=0.1).fit(X, Ybad)
    with pytest.raises(ValueError, match=r"y\[:, 1\]"):
        fit_weight_decay(X, Ybad, beta=0.1)
    with pytest.raises(ValueError, match="samples"):
        fit_weight_decay(X, Y[:-1], beta=0.1)
    with pytest.raises(ValueError, match="one-hot"):
        fit_weight_decay(X, Y, loss="softmax", beta=0.1)
    with pytest.raises(ValueError, match="penalty"):
        ConvexReLURegressor(beta=0.1, penalty="l2x").fit(X, Y)
    with pytest.raises(ValueError, match="penalty"):
        ConvexReLURegressor(beta=0.1, penalty=None).fit(X, Y)
    labels = np.arange(10) % 3
    with pytest.raises(ValueError, match="penalty"):
        ConvexReLUClassifier(beta=0.1, loss="hinge", penalty="weight_decay").fit(X, labels)
    with pytest.raises(ValueError, match="loss"):
        fit_weight_decay(X, Y, loss="hinge", beta=0.1)
    with pytest.raises(ValueError, match="beta"):
        ConvexReLURegressor(beta=0.0).fit(X, Y)


def test_hinge_multiclass_auto_keeps_l1():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((9, 1))
    labels = np.arange(9) % 3
    est = ConvexReLUClassifier(beta=0.1, loss="hinge").fit(X, labels)
    assert est.penalty_ == "l1"
    assert est.solver_ == "arrangements"


# --------------------------------------------------------------------------- (f) softmax
def test_softmax_classifier_master_against_cvxpy():
    rng = np.random.default_rng(8)
    n, K = 12, 3
    X = rng.standard_normal((n, 2))
    labels = np.argmax(X @ rng.standard_normal((2, K)) + 0.3 * rng.standard_normal((n, K)), axis=1)
    labels[:K] = np.arange(K)
    beta = 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ConvexReLUClassifier(beta=beta, loss="logistic", penalty="weight_decay",
                                   tol=1e-7).fit(X, labels)
    assert est.penalty_ == "weight_decay"
    Y = np.eye(K)[np.searchsorted(est.classes_, labels)]
    Phi = _features(X, est.hidden_weights_, est.hidden_bias_)
    J_fixed, _, _ = _cvx_group_lasso(Phi, Y, beta, "softmax")
    # the master is optimal for its neurons (up to tolerance)
    assert est.objective_ == pytest.approx(J_fixed, rel=1e-6)
    # a denser dictionary cannot beat the certified lower bound
    U, b = _dictionary_2d(X, 48)
    J_dict, _, _ = _cvx_group_lasso(_features(X, U, b), Y, beta, "softmax")
    assert math.isfinite(est.duality_gap_)
    assert est.objective_ - est.duality_gap_ <= J_dict + 1e-7
    proba = est.predict_proba(X)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_not_converged_warns_and_gap_stays_a_bound(capsys):
    from fastconvexrelu import ConvergenceWarning

    rng = np.random.default_rng(11)
    n = 12
    a = np.sort(rng.uniform(-2, 2, n))
    Y = np.column_stack([np.sin(3 * a), np.cos(2 * a)])
    beta = 0.01
    U, b = _dictionary_1d(a)
    J_ref, _, _ = _cvx_group_lasso(_features(a[:, None], U, b), Y, beta)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        est = ConvexReLURegressor(beta=beta, max_iter=2, verbose=True).fit(a[:, None], Y)
    assert not est.converged_
    out = capsys.readouterr().out
    assert "weight decay" in out and "NOT converged" in out
    # an early stop is still certified: the gap bounds the true suboptimality
    assert math.isfinite(est.duality_gap_)
    assert est.duality_gap_ >= est.objective_ - J_ref - 1e-9 * J_ref
    assert est.objective_ > J_ref * (1 + 1e-6)


def test_no_bias_against_direction_dictionary():
    rng = np.random.default_rng(12)
    n, o = 10, 2
    X = rng.standard_normal((n, 2))
    Y = np.column_stack([np.maximum(X[:, 0], 0), np.abs(X[:, 1])]) + 0.05 * rng.standard_normal((n, o))
    beta = 0.05
    th = np.linspace(0, 2 * np.pi, 720, endpoint=False)
    U = np.vstack([np.cos(th), np.sin(th)])
    J_dict, _, _ = _cvx_group_lasso(_features(X, U, 0.0), Y, beta, intercept=False)
    res = fit_weight_decay(X, Y, beta=beta, bias=False, tol=1e-8)
    assert res.patterns_exact and math.isfinite(res.duality_gap)
    assert np.all(res.hidden_bias == 0) and np.all(res.intercept == 0)
    assert res.objective - res.duality_gap <= J_dict + 1e-8 * J_dict
    assert J_dict >= res.objective - 1e-7 * J_dict
    assert res.duality_gap <= 1e-5 * res.objective


# --------------------------------------------------------------------------- seeded start
@pytest.mark.parametrize("seed", [0, 1])
def test_seeded_start_keeps_the_certificate(seed):
    """n_seeds > 0 on an enumerable problem: the start changes, the certificate does not lie
    (checked against the dense-dictionary optimum as in the 2-D test above)."""
    X, Y, beta, J_dict = _2d_problem(30 + seed)
    res = fit_weight_decay(X, Y, beta=beta, tol=1e-8, n_seeds=2, random_state=seed)
    assert res.patterns_exact and math.isfinite(res.duality_gap)
    assert res.objective - res.duality_gap <= J_dict + 1e-8 * J_dict
    assert J_dict >= res.objective - 1e-7 * J_dict


def test_seeded_start_on_sampled_patterns_beats_the_seeds():
    """Sampled patterns (d = 6) with the seeded start: J is at most the best non-convex
    fit's J (the group-lasso combination over their neurons is a convex restriction and the
    column generation only adds neurons), scored with the weight-decay penalty."""
    from fastconvexrelu.nonconvex_seed import fit_nonconvex_seeds

    rng = np.random.default_rng(3)
    n, d, o = 80, 6, 3
    X = rng.standard_normal((n, d))
    Y = np.maximum(X @ rng.standard_normal((d, o)), 0) + 0.1 * rng.standard_normal((n, o))
    beta = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = fit_weight_decay(X, Y, beta=beta, tol=1e-6, max_iter=2, n_patterns=50, random_state=1,
                               n_seeds=4)
    fits = fit_nonconvex_seeds(X, Y, beta=beta, n_seeds=4, max_iter=250, adam_iter=250,
                               random_state=np.random.default_rng(1))
    assert not res.patterns_exact and math.isinf(res.duality_gap)
    J = network_objective(X, Y, res.hidden_weights, res.hidden_bias, res.output_weights,
                          res.intercept, beta, "squared", penalty="weight_decay")
    assert J == pytest.approx(res.objective, rel=1e-9)
    assert res.objective <= fits[0].objective * (1 + 1e-6)


def test_vector_seed_fits_softmax_and_scoring():
    from fastconvexrelu.nonconvex_seed import fit_nonconvex_seeds, refine_network

    rng = np.random.default_rng(4)
    n, d = 60, 3
    X = rng.standard_normal((n, d))
    labels = np.argmax(X @ rng.standard_normal((d, 3)), axis=1)
    Y = np.eye(3)[labels]
    fits = fit_nonconvex_seeds(X, Y, beta=0.2, loss="softmax", n_seeds=2, width=10, max_iter=100,
                               adam_iter=50, random_state=0)
    for f in fits:
        assert f.output_weights.shape == (f.hidden_weights.shape[1], 3) and f.intercept.shape == (3,)
        # rebalanced: ||w_j|| = ||u_j||
        np.testing.assert_allclose(np.linalg.norm(f.output_weights, axis=1),
                                   np.linalg.norm(f.hidden_weights, axis=0), rtol=1e-10)
        J = network_objective(X, Y, f.hidden_weights, f.hidden_bias, f.output_weights, f.intercept,
                              0.2, "softmax", penalty="weight_decay")
        assert J == pytest.approx(f.objective, rel=1e-12)
    ref = refine_network(X, Y, fits[0].hidden_weights, fits[0].hidden_bias, fits[0].output_weights,
                         fits[0].intercept, beta=0.2, loss="softmax", max_iter=100)
    assert ref.objective <= fits[0].objective + 1e-12
    with pytest.raises(ValueError, match="softmax"):
        fit_nonconvex_seeds(X, labels.astype(float), beta=0.2, loss="softmax")
    with pytest.raises(ValueError, match="scalar labels"):
        fit_nonconvex_seeds(X, Y, beta=0.2, loss="logistic")


@pytest.mark.parametrize("loss", ["squared", "softmax"])
def test_fista_master_float32_features(loss, monkeypatch):
    # large masters at tol >= 1e-4 iterate on float32 features; the result is re-evaluated in
    # float64: its objective is the exact one of (W, c), its gap a true bound, and it matches
    # the float64 iterations and CVXPY to the tolerance
    import fastconvexrelu.vector_outputs as vo
    from fastconvexrelu import _core

    Phi, Y = _master_problem(loss, 22)
    J_ref, _, _ = _cvx_group_lasso(Phi, Y, 0.3, loss, True)
    f64 = group_lasso_master(Phi, Y, loss=loss, beta=0.3, tol=1e-4, method="fista")
    monkeypatch.setattr(vo, "_FLOAT32_ENTRIES", 1)
    calls = []
    real = _core.group_lasso_fista
    monkeypatch.setattr(vo._core, "group_lasso_fista",
                        lambda P, *a, **k: calls.append(P.dtype) or real(P, *a, **k))
    f32 = group_lasso_master(Phi, Y, loss=loss, beta=0.3, tol=1e-4, method="fista")
    assert np.float32 in calls and calls[-1] == np.float64  # float iterations, float64 result
    assert f32.converged and f32.gap <= 1e-4 * max(1.0, f32.objective)
    F = Phi @ f32.output_weights + f32.intercept
    L = 0.5 * np.sum((F - Y) ** 2) if loss == "squared" else float(
        np.sum(np.log(np.exp(F - F.max(1, keepdims=True)).sum(1)) + F.max(1) - np.sum(F * Y, 1)))
    J = L + 0.3 * np.sum(np.linalg.norm(f32.output_weights, axis=1))
    assert f32.objective == pytest.approx(J, rel=1e-12)
    assert f32.gap >= f32.objective - J_ref - 1e-8
    assert f32.objective == pytest.approx(f64.objective, rel=2e-4)
    assert f32.objective == pytest.approx(J_ref, rel=2e-4)
