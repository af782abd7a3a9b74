"""Estimators on general data (issue 3): solver="arrangements" / "auto" against independent
references — brute-force pattern enumeration (cross products, d = 2) solved with CVXPY, the
exact 1-D solver, and Lemma 3.1 — plus certificates that bound the true suboptimality."""

import math
import warnings

import numpy as np
import pytest

import fastconvexrelu as fcr
from fastconvexrelu import ConvexReLUClassifier, ConvexReLURegressor, network_objective

pytest.importorskip("cvxpy")
from reference import solve_arrangement_reference  # noqa: E402


# ---------------------------------------------------------------- independent references
def cvxpy_global(X, y, loss, beta, bias=True, delta=1.0):
    """Global optimum: the convex program over ALL patterns (LP brute force), by CVXPY."""
    return solve_arrangement_reference(X, y, loss=loss, beta=beta, bias=bias,
                                       huber_delta=delta)


def _data(seed, n=9, d=2, cls=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1] ** 2 + 0.1 * rng.standard_normal(n)
    if cls:
        y = np.where(y > np.median(y), 1.0, -1.0)
    return X, y


# ------------------------------------------------------------------------------ tests
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("loss", ["squared", "huber"])
@pytest.mark.parametrize("seed", [0, 1])
def test_regressor_matches_brute_force_global_optimum(loss, bias, seed):
    X, y = _data(seed)
    beta = 0.05
    ref = cvxpy_global(X, y, loss, beta, bias, delta=0.5)
    est = ConvexReLURegressor(beta=beta, loss=loss, bias=bias, huber_delta=0.5,
                              solver="arrangements").fit(X, y)
    assert est.patterns_exact_
    assert est.objective_ == pytest.approx(ref, rel=1e-5, abs=1e-7)
    # the certificate is finite and bounds the true suboptimality
    assert math.isfinite(est.duality_gap_)
    assert est.objective_ - ref <= est.duality_gap_ + 1e-6 * abs(ref)
    # J is the network's own objective
    if loss == "squared":
        J = network_objective(X, y, est.hidden_weights_, est.hidden_bias_,
                              est.output_weights_, est.intercept_, beta, "squared")
        assert J == pytest.approx(est.objective_, rel=1e-12)


def test_classifier_logistic_matches_brute_force_global_optimum():
    X, y = _data(3, cls=True)
    beta = 0.1
    ref = cvxpy_global(X, y, "logistic", beta, True)
    est = ConvexReLUClassifier(beta=beta, loss="logistic", solver="arrangements").fit(X, y)
    assert est.objective_ == pytest.approx(ref, rel=1e-5, abs=1e-7)
    assert est.objective_ - ref <= est.duality_gap_ + 1e-6 * abs(ref)
    assert est.score(X, y) >= 0.5


def test_classifier_hinge_is_first_order_accurate_and_says_so():
    """The hinge program has no second-order polish yet: J is within 1e-2 of the optimum,
    the certificate still bounds the true suboptimality, and a warning is issued when tol is
    not reached."""
    X, y = _data(3, cls=True)
    beta = 0.1
    ref = cvxpy_global(X, y, "hinge", beta, True)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est = ConvexReLUClassifier(beta=beta, loss="hinge", solver="arrangements",
                                   max_iter=20000).fit(X, y)
    assert est.objective_ >= ref - 1e-6 * abs(ref)
    assert est.objective_ == pytest.approx(ref, rel=1e-2)
    assert est.objective_ - ref <= est.duality_gap_ + 1e-6 * abs(ref)
    if not est.converged_:
        assert any(issubclass(w.category, fcr.ConvergenceWarning) for w in rec)


