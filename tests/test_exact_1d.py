"""Exactness of the 1-D solver against an explicit CVXPY/Clarabel reference.

For d = 1 the global optimum over two-layer ReLU networks of any width is the convex
program over the 2n extreme-point ramps (bias=True) or the two neurons (x)_+, (-x)_+
(bias=False) -- paper, Lemma 2.6, Corollary 3.2, Corollary 4.1, Theorem 5.2, Theorem 6.1.
``reference.solve_reference`` solves that program with CVXPY (and certifies its own
answer), so the package's ``objective_`` must match it.
"""
import itertools

import numpy as np
import pytest

import fastconvexrelu as fcr
from fastconvexrelu import network_objective
from reference import (
    constraint_violation,
    dual_feasibility,
    dual_lower_bound,
    fit_model,
    make_1d,
    model_output,
    network_objective_ref,
    reference_function,
    rel_diff,
    representation_cost_1d,
    solve_reference_cached,
    solve_reference_sparse,
)

BETAS = (0.0, 1e-3, 1e-1, 1.0)
CASES = [(loss, beta, bias, dup)
         for loss in ("squared", "hinge", "logistic")
         for beta in BETAS
         for bias in (True, False)
         for dup in (False, True)
         if not (loss == "logistic" and beta == 0)]
# (seed, n): sizes 5..40
DATASETS = [(0, 5), (1, 9), (2, 17), (3, 28), (4, 40)]


def _ref_ok(ref):
    """The reference must itself be certified optimal (its own duality gap is tiny)."""
    gap = abs(ref["value"] - ref["lower"])
    assert gap <= 1e-7 * max(1.0, abs(ref["value"])), ("reference not certified", ref["value"],
                                                      ref["lower"])


def _check_network_structure(est, x, bias):
    U = np.asarray(est.hidden_weights_)
    b = np.asarray(est.hidden_bias_)
    w = np.asarray(est.output_weights_)
    m = w.shape[0]
    assert U.shape == (1, m) and b.shape == (m,)
    assert np.all(np.isfinite(U)) and np.all(np.isfinite(b)) and np.all(np.isfinite(w))
    assert np.isfinite(est.intercept_)
    if not bias:
        assert np.all(b == 0.0) and est.intercept_ == 0.0
        return
    # every kink -b_j / u_j sits exactly at a sample (Lemma 2.6)
    u = U[0]
    nz = u != 0
    kinks = -b[nz] / u[nz]
    dist = np.min(np.abs(kinks[:, None] - np.asarray(x)[None, :]), axis=1) if kinks.size else []
    scale = max(1.0, float(np.max(np.abs(x))))
    assert np.all(np.asarray(dist) <= 1e-12 * scale), ("kink not at a data point", kinks)


@pytest.mark.parametrize("loss,beta,bias,dup", CASES)
def test_objective_matches_cvxpy(loss, beta, bias, dup):
    for seed, n in DATASETS:
        x, y = make_1d(seed, n, loss, dup, beta, bias)
        ref = solve_reference_cached(x, y, loss, beta, bias)
        _ref_ok(ref)
        est = fit_model(x, y, loss, beta, bias)
        J = est.objective_
        ctx = dict(seed=seed, n=n, J=J, J_ref=ref["value"], gap=est.duality_gap_,
                   conv=est.converged_)
        assert est.converged_, ctx
        assert est.solver_ == "extreme_points"
        assert rel_diff(J, ref["value"]) < 1e-6, ctx
        # the reported objective is the objective of the returned network
        X = x[:, None]
        args = (est.hidden_weights_, est.hidden_bias_, est.output_weights_, est.intercept_,
                beta, loss)
        assert rel_diff(network_objective(X, y, *args), J) <= 1e-12, ctx
        assert rel_diff(network_objective_ref(X, y, *args), J) <= 1e-12, ctx
        if beta == 0:
            f = model_output(est, X)
            assert constraint_violation(f, y, loss) <= 1e-6 * max(1.0, np.max(np.abs(y))), ctx
        _check_network_structure(est, x, bias)


@pytest.mark.parametrize("loss,beta", [("squared", 1e-3), ("squared", 1e-1), ("squared", 1.0),
                                       ("logistic", 1e-1), ("logistic", 1.0)])
