"""Rank-one data (paper, Corollary 3.4, Corollary 4.1, Theorem 5.2).

Samples on a line x_i = x0 + t_i a: the optimal neurons are u = +-a/||a|| with kinks at
the samples, so the d-dimensional problem equals the 1-D problem on the coordinate
s_i = t_i ||a|| along the unit direction (bias=True: any line; bias=False: the line must
pass through the origin and the only neurons are (s)_+ and (-s)_+).
"""
import numpy as np
import pytest

from fastconvexrelu import network_objective
from reference import (
    dual_feasibility,
    dual_lower_bound,
    fit_model,
    make_1d,
    network_objective_ref,
    rel_diff,
    solve_reference_cached,
)

LOSS_BETAS = [("squared", 0.0), ("squared", 1e-3), ("squared", 1e-1), ("squared", 1.0),
              ("hinge", 0.0), ("hinge", 1e-3), ("hinge", 1e-1), ("hinge", 1.0),
              ("logistic", 1e-1), ("logistic", 1.0)]
SEEDS = (0, 1, 2, 3)


def _lift(seed, s, bias):
    """Embed 1-D coordinates s (already the unit-direction coordinate) as rank-one data
    in d = 2..6 dimensions: X = x0 + t a^T with t = s / ||a|| (x0 = 0 without bias)."""
    rng = np.random.default_rng(1000 + seed)
    d = int(rng.integers(2, 7))
    a = rng.standard_normal(d) * rng.uniform(0.3, 3.0)
    x0 = rng.standard_normal(d) * 2.0 if bias else np.zeros(d)
    t = s / np.linalg.norm(a)
    return x0[None, :] + t[:, None] * a[None, :], a / np.linalg.norm(a), x0


@pytest.mark.parametrize("loss,beta", LOSS_BETAS)
@pytest.mark.parametrize("bias", [True, False])
def test_rank_one_equals_1d(loss, beta, bias):
    for seed in SEEDS:
        n = 6 + 9 * seed
        s, y = make_1d(50 + seed, n, loss, seed % 2 == 1, beta, bias)
        X, ahat, x0 = _lift(seed, s, bias)
        ref = solve_reference_cached(s, y, loss, beta, bias)
        assert abs(ref["value"] - ref["lower"]) <= 1e-7 * max(1.0, abs(ref["value"]))
        e_nd = fit_model(X, y, loss, beta, bias)
        e_1d = fit_model(s, y, loss, beta, bias)
        ctx = dict(seed=seed, n=n, d=X.shape[1], J=e_nd.objective_, J1=e_1d.objective_,
                   J_ref=ref["value"], conv=e_nd.converged_)
        assert e_nd.converged_ and e_1d.converged_, ctx
        assert e_nd.solver_ == "extreme_points"
        assert rel_diff(e_nd.objective_, ref["value"]) < 1e-6, ctx
        assert rel_diff(e_nd.objective_, e_1d.objective_) < 1e-6, ctx
        # objective_ is the objective of the returned d-dimensional network
        args = (e_nd.hidden_weights_, e_nd.hidden_bias_, e_nd.output_weights_,
                e_nd.intercept_, beta, loss)
        assert rel_diff(network_objective(X, y, *args), e_nd.objective_) <= 1e-12, ctx
        assert rel_diff(network_objective_ref(X, y, *args), e_nd.objective_) <= 1e-9, ctx
        # neurons are +-a/||a|| (Corollary 3.4); kinks at samples; no bias if bias=False
        U = np.asarray(e_nd.hidden_weights_)
        b = np.asarray(e_nd.hidden_bias_)
        assert U.shape == (X.shape[1], e_nd.output_weights_.shape[0])
        if U.shape[1]:
            assert np.allclose(np.abs(ahat @ U), 1.0, atol=1e-9), ctx
            assert np.allclose(np.linalg.norm(U, axis=0), 1.0, atol=1e-9), ctx
        if bias:
            if U.shape[1]:
                # neuron j is (u.x + b)_+ = (+-(s - s_k))_+: kink where u.x = -b, at a sample
                proj = X @ U  # (n, m): u_j . x_i
                dist = np.min(np.abs(proj + b[None, :]), axis=0)
                assert np.all(dist <= 1e-9 * max(1.0, np.max(np.abs(proj)))), ctx
        else:
            assert np.all(b == 0.0) and e_nd.intercept_ == 0.0, ctx
        # the certificate is in sample space: check it against the explicit K on s
        kv, sv = dual_feasibility(s, e_nd.dual_coef_, bias)
        rad = 1.0 if beta == 0 else beta
        assert kv <= rad * (1 + 1e-9) and sv <= 1e-9 * max(1.0, np.max(np.abs(e_nd.dual_coef_))), ctx
        lb = dual_lower_bound(s, y, e_nd.dual_coef_, loss, beta, bias)
        assert e_nd.objective_ - lb <= e_nd.duality_gap_ + 1e-9 * max(1.0, abs(lb)), (lb, ctx)