def test_one_dimensional_data_agrees_with_exact_extreme_point_solver():
    rng = np.random.default_rng(5)
    x = np.sort(rng.uniform(-2, 2, 10))
    y = np.abs(x) + 0.1 * rng.standard_normal(10)
    X = x[:, None]
    ref = ConvexReLURegressor(beta=0.05, solver="extreme_points").fit(X, y)
    est = ConvexReLURegressor(beta=0.05, solver="arrangements").fit(X, y)
    assert est.patterns_exact_
    assert est.objective_ == pytest.approx(ref.objective_, rel=1e-6)


def test_certified_gaps_bound_true_suboptimality_on_many_problems():
    """Every finite duality gap reported bounds J minus the brute-force optimum, including
    when the solver is stopped early (max_iter small)."""
    checked = 0
    for seed in range(6):
        X, y = _data(10 + seed, n=7)
        ref = cvxpy_global(X, y, "squared", 0.1, True)
        for max_iter in (3, 30, 1000):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", fcr.ConvergenceWarning)
                est = ConvexReLURegressor(beta=0.1, solver="arrangements",
                                          max_iter=max_iter).fit(X, y)
            if math.isfinite(est.duality_gap_):
                checked += 1
                assert est.objective_ - ref <= est.duality_gap_ + 1e-7 * abs(ref)
    assert checked >= 6


def test_sampled_patterns_report_inf_gap_and_restricted_gap():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 6))
    y = np.maximum(X @ rng.standard_normal(6), 0) + 0.1 * rng.standard_normal(80)
    est = ConvexReLURegressor(beta=0.5, n_patterns=40, random_state=0,
                              solver="arrangements").fit(X, y)
    assert est.solver_ == "arrangements" and not est.patterns_exact_
    assert est.n_patterns_ <= 40
    assert est.duality_gap_ == math.inf
    assert est.restricted_gap_ >= 0
    # deterministic with random_state
    est2 = ConvexReLURegressor(beta=0.5, n_patterns=40, random_state=0,
                               solver="arrangements").fit(X, y)
    assert est2.objective_ == est.objective_
    # more patterns requested than exist: tiny data is enumerated, count says how many
    Xs, ys = X[:5, :2], y[:5]
    e3 = ConvexReLURegressor(beta=0.5, n_patterns=10_000, solver="arrangements").fit(Xs, ys)
    assert e3.patterns_exact_ and e3.n_patterns_ < 10_000


def test_vector_outputs_and_multiclass():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((9, 2))
    Y = np.c_[np.sin(X[:, 0]), X[:, 1] ** 2, X[:, 0] * X[:, 1]]
    beta = 0.05
    est = ConvexReLURegressor(beta=beta, solver="arrangements", penalty="l1").fit(X, Y)
    assert est.predict(X).shape == (9, 3)
    # l1 vector outputs separate over columns for the squared loss (A.7.3)
    tot = sum(cvxpy_global(X, Y[:, k], "squared", beta) for k in range(3))
    assert est.objective_ == pytest.approx(tot, rel=1e-5)
    # multiclass with softmax probabilities
    lab = np.array(["a", "b", "c"])[np.argmax(Y, axis=1)]
    clf = ConvexReLUClassifier(beta=0.05, loss="logistic", solver="arrangements",
                               penalty="l1").fit(X, lab)
    proba = clf.predict_proba(X)
    assert proba.shape == (9, len(np.unique(lab)))
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert set(clf.predict(X)) <= set(lab)
    with pytest.raises(AttributeError, match="logistic"):
        ConvexReLUClassifier(loss="hinge").fit(X, lab).predict_proba(X)


def test_regularization_path_warm_starts_and_matches_individual_fits():
    X, y = _data(2, n=10)
    betas = [0.5, 0.1, 0.02]
    path = ConvexReLURegressor(solver="arrangements").path(X, y, betas)
    assert list(path.betas) == sorted(betas, reverse=True)
    for b, J in zip(path.betas, path.objectives):
        single = ConvexReLURegressor(beta=b, solver="arrangements").fit(X, y)
        assert J == pytest.approx(single.objective_, rel=1e-6)
    assert np.all(np.diff(path.objectives) <= 1e-9)  # J decreases with beta