@pytest.mark.parametrize("bias", [True, False])
def test_fitted_values_match_cvxpy(loss, bias, beta):
    """Strictly convex loss + beta > 0: the fitted values are unique, so the network
    outputs must equal the reference's -- on the samples and, since both are linear
    splines with kinks at the samples, on a fine grid inside the data range.
    (Logistic only with beta >= 0.1: for small beta the outputs grow large where the
    logistic loss is flat, so f is unique but numerically ill-determined.)"""
    for (seed, n), dup in itertools.product(DATASETS, (False, True)):
        x, y = make_1d(seed, n, loss, dup, beta, bias)
        ref = solve_reference_cached(x, y, loss, beta, bias)
        _ref_ok(ref)
        est = fit_model(x, y, loss, beta, bias, tol=1e-10)
        f = model_output(est, x)
        scale = max(1.0, float(np.max(np.abs(ref["fitted"]))))
        tol = 1e-5 * scale
        if loss == "logistic":
            # L is only mu-strongly convex, mu = min sigma'(f) on the segment [f, f*]:
            # ||f - f*||_2 <= sqrt(2 gap / mu) for each of the two certified solutions
            fmax = np.maximum(np.abs(f), np.abs(ref["fitted"]))
            mu = float(np.min(np.exp(-fmax) / (1 + np.exp(-fmax)) ** 2))
            gaps = np.sqrt(2 * est.duality_gap_ / mu) + np.sqrt(2 * abs(ref["value"] - ref["lower"]) / mu)
            tol = max(tol, float(gaps))
        err = float(np.max(np.abs(f - ref["fitted"])))
        ctx = dict(seed=seed, n=n, dup=dup, err=err, tol=tol, gap=est.duality_gap_)
        assert est.converged_, ctx
        assert err <= tol, ctx
        grid = np.linspace(x.min(), x.max(), 1001)
        ref_grid = reference_function(ref, x, grid, bias)
        err = float(np.max(np.abs(model_output(est, grid) - ref_grid)))
        assert err <= tol, dict(ctx, grid_err=err)


@pytest.mark.parametrize("loss,beta", [("squared", 0.0), ("squared", 1e-2), ("hinge", 0.0),
                                       ("hinge", 1e-1), ("logistic", 1e-2)])
def test_function_is_linear_spline_through_samples(loss, beta):
    """With bias, the fitted function is piecewise linear with kinks only at samples, so
    between samples it is the linear interpolation of its own values at the samples."""
    for seed, n in DATASETS:
        x, y = make_1d(seed, n, loss, seed % 2 == 1, beta, True)
        est = fit_model(x, y, loss, beta, True)
        xs = np.unique(x)
        fs = model_output(est, xs)
        grid = np.linspace(xs[0], xs[-1], 2001)
        err = np.max(np.abs(model_output(est, grid) - np.interp(grid, xs, fs)))
        assert err <= 1e-9 * max(1.0, np.max(np.abs(fs))), (seed, n, err)


def test_paper_proposition_3_1_example():
    """Supplementary A.5, proof of Proposition 3.1: a = [-2..2], y = [1,-1,1,1,-1],
    beta = 0 (minimum-norm interpolation) has optimal value 8, and the optimal network
    restricted to extreme points is the linear spline through the data."""
    a = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    y = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
    ref = solve_reference_cached(a, y, "squared", 0.0, True)
    assert abs(ref["value"] - 8.0) <= 1e-7
    for perm in (np.arange(5), np.array([3, 0, 4, 1, 2])):
        est = fit_model(a[perm], y[perm], "squared", 0.0, True)
        assert est.converged_
        assert abs(est.objective_ - 8.0) <= 1e-6 * 8.0
        assert abs(est.objective_ - ref["value"]) <= 1e-6 * 8.0
        grid = np.linspace(-2.0, 2.0, 4001)
        err = np.max(np.abs(est.predict(grid[:, None]) - np.interp(grid, a, y)))
        assert err <= 1e-6, err
        _check_network_structure(est, a, True)
        # the dual certificate: v with 1^T v = 0 and ||K^T v||_inf <= 1, v^T y = 8
        kv, sv = dual_feasibility(a[perm], est.dual_coef_, True)
        assert kv <= 1 + 1e-9 and sv <= 1e-9
        lb = dual_lower_bound(a[perm], y[perm], est.dual_coef_, "squared", 0.0, True)
        assert 8.0 - lb <= 1e-6 * 8.0


