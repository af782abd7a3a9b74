"""Issue 17: the exact, anytime dual oracle (branch and bound for sigma) and the certificate
of arbitrary two-layer ReLU networks, checked against the enumerated arrangement (the exact
per-pattern oracle) and the CVXPY optimum of the program over all patterns."""
import math
import warnings

import numpy as np
import pytest

import fastconvexrelu as fcr
from fastconvexrelu.arrangement import enumerate_patterns, pattern_oracle
from fastconvexrelu.network_certificate import _exact_zero_sum, certify_network, dual_norm
from reference import solve_arrangement_reference


def exact_sigma(X, v, bias):
    """max over all enumerated patterns and both signs of the exact per-pattern oracle."""
    P = enumerate_patterns(X, bias=bias)
    o = pattern_oracle(X, v, P.patterns, bias=bias)
    assert o.converged
    assert np.all(o.status == 0)
    return float(np.max(o.values))


def small(seed, n=12, d=2):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("bias", [True, False])
def test_sigma_bounds_bracket_enumeration(seed, bias):
    X, rng = small(seed, n=10 + seed, d=2 + seed % 2)
    v = rng.standard_normal(X.shape[0])
    if bias:
        v = _exact_zero_sum(v - v.mean())
        assert math.fsum(v) == 0.0
    ex = exact_sigma(X, v, bias)
    r = dual_norm(X, v, bias=bias, rel_tol=1e-6, n_threads=2)
    assert r.status == "converged" and r.converged
    assert r.upper >= ex * (1 - 1e-12)
    assert r.lower <= ex * (1 + 1e-9)
    assert r.upper <= ex * (1 + 2e-6)  # they meet when it finishes
    # the returned neuron attains the lower value
    z = X @ r.hidden_weight + r.hidden_bias
    assert abs(np.linalg.norm(r.hidden_weight) - 1) < 1e-12
    assert r.sign * float(v @ np.maximum(z, 0)) == pytest.approx(r.lower, rel=1e-10)
    # capped: still an upper bound, never below the exact value
    c = dual_norm(X, v, bias=bias, node_limit=3, n_random=0, n_threads=1)
    assert c.status == "node_limit"
    assert c.upper >= ex * (1 - 1e-12) and c.upper >= r.upper * (1 - 1e-12)
    assert c.lower <= ex * (1 + 1e-9)


def test_dual_norm_bad_input():
    X, rng = small(0)
    v = rng.standard_normal(12)
    with pytest.raises(ValueError, match="1\\^T v = 0"):
        dual_norm(X, v, bias=True)
    with pytest.raises(ValueError, match="v must have length"):
        dual_norm(X, v[:5], bias=False)
    with pytest.raises(ValueError, match="time_limit"):
        dual_norm(X, v, bias=False, time_limit=-1)
    with pytest.raises(ValueError, match="node_limit"):
        dual_norm(X, v, bias=False, node_limit=0)
    with pytest.raises(ValueError, match="X contains"):
        dual_norm(np.full((12, 2), np.nan), v, bias=False)


def _exact_fit(X, y, loss, beta, bias):
    Est = fcr.ConvexReLURegressor if loss in ("squared", "huber") else fcr.ConvexReLUClassifier
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Est(beta=beta, loss=loss, bias=bias, solver="arrangements", patterns="enumerate",
                   tol=1e-10, max_iter=20000).fit(X, y)


CASES = [("squared", True), ("squared", False), ("huber", True), ("logistic", True),
         ("hinge", True), ("logistic", False)]


@pytest.mark.parametrize("loss,bias", CASES)
def test_certificate_is_true_bound(loss, bias):
    rng = np.random.default_rng(3)
    n, d, beta = 9, 2, 0.3
    X = rng.standard_normal((n, d))
    if loss in ("squared", "huber"):
        y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1]
    else:
        y = np.where(X[:, 0] * X[:, 1] + 0.2 * rng.standard_normal(n) > 0, 1.0, -1.0)
    P = enumerate_patterns(X, bias=bias).patterns
    J_star = solve_arrangement_reference(X, y, loss, beta, bias, patterns=P)
    est = _exact_fit(X, y, loss, beta, bias)
    # the fitted network: its certificate brackets the exact optimum
    est.certify(X, y)
    assert est.certificate_.status == "converged"
    assert np.isfinite(est.duality_gap_)
    assert est.lower_bound_ <= J_star + 1e-7 * max(1.0, abs(J_star))
    assert est.duality_gap_ >= est.objective_ - J_star - 1e-7 * max(1.0, abs(J_star))
    if bias:
        assert math.fsum(est.dual_) == 0.0 and float(np.sum(est.dual_)) == 0.0
    # a smooth loss at the optimum of the exact program: the certificate is nearly tight
    if loss in ("squared", "huber", "logistic"):
        assert est.duality_gap_ <= 1e-3 * max(1.0, abs(J_star))
    # a deliberately bad network: large, still true, gap
    U = rng.standard_normal((d, 5))
    b = rng.standard_normal(5) if bias else np.zeros(5)
    w = 3 * rng.standard_normal(5)
    bad = certify_network(X, y, U, b, w, 0.0, beta=beta, loss=loss, bias=bias)
    assert bad.objective - J_star >= 0.5
    assert bad.lower_bound <= J_star + 1e-7 * max(1.0, abs(J_star))
    assert bad.duality_gap >= bad.objective - J_star - 1e-9
    # capped (node limit) run: a larger, still true, gap
    cap = certify_network(X, y, U, b, w, 0.0, beta=beta, loss=loss, bias=bias, node_limit=2)
    assert cap.status == "node_limit"
    assert cap.duality_gap >= bad.duality_gap * (1 - 1e-9)
    assert cap.lower_bound <= J_star + 1e-7 * max(1.0, abs(J_star))


