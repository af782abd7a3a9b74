"""The convex program over fixed activation patterns (issue 3, "arrangements") against CVXPY+Clarabel."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from reference import solve_arrangement_reference

from fastconvexrelu import enumerate_patterns
from fastconvexrelu._objective import network_objective
from fastconvexrelu._validation import ConvergenceWarning
from fastconvexrelu.arrangement_program import solve_arrangement_program


def cvx_program(X, Y, D, loss, beta, bias, delta=1.0, intercept=True):
    """Independent reference: the same program written in CVXPY, solved by Clarabel
    (``intercept=False``: c = 0)."""
    n, d = X.shape
    Y = np.asarray(Y, dtype=float).reshape(n, -1)
    o = Y.shape[1]
    Xt = np.hstack([X, np.ones((n, 1))]) if bias else X
    dp, P = Xt.shape[1], D.shape[1]
    S = 2 * D - 1
    c = cp.Variable(o) if intercept else np.zeros(o)
    cons, cols, pen = [], [], 0
    for k in range(o):
        V, W = cp.Variable((dp, P)), cp.Variable((dp, P))
        cols.append(c[k] + cp.sum(cp.multiply(D, Xt @ (V - W)), axis=1))
        cons += [cp.multiply(S, Xt @ V) >= 0, cp.multiply(S, Xt @ W) >= 0]
        pen += cp.sum(cp.norm(V[:d, :], axis=0)) + cp.sum(cp.norm(W[:d, :], axis=0))
    F = cp.vstack(cols).T if o > 1 else cols[0]
    Yc = Y if o > 1 else Y[:, 0]
    if loss == "squared":
        L = 0.5 * cp.sum_squares(F - Yc)
    elif loss == "huber":
        L = 0.5 * cp.sum(cp.huber(F - Yc, delta))
    elif loss == "logistic":
        L = cp.sum(cp.logistic(-cp.multiply(Yc, F)))
    elif loss == "hinge":
        L = cp.sum(cp.pos(1 - cp.multiply(Yc, F)))
    else:  # softmax
        L = cp.sum(cp.log_sum_exp(F, axis=1)) - cp.sum(cp.multiply(Y, F))
    prob = cp.Problem(cp.Minimize(L + beta * pen), cons)
    tight = dict(tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10) if loss != "softmax" else {}
    prob.solve(solver="CLARABEL", **tight)
    return prob.value


def make_data(n=24, d=3, n_cand=30, bias=True, o=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    H = np.maximum(X @ rng.standard_normal((d, 4)) + 0.3 * rng.standard_normal(4), 0)
    Y = H @ rng.standard_normal((4, o)) + 0.1 * rng.standard_normal((n, o))
    U = rng.standard_normal((d, n_cand))
    b = rng.standard_normal(n_cand) if bias else np.zeros(n_cand)
    D = np.unique((X @ U + b > 0).astype(float), axis=1)
    return X, Y, D


def _check(res, ref, X, y, loss, beta, rtol=1e-6):
    assert res.converged, res.status
    assert abs(res.objective - ref) <= rtol * abs(ref)
    # the reported J is the objective of the returned network ...
    J = network_objective(X, y, res.hidden_weights, res.hidden_bias, res.output_weights, res.intercept, beta,
                          loss)
    assert J == res.objective
    # ... and equals the convex objective
    assert abs(res.objective - res.convex_objective) <= 1e-8 * abs(ref)
    # the restricted gap is small and bounds J - optimum (up to the reference's accuracy)
    assert res.restricted_gap <= 1e-6 * abs(ref)
    assert res.objective - ref <= res.restricted_gap + 1e-8 * abs(ref)
    assert res.max_violation <= 1e-8


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("loss", ["squared", "huber", "logistic"])
def test_scalar_losses_match_cvxpy(loss, bias):
    X, Y, D = make_data(bias=bias, seed=1)
    y = Y[:, 0] if loss in ("squared", "huber") else np.where(Y[:, 0] > np.median(Y[:, 0]), 1.0, -1.0)
    beta = 0.3
    res = solve_arrangement_program(X, y, D, loss=loss, beta=beta, bias=bias, huber_delta=0.5)
    ref = cvx_program(X, y, D, loss, beta, bias, delta=0.5)
    if loss == "huber":
        J = network_objective(X, y, res.hidden_weights, res.hidden_bias, res.output_weights, res.intercept, beta,
                              loss, huber_delta=0.5)
        assert J == res.objective
        assert abs(res.objective - ref) <= 1e-6 * ref and res.converged
        assert res.restricted_gap <= 1e-6 * ref
    else:
        _check(res, ref, X, y, loss, beta)
    assert res.hidden_weights.shape[1] >= 1


@pytest.mark.parametrize("bias", [True, False])
def test_vector_squared_matches_cvxpy(bias):
    X, Y, D = make_data(o=3, bias=bias, seed=2)
    res = solve_arrangement_program(X, Y, D, loss="squared", beta=0.4, bias=bias)
    ref = cvx_program(X, Y, D, "squared", 0.4, bias)
    _check(res, ref, X, Y, "squared", 0.4)
    assert res.output_weights.shape[1] == 3 and res.dual.shape == (X.shape[0], 3)
    # each neuron feeds one output (l1 variant of A.7.3)
    assert np.all(np.count_nonzero(res.output_weights, axis=1) == 1)


@pytest.mark.parametrize("bias", [True, False])
def test_softmax_matches_cvxpy(bias):
    X, Y, D = make_data(o=3, bias=bias, seed=5)
    Y1 = np.eye(3)[np.argmax(Y, axis=1)]
    res = solve_arrangement_program(X, Y1, D, loss="softmax", beta=0.3, bias=bias)
    ref = cvx_program(X, Y1, D, "softmax", 0.3, bias)
    _check(res, ref, X, Y1, "softmax", 0.3)
    # dual feasibility of the returned point: rows of lam + Y in the simplex, columns sum to 0
    P = res.dual + Y1
    assert P.min() >= -1e-12 and np.allclose(P.sum(axis=1), 1) and np.allclose(res.dual.sum(axis=0), 0, atol=1e-9)


@pytest.mark.parametrize("bias", [True, False])
def test_hinge_is_a_feasible_upper_bound(bias):
    # The hinge loss is handled by an exact splitting (no smoothing) but without the Newton
    # polish: J is the true hinge objective of the returned network, at or above the optimum.
    X, Y, D = make_data(bias=bias, seed=4)
    y = np.where(Y[:, 0] > np.median(Y[:, 0]), 1.0, -1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = solve_arrangement_program(X, y, D, loss="hinge", beta=0.3, bias=bias, max_iter=20000)
    ref = cvx_program(X, y, D, "hinge", 0.3, bias)
    J = network_objective(X, y, res.hidden_weights, res.hidden_bias, res.output_weights, res.intercept, 0.3,
                          "hinge")
    assert J == res.objective
    assert res.objective >= ref - 1e-6 * ref
    assert res.objective <= ref * (1 + 1e-2)
    if np.isfinite(res.restricted_gap):
        assert res.objective - ref <= res.restricted_gap + 1e-7 * ref


def test_large_beta_gives_the_zero_network():
    X, Y, D = make_data(seed=5)
    y = Y[:, 0]
    res = solve_arrangement_program(X, y, D, beta=1e4)
    assert res.converged and res.hidden_weights.shape[1] == 0
    assert abs(res.intercept - y.mean()) <= 1e-10
    assert abs(res.objective - 0.5 * np.sum((y - y.mean()) ** 2)) <= 1e-10 * res.objective
    assert -1e-12 * res.objective <= res.restricted_gap <= 1e-8 * res.objective


def test_warm_start_along_a_path():
    X, Y, D = make_data(seed=6)
    y = Y[:, 0]
    r1 = solve_arrangement_program(X, y, D, beta=0.5)
    r2 = solve_arrangement_program(X, y, D, beta=0.4, warm_start=r1)
    r3 = solve_arrangement_program(X, y, D, beta=0.4)
    assert r2.converged and abs(r2.objective - r3.objective) <= 1e-7 * r3.objective


def test_not_converged_warns():
    X, Y, D = make_data(seed=7)
    with pytest.warns(ConvergenceWarning):
        res = solve_arrangement_program(X, Y[:, 0], D, beta=0.3, max_iter=3)
    assert not res.converged and "maximum" in res.status


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(Y="nan"), "Y"),
        (dict(Y="short"), "inconsistent"),
        (dict(patterns="bad"), "patterns"),
        (dict(patterns="rows"), "patterns"),
        (dict(beta=-1.0), "beta"),
        (dict(beta=0.0), "beta"),
        (dict(loss="logistic"), "Y"),
        (dict(loss="hinge"), "Y"),
        (dict(loss="softmax"), "Y"),
        (dict(loss="nope"), "loss"),
        (dict(tol=0.0), "tol"),
        (dict(max_iter=0), "max_iter"),
        (dict(huber_delta=-1.0, loss="huber"), "huber_delta"),
        (dict(X="nan"), "X"),
    ],
)
def test_bad_input(kwargs, match):
    X, Y, D = make_data(seed=8)
    y = Y[:, 0].copy()
    args = dict(X=X, Y=y, patterns=D, loss="squared", beta=0.3)
    args.update(kwargs)
    if args["Y"] is not y and isinstance(args["Y"], str):
        args["Y"] = np.where(np.arange(len(y)) == 0, np.nan, y) if args["Y"] == "nan" else y[:-1]
    if isinstance(args["patterns"], str):
        args["patterns"] = np.where(D > 0, 2.0, 0.0) if args["patterns"] == "bad" else D[:-1]
    if isinstance(args["X"], str):
        Xn = X.copy()
        Xn[0, 0] = np.nan
        args["X"] = Xn
    with pytest.raises(ValueError, match=match):
        solve_arrangement_program(args.pop("X"), args.pop("Y"), args.pop("patterns"), **args)


# --------------------------------------------------------------------------- fit_intercept=False
def _no_bias_problem(n, d, seed, loss, sampled):
    """Data with an offset (so the intercept matters) and bias-free patterns: all of them
    (enumerate_patterns) or sampled 1[X u > 0], deduplicated, all-zero column dropped."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.maximum(X @ rng.standard_normal((d, 3)), 0) @ rng.standard_normal(3) + 0.7 + 0.1 * rng.standard_normal(n)
    if loss in ("logistic", "hinge"):
        y = np.where(y > np.quantile(y, 0.3), 1.0, -1.0)
    if sampled:
        D = np.unique((X @ rng.standard_normal((d, 40)) > 0).astype(float), axis=1)
        D = D[:, D.sum(axis=0) > 0]
    else:
        D = enumerate_patterns(X, bias=False).patterns.astype(float)
    return X, y, D