def test_permutation_invariance():
    """Unsorted input: permuting the samples changes neither J nor the function."""
    rng = np.random.default_rng(7)
    for loss, beta in [("squared", 1e-2), ("hinge", 1e-2), ("logistic", 1e-1)]:
        x, y = make_1d(11, 30, loss, True, beta, True)
        perm = rng.permutation(x.size)
        e1 = fit_model(x, y, loss, beta, True, tol=1e-10)
        e2 = fit_model(x[perm], y[perm], loss, beta, True, tol=1e-10)
        assert rel_diff(e1.objective_, e2.objective_) <= 1e-8
        grid = np.linspace(-2.5, 2.5, 501)
        if loss != "hinge":  # unique function for strictly convex losses
            assert np.max(np.abs(model_output(e1, grid) - model_output(e2, grid))) <= 1e-4


def test_low_level_fit_spline_1d():
    """``_core.fit_spline_1d``: its dict is self-consistent and optimal."""
    from fastconvexrelu import _core

    keys = {"primal", "dual_value", "gap", "fitted", "dual", "knots_right", "w_right",
            "knots_left", "w_left", "intercept", "n_iter", "converged", "message"}
    for (seed, n), loss, beta in itertools.product(DATASETS[1:4], ("squared", "hinge", "logistic"),
                                                    (0.0, 1e-2, 1.0)):
        if loss == "logistic" and beta == 0:
            continue
        x, y = make_1d(seed, n, loss, seed % 2 == 0, beta, True)
        res = _core.fit_spline_1d(x, y, loss=loss, beta=beta, tol=1e-9, max_iter=200)
        assert keys <= set(res), keys - set(res)
        ctx = dict(seed=seed, n=n, loss=loss, beta=beta, primal=res["primal"], gap=res["gap"])
        assert res["converged"], ctx
        ref = solve_reference_cached(x, y, loss, beta, True)
        _ref_ok(ref)
        assert rel_diff(res["primal"], ref["value"]) < 1e-6, ctx
        scale = max(1.0, abs(res["primal"]))
        assert abs(res["gap"] - (res["primal"] - res["dual_value"])) <= 1e-12 * scale, ctx
        assert res["gap"] <= 1e-9 * scale * (1 + 1e-6), ctx
        # fitted == the network described by the knots
        kr, wr = np.asarray(res["knots_right"]), np.asarray(res["w_right"])
        kl, wl = np.asarray(res["knots_left"]), np.asarray(res["w_left"])
        f = (res["intercept"] + np.maximum(x[:, None] - kr[None, :], 0) @ wr
             + np.maximum(kl[None, :] - x[:, None], 0) @ wl)
        assert np.max(np.abs(f - np.asarray(res["fitted"]))) <= 1e-10 * max(1, np.max(np.abs(f)))
        for k in np.concatenate([kr, kl]):
            assert np.min(np.abs(k - x)) == 0.0, ("knot not at a sample", k)
        # primal = J of that network; the dual certifies primal - gap
        reg = np.sum(np.abs(wr)) + np.sum(np.abs(wl))
        if beta == 0:
            J = reg
            assert constraint_violation(f, y, loss) <= 1e-6 * max(1.0, np.max(np.abs(y))), ctx
        else:
            U = np.concatenate([np.ones_like(kr), -np.ones_like(kl)])[None, :]
            J = network_objective_ref(x[:, None], y, U, np.concatenate([-kr, kl]),
                                      np.concatenate([wr, wl]), res["intercept"], beta, loss)
        assert abs(J - res["primal"]) <= 1e-10 * scale, ctx
        lb = dual_lower_bound(x, y, res["dual"], loss, beta, True)
        assert lb > -np.inf, ("kernel dual infeasible", dual_feasibility(x, res["dual"], True), ctx)
        assert res["primal"] - lb <= res["gap"] + 1e-9 * scale, (lb, ctx)
        assert lb <= ref["value"] + 1e-9 * max(1.0, abs(ref["value"])), (lb, ctx)