@pytest.mark.parametrize("bias", [True, False])
def test_rank_one_predictions_equal_1d(bias):
    """Squared loss, beta > 0: unique fitted values; the d-dimensional network restricted
    to the line is the 1-D network, also between and beyond the samples."""
    for seed in SEEDS:
        s, y = make_1d(70 + seed, 25, "squared", False, 1e-2, bias)
        X, ahat, x0 = _lift(seed, s, bias)
        e_nd = fit_model(X, y, "squared", 1e-2, bias, tol=1e-10)
        ref = solve_reference_cached(s, y, "squared", 1e-2, bias)
        assert np.max(np.abs(e_nd.predict(X) - ref["fitted"])) <= 1e-5 * max(1, np.max(np.abs(y)))
        e_1d = fit_model(s, y, "squared", 1e-2, bias, tol=1e-10)
        g = np.linspace(s.min() - 0.5, s.max() + 0.5, 301)
        Xg = x0[None, :] + g[:, None] * ahat[None, :]
        assert np.max(np.abs(e_nd.predict(Xg) - e_1d.predict(g[:, None]))) <= 1e-5


def test_auto_solver_on_rank_one():
    s, y = make_1d(3, 20, "hinge", False, 1e-1, True)
    X, _, _ = _lift(3, s, True)
    e = fit_model(X, y, "hinge", 1e-1, True, solver="auto")
    assert e.solver_ == "extreme_points"
    ref = solve_reference_cached(s, y, "hinge", 1e-1, True)
    assert rel_diff(e.objective_, ref["value"]) < 1e-6


@pytest.mark.parametrize("bias", [True, False])
def test_not_rank_one_raises(bias):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((20, 3))
    y = rng.standard_normal(20)
    with pytest.raises(ValueError):
        fit_model(X, y, "squared", 1e-2, bias, solver="extreme_points")
    # a small perturbation off the line is not rank one either
    s, y = make_1d(6, 20, "squared", False, 1e-2, bias)
    Xl, _, _ = _lift(6, s, bias)
    Xp = Xl + 1e-3 * rng.standard_normal(Xl.shape)
    with pytest.raises(ValueError):
        fit_model(Xp, y, "squared", 1e-2, bias, solver="extreme_points")
    yl = np.where(y > 0, 1.0, -1.0)
    with pytest.raises(ValueError):
        fit_model(Xp, yl, "hinge", 1e-2, bias, solver="extreme_points")


def test_line_off_origin_without_bias_raises():
    """bias=False needs rank one through the origin; an affine line is rank two."""
    s, y = make_1d(8, 15, "squared", False, 1e-2, True)
    X, _, _ = _lift(8, s, True)  # x0 != 0
    with pytest.raises(ValueError):
        fit_model(X, y, "squared", 1e-2, False, solver="extreme_points")
    # ... while with bias it is fine
    e = fit_model(X, y, "squared", 1e-2, True, solver="extreme_points")
    assert e.converged_