@pytest.mark.parametrize("loss", ["squared", "huber", "logistic"])
@pytest.mark.parametrize("n, d, sampled", [(9, 2, False), (16, 2, False), (30, 3, True)])
def test_no_intercept_matches_cvxpy(loss, n, d, sampled):
    # bias=False, fit_intercept=False is eq. (7) itself: no hidden biases, no intercept, and the
    # dual point is not centred.  Reference: tests/reference.py (no intercept when bias=False).
    X, y, D = _no_bias_problem(n, d, 10 * n + d, loss, sampled)
    beta, delta = 0.2, 0.3
    res = solve_arrangement_program(X, y, D, loss=loss, beta=beta, bias=False, fit_intercept=False,
                                    huber_delta=delta)
    ref = solve_arrangement_reference(X, y, loss, beta, False, patterns=D, huber_delta=delta)
    assert res.converged, res.status
    assert res.intercept == 0.0 and np.all(res.hidden_bias == 0.0)
    J = network_objective(X, y, res.hidden_weights, res.hidden_bias, res.output_weights, 0.0, beta, loss,
                          huber_delta=delta)
    assert J == res.objective
    assert abs(res.objective - ref) <= 1e-6 * abs(ref)
    # the restricted gap is a true bound on J - optimum, and small
    assert res.objective - ref <= res.restricted_gap + 1e-9 * abs(res.objective)
    assert -1e-12 * abs(ref) <= res.restricted_gap <= 1e-6 * abs(ref)
    assert res.max_violation <= 1e-8
    # the intercept matters on these data: the default (fit_intercept=True) program is lower
    with_c = solve_arrangement_program(X, y, D, loss=loss, beta=beta, bias=False, huber_delta=delta)
    assert with_c.objective < res.objective - 1e-3 * abs(res.objective)
    # ... so the certificate really is not centred
    assert abs(np.sum(res.dual)) > 1e-3 * np.abs(res.dual).sum()