def test_bad_inputs_general():
    X, y = _data(0)
    with pytest.raises(ValueError, match="n_patterns"):
        ConvexReLURegressor(n_patterns=0).fit(X, y)
    with pytest.raises(ValueError, match="huber_delta"):
        ConvexReLURegressor(loss="huber", huber_delta=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="random_state"):
        ConvexReLURegressor(random_state="seed").fit(X, y)
    with pytest.raises(ValueError, match="beta"):
        ConvexReLURegressor(beta=0.0, solver="arrangements").fit(X, y)


def test_multiclass_softmax_global_optimum_and_certificate_vs_cvxpy():
    """Softmax with one output per class (A.7.3, l1 penalty) over ALL patterns, by CVXPY."""
    import cvxpy as cp
    from reference import brute_force_patterns_lp

    rng = np.random.default_rng(4)
    X = rng.standard_normal((8, 2))
    lab = np.argmax(np.c_[X[:, 0], X[:, 1], -X[:, 0] - X[:, 1]], axis=1)
    beta = 0.1
    D = brute_force_patterns_lp(X, True).astype(float)
    n, P = D.shape
    Xt = np.hstack([X, np.ones((n, 1))])
    K = 3
    Yh = np.eye(K)[lab]
    V = [cp.Variable((3, P)) for _ in range(K)]
    W = [cp.Variable((3, P)) for _ in range(K)]
    c = cp.Variable(K)
    cols, cons, pen = [], [], 0
    for k in range(K):
        f = 0
        for i in range(P):
            S = (2 * D[:, i] - 1)[:, None] * Xt
            cons += [S @ V[k][:, i] >= 0, S @ W[k][:, i] >= 0]
            f = f + cp.multiply(D[:, i], Xt @ (V[k][:, i] - W[k][:, i]))
        cols.append(f + c[k])
        pen = pen + cp.sum(cp.norm(V[k][:2, :], axis=0)) + cp.sum(cp.norm(W[k][:2, :], axis=0))
    F = cp.vstack(cols).T
    L = cp.sum(cp.log_sum_exp(F, axis=1)) - cp.sum(cp.multiply(Yh, F))
    prob = cp.Problem(cp.Minimize(L + beta * pen), cons)
    prob.solve(solver="CLARABEL")
    ref = float(prob.value)
    est = ConvexReLUClassifier(beta=beta, loss="logistic", solver="arrangements",
                               penalty="l1").fit(X, lab)
    assert est.patterns_exact_
    assert est.objective_ == pytest.approx(ref, rel=1e-5)
    assert math.isfinite(est.duality_gap_)
    assert est.objective_ - ref <= est.duality_gap_ + 1e-6 * abs(ref)
    assert est.predict_proba(X).shape == (8, 3)


def test_auto_routing():
    """auto: extreme points on a line, all patterns when the arrangement is small, the
    seeded pattern program for larger scalar problems, the sampled program with n_patterns."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal(20)
    assert ConvexReLURegressor().fit(x[:, None], x ** 2).solver_ == "extreme_points"
    X, y = _data(0)
    small = ConvexReLURegressor(beta=0.05).fit(X, y)
    assert small.solver_ == "arrangements" and small.patterns_exact_
    Xb = rng.standard_normal((60, 5))
    yb = np.maximum(Xb[:, 0], 0) + 0.1 * rng.standard_normal(60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fcr.ConvergenceWarning)
        big = ConvexReLURegressor(beta=1.0, max_iter=20).fit(Xb, yb)
        assert big.solver_ == "arrangements" and big.patterns_source_ == "seeded"
        hub = ConvexReLURegressor(beta=1.0, loss="huber", n_patterns=20,
                                  max_iter=2000).fit(Xb, yb)
    assert hub.solver_ == "arrangements" and not hub.patterns_exact_