def test_certify_network_gap_matches_dual():
    # the returned dual point really is feasible: sigma(dual) <= beta by enumeration, and
    # D(dual) is the lower bound
    from fastconvexrelu.certificates import dual_objective

    X, rng = small(5, n=11, d=2)
    y = X[:, 0] ** 2 - 1
    beta = 0.2
    U = rng.standard_normal((2, 4))
    cert = certify_network(X, y, U, rng.standard_normal(4), rng.standard_normal(4), 0.1,
                           beta=beta)
    assert math.fsum(cert.dual) == 0.0
    assert exact_sigma(X, cert.dual, True) <= beta * (1 + 1e-12)
    D = dual_objective("squared", cert.dual[:, None], y[:, None])
    assert cert.lower_bound <= D
    assert cert.lower_bound == pytest.approx(D, rel=1e-10, abs=1e-10)


def test_certify_not_certified_and_errors():
    X, rng = small(1, n=10)
    Y = rng.standard_normal((10, 2))
    res = certify_network(X, Y[:, 0], np.ones((2, 3)), np.zeros(3), np.ones((3, 2)), 0.0,
                          beta=0.1)
    assert res.duality_gap == math.inf and "vector outputs" in res.message
    with pytest.raises(ValueError, match="beta"):
        certify_network(X, Y[:, 0], np.ones((2, 3)), np.zeros(3), np.ones(3), 0.0, beta=0.0)
    with pytest.raises(ValueError, match="hidden_weights"):
        certify_network(X, Y[:, 0], np.ones((3, 3)), np.zeros(3), np.ones(3), 0.0, beta=0.1)
    with pytest.raises(ValueError, match="bias=False"):
        certify_network(X, Y[:, 0], np.ones((2, 3)), np.ones(3), np.ones(3), 0.0, beta=0.1,
                        bias=False)
    with pytest.raises(ValueError, match="loss"):
        certify_network(X, Y[:, 0], np.ones((2, 3)), np.zeros(3), np.ones(3), 0.0, beta=0.1,
                        loss="softmax")
    with pytest.raises(ValueError, match="y must contain labels"):
        certify_network(X, Y[:, 0], np.ones((2, 3)), np.zeros(3), np.ones(3), 0.0, beta=0.1,
                        loss="logistic")
    # estimator with vector outputs: inf with the reason
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = fcr.ConvexReLURegressor(beta=0.5, max_iter=50).fit(X, Y)
    est.certify(X, Y)
    assert est.duality_gap_ == math.inf and "vector outputs" in est.certificate_.message


@pytest.mark.parametrize("loss,bias", [("squared", True), ("squared", False), ("logistic", True)])
def test_exact_column_generation_reaches_the_enumerated_optimum(loss, bias):
    # issue 17 item 4: from a deliberately bad network, the rounds (exact oracle, lasso master,
    # local descent) reach the optimum of the program over all patterns (CVXPY), J never above
    # the start, and every certificate on the way is a true bound
    from fastconvexrelu.exact_column_generation import exact_column_generation

    rng = np.random.default_rng(3)
    n, d, beta = 9, 2, 0.3
    X = rng.standard_normal((n, d))
    if loss == "squared":
        y = np.sin(2 * X[:, 0]) + 0.5 * X[:, 1]
    else:
        y = np.where(X[:, 0] * X[:, 1] + 0.2 * rng.standard_normal(n) > 0, 1.0, -1.0)
    J_star = solve_arrangement_reference(X, y, loss, beta, bias,
                                         patterns=enumerate_patterns(X, bias=bias).patterns)
    U, b = rng.standard_normal((d, 2)), (rng.standard_normal(2) if bias else np.zeros(2))
    w = rng.standard_normal(2)
    J0 = fcr.network_objective(X, y, U, b, w, 0.0, beta, loss)
    res = exact_column_generation(X, y, U, b, w, 0.0, beta=beta, loss=loss, bias=bias,
                                  tol=1e-5, time_limit=30.0)
    cert = res.certificate
    J = fcr.network_objective(X, y, res.hidden_weights, res.hidden_bias, res.output_weights,
                              res.intercept, beta, loss)
    assert J == pytest.approx(cert.objective, rel=1e-12)
    assert J <= J0 and res.n_rounds >= 1
    assert cert.duality_gap >= J - J_star - 1e-7 * max(1.0, J_star)  # a true bound
    assert cert.duality_gap <= 1e-4 * J  # and a small one: the optimum is reached
    assert J == pytest.approx(J_star, rel=2e-4)
    assert all(h[1] >= h[0] - J_star - 1e-7 * max(1.0, J_star) for h in res.history)


def test_certify_improve_replaces_the_network():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = fcr.ConvexReLURegressor(beta=0.1, random_state=0).fit(X, y)
    J0, gap0 = est.objective_, est.certify(X, y).duality_gap_
    est.certify(X, y, time_limit=20, improve=True)
    assert est.objective_ <= J0 and est.duality_gap_ <= gap0
    assert np.isfinite(est.duality_gap_) and est.duality_gap_ <= 1e-3 * est.objective_
    F = np.maximum(X @ est.hidden_weights_ + est.hidden_bias_, 0) @ est.output_weights_
    np.testing.assert_allclose(est.predict(X), F + est.intercept_, rtol=1e-12, atol=1e-12)
    assert est.objective_ == pytest.approx(fcr.network_objective(
        X, y, est.hidden_weights_, est.hidden_bias_, est.output_weights_, est.intercept_, 0.1,
        "squared"), rel=1e-12)
    with pytest.raises(ValueError, match="improve"):
        fcr.ConvexReLURegressor(beta=0.1, loss="huber").fit(X, y).certify(X, y, improve=True)