def test_no_intercept_hinge_is_a_feasible_upper_bound():
    X, y, D = _no_bias_problem(9, 2, 3, "hinge", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = solve_arrangement_program(X, y, D, loss="hinge", beta=0.2, bias=False, fit_intercept=False,
                                        max_iter=20000)
    ref = solve_arrangement_reference(X, y, "hinge", 0.2, False, patterns=D)
    assert res.intercept == 0.0
    J = network_objective(X, y, res.hidden_weights, res.hidden_bias, res.output_weights, 0.0, 0.2, "hinge")
    assert J == res.objective
    assert ref - 1e-7 * ref <= res.objective <= ref * (1 + 1e-3)
    assert np.isfinite(res.restricted_gap)
    assert res.objective - ref <= res.restricted_gap + 1e-9 * abs(res.objective)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_bias_without_intercept(loss):
    # bias=True, fit_intercept=False.  Without the all-active pattern the constant is not
    # available: the program differs from the one with an intercept (CVXPY with c = 0).
    X, Y, D = make_data(n=20, bias=True, seed=3)
    y = Y[:, 0] + 1.0 if loss == "squared" else np.where(Y[:, 0] > np.median(Y[:, 0]) - 0.5, 1.0, -1.0)
    D = D[:, D.min(axis=0) < 1]
    res = solve_arrangement_program(X, y, D, loss=loss, beta=0.3, bias=True, fit_intercept=False)
    ref = cvx_program(X, y, D, loss, 0.3, True, intercept=False)
    _check(res, ref, X, y, loss, 0.3)
    assert res.intercept == 0.0
    # with the all-active pattern, its unpenalized bias-only blocks are a free constant: same
    # optimum as with an intercept, returned in the blocks (u = 0 neurons or a merged bias)
    Da = np.hstack([D, np.ones((X.shape[0], 1))])
    res = solve_arrangement_program(X, y, Da, loss=loss, beta=0.3, bias=True, fit_intercept=False)
    res_c = solve_arrangement_program(X, y, Da, loss=loss, beta=0.3, bias=True)
    ref = cvx_program(X, y, Da, loss, 0.3, True, intercept=False)
    _check(res, ref, X, y, loss, 0.3)
    assert res.intercept == 0.0 and res_c.intercept != 0.0
    assert abs(res.objective - res_c.objective) <= 1e-8 * abs(ref)


def test_constant_neurons_of_the_all_active_pattern():
    # network_from_blocks with fit_intercept=False: a bias-only block of the all-active pattern
    # is the neuron u = 0, b = 1 with output weight +-v[d] (penalty 0)
    from fastconvexrelu.arrangement_program import network_from_blocks

    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 2))
    D = np.column_stack([np.ones(6), (X[:, 0] > 0).astype(float)])
    theta = np.zeros((3, 4))  # P = 2, o = 1: columns v_0, v_1, w_0, w_1
    theta[2, 0] = 1.5  # v of the all-active pattern, bias only
    theta[2, 2] = 0.25  # w of the all-active pattern, bias only
    theta[:, 1] = [1.0, 0.0, 0.0]
    U, b, W, c = network_from_blocks(theta, np.zeros(1), D, 2, True, fit_intercept=False)
    assert c[0] == 0.0 and U.shape == (2, 3)
    assert np.all(U[:, 1:] == 0) and np.all(b[1:] == 1.0) and np.allclose(W[1:, 0], [1.5, -0.25])
    U2, b2, W2, c2 = network_from_blocks(theta, np.zeros(1), D, 2, True)
    assert U2.shape == (2, 1) and c2[0] == 1.25
    # the same function and the same objective (zero hidden weight: no penalty)
    J = network_objective(X, X[:, 1], U, b, W[:, 0], 0.0, 0.7, "squared")
    J2 = network_objective(X, X[:, 1], U2, b2, W2[:, 0], c2[0], 0.7, "squared")
    assert abs(J - J2) <= 1e-12 * J2


def test_fit_intercept_must_be_bool():
    X, Y, D = make_data(seed=8)
    with pytest.raises(ValueError, match="fit_intercept"):
        solve_arrangement_program(X, Y[:, 0], D, beta=0.3, fit_intercept="no")


def test_estimator_path_without_bias_has_no_intercept():
    # solver="arrangements" with bias=False: fit_intercept=False, and the certificate over the
    # whole arrangement (certified_gap, no centring without a bias) is consistent with it
    from fastconvexrelu._solver_arrangements import fit_arrangements

    X, y, D = _no_bias_problem(16, 2, 5, "squared", False)
    fit = fit_arrangements(X, y, loss="squared", beta=0.2, bias=False, tol=1e-8, max_iter=100000)
    assert fit.patterns_exact and fit.converged and fit.intercept == 0.0
    ref = solve_arrangement_reference(X, y, "squared", 0.2, False, patterns=D)
    assert abs(fit.objective - ref) <= 1e-6 * ref
    assert 0.0 <= fit.duality_gap <= 1e-6 * ref