def test_auto_solver_uses_exact_method_on_1d():
    x, y = make_1d(3, 20, "squared", False, 1e-2, True)
    e_auto = fit_model(x, y, "squared", 1e-2, True, solver="auto")
    e_ep = fit_model(x, y, "squared", 1e-2, True, solver="extreme_points")
    assert e_auto.solver_ == "extreme_points"
    assert rel_diff(e_auto.objective_, e_ep.objective_) <= 1e-12


def test_logistic_beta_zero_is_an_error():
    x, y = make_1d(0, 10, "logistic", False, 1e-2, True)
    with pytest.raises(ValueError):
        fit_model(x, y, "logistic", 0.0, True)
    with pytest.raises(ValueError):
        fit_model(x, y, "logistic", 0.0, False)
    from fastconvexrelu import _core

    with pytest.raises(ValueError):
        _core.fit_spline_1d(x, y, loss="logistic", beta=0.0)


def test_any_two_labels():
    """Classifier labels of any two values give the same objective as +-1 labels."""
    x, y = make_1d(5, 25, "hinge", False, 1e-1, True)
    e_pm = fit_model(x, y, "hinge", 1e-1, True)
    labels = np.where(y > 0, "yes", "no")  # sorted classes: ["no", "yes"] -> "yes" is +1
    e_str = fcr.ConvexReLUClassifier(beta=1e-1, loss="hinge", solver="extreme_points").fit(
        x[:, None], labels)
    assert rel_diff(e_pm.objective_, e_str.objective_) <= 1e-8
    assert np.all(e_str.predict(x[:, None]) == np.where(model_output(e_pm, x) > 0, "yes", "no"))


@pytest.mark.parametrize("loss,beta", [("squared", 0.0), ("squared", 1e-2), ("hinge", 0.0),
                                       ("hinge", 1e-1), ("logistic", 1e-1)])
def test_reference_formulations_agree(loss, beta):
    """Self-check of the references: the dense ramp program and the O(n) formulation over
    the fitted values (representation cost max(TV, (TV + |s_1 + s_end|)/2)) agree."""
    for seed, n in DATASETS:
        x, y = make_1d(seed, n, loss, seed % 2 == 0, beta, True)
        dense = solve_reference_cached(x, y, loss, beta, True)
        sparse = solve_reference_sparse(x, y, loss, beta)
        assert rel_diff(sparse["value"], dense["value"]) <= 1e-6, (seed, n)
        # the representation cost of the dense solution's values is its ||w||_1 at most
        xu, idx = np.unique(x, return_index=True)
        cost = representation_cost_1d(xu, dense["fitted"][idx])
        assert cost <= np.sum(np.abs(dense["w"])) * (1 + 1e-7) + 1e-9


@pytest.mark.parametrize("loss,beta", [("squared", 1e-3), ("squared", 1.0), ("hinge", 1e-2),
                                       ("logistic", 1e-1)])
def test_larger_n_against_sparse_reference(loss, beta):
    """n = 300 and 1500 (too large for the dense K): compare with the O(n) CVXPY
    formulation.  Its value is the exact cost of a feasible point (>= J*), and the
    package's certified lower bound, recomputed here, must stay below it."""
    for seed, n in [(20, 300), (21, 1500)]:
        x, y = make_1d(seed, n, loss, False, beta, True)
        sparse = solve_reference_sparse(x, y, loss, beta)
        est = fit_model(x, y, loss, beta, True)
        ctx = dict(n=n, J=est.objective_, J_sparse=sparse["value"], gap=est.duality_gap_)
        assert est.converged_, ctx
        assert rel_diff(est.objective_, sparse["value"]) < 1e-6, ctx
        lb = dual_lower_bound(x, y, est.dual_coef_, loss, beta, True)
        assert lb <= sparse["value"] + 1e-9 * max(1.0, sparse["value"]), ctx
        assert est.objective_ - lb <= est.duality_gap_ + 1e-9 * max(1.0, abs(lb)), ctx
