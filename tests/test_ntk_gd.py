"""NTK of the 1-D two-layer ReLU network (Section 7, eq. (20)) against a Monte Carlo
average over random features, and the full-batch gradient-descent baseline."""

import warnings

import numpy as np
import pytest

import fastconvexrelu as fcr
from fastconvexrelu import ConvergenceWarning


def mc_ntk(x, su, sb, sw, intercept, m=300_000, seed=0):
    """grad_theta f(x)^T grad_theta f(x') for a width-m network with N(0, 1) parameters."""
    rng = np.random.default_rng(seed)
    u, b, w = rng.standard_normal((3, m))
    Z = su * u[None, :] * x[:, None] + sb * b[None, :]
    act = Z > 0
    g_w = sw * np.maximum(Z, 0.0)
    g_u = sw * w * act * su * x[:, None]
    g_b = sw * w * act * sb
    G = np.hstack([g_w, g_u, g_b]) / np.sqrt(m)
    K = G @ G.T
    return K + 1.0 if intercept else K


@pytest.mark.parametrize(
    "su, sb, sw, bias, intercept",
    [(1.0, 1.0, 1.0, True, False), (1.3, 0.7, 0.9, True, True), (1.0, 0.0, 1.0, False, False)],
)
def test_ntk_matches_monte_carlo(su, sb, sw, bias, intercept):
    x = np.array([-2.0, -0.5, 0.0, 0.3, 1.5])
    K = fcr.ntk_1d(x, bias=bias, intercept=intercept, sigma_u=su, sigma_b=sb, sigma_w=sw)
    Kmc = mc_ntk(x, su, sb if bias else 0.0, sw, intercept)
    np.testing.assert_allclose(K, Kmc, rtol=0.02, atol=0.02 * np.abs(K).max())
    np.testing.assert_allclose(K, K.T, atol=1e-14)
    assert np.linalg.eigvalsh(K).min() >= -1e-10


def test_ntk_no_bias_is_papers_kernel():
    x = np.array([-1.5, -0.2, 0.4, 2.0])
    K = fcr.ntk_1d(x, bias=False, sigma_w=np.sqrt(2))

    def paper(a, b):  # Section 7: |a||b| kappa(ab/|a||b|)
        t = np.sign(a * b)
        th = np.arccos(t)
        k0 = (np.pi - th) / np.pi
        k1 = (t * (np.pi - th) + np.sqrt(1 - t**2)) / np.pi
        return abs(a) * abs(b) * (t * k0 + k1)

    np.testing.assert_allclose(K, [[paper(a, b) for b in x] for a in x], atol=1e-14)
    x2 = np.array([0.0, 1.0])
    K2 = fcr.ntk_1d(x, x2, bias=False)
    assert K2.shape == (4, 2) and np.all(K2[:, 0] == 0.0)  # (u * 0)_+ = 0 without bias


def test_ntk_fit_min_norm_interpolant_and_ridge():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-2, 2, 8))
    y = np.sin(2 * x)
    fit = fcr.ntk_fit(x, y, x_test=x)
    K = fcr.ntk_1d(x)
    assert fit.max_abs_residual < 1e-8
    np.testing.assert_allclose(fit.coef, np.linalg.lstsq(K, y, rcond=None)[0], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fit.predictions, y, atol=1e-8)
    np.testing.assert_allclose(fit.predict(x[:3]), y[:3], atol=1e-8)
    np.testing.assert_allclose(fit.rkhs_norm, np.sqrt(y @ np.linalg.solve(K, y)), rtol=1e-6)
    ridge = fcr.ntk_fit(x, y, ridge=0.5)
    np.testing.assert_allclose(ridge.coef, np.linalg.solve(K + 0.5 * np.eye(8), y))
    assert ridge.rkhs_norm < fit.rkhs_norm
    # without bias the kernel has rank 2: 4 samples cannot be interpolated, min-norm LS instead
    nb = fcr.ntk_fit([-2.0, -1.0, 1.0, 2.0], [1.0, 0.0, 0.0, 1.0], bias=False)
    assert nb.max_abs_residual > 0.1
    # the NTK predictor is smooth, not the piecewise-linear interpolant (Figure 8)
    t = np.linspace(-1.9, 1.9, 7)
    assert np.max(np.abs(np.diff(fit.predict(t), 2))) > 0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: fcr.ntk_1d([1.0, np.nan]), "x contains NaN"),
        (lambda: fcr.ntk_1d(np.ones((2, 2))), "x must be a 1-D"),
        (lambda: fcr.ntk_1d([]), "x is empty"),
        (lambda: fcr.ntk_1d([1.0], [np.inf]), "x2 contains infinity"),
        (lambda: fcr.ntk_1d([1.0], sigma_u=-1.0), "sigma_u"),
        (lambda: fcr.ntk_1d([1.0], bias=1), "bias"),
        (lambda: fcr.ntk_fit([1.0, 2.0], [1.0]), "inconsistent"),
        (lambda: fcr.ntk_fit([1.0], [1.0], ridge=-1.0), "ridge"),
        (lambda: fcr.ntk_fit([1.0], [1.0], gamma=1.0), "unknown kernel parameter"),
        (lambda: fcr.ntk_fit([1.0], [1.0], x_test=[np.nan]), "x_test contains NaN"),
    ],
)
def test_ntk_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# -------------------------------------------------------------------- gradient descent
def toy():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (20, 2))
    return X, np.sin(3 * X[:, 0]) + X[:, 1]


def test_gd_decreases_objective():
    X, y = toy()
    r = fcr.train_gd(X, y, m=30, beta=1e-3, init_std=0.5, lr=0.005, n_iter=400, random_state=0)
    h = r.objective_history
    assert h.shape == (401,) and r.n_iter == 400
    assert h[-1] < 0.05 * h[0]
    assert np.all(np.diff(h) <= 1e-12 * h[0])  # small lr: monotone on this problem
    # reported objective: L + beta sum |w| ||u|| <= (beta/2)(||U||^2 + ||w||^2) form (Lemma 2.1)
    assert r.objective <= h[-1] + 1e-12
    J = fcr.network_objective(X, y, r.hidden_weights, r.hidden_bias, r.output_weights,
                              r.intercept, 1e-3, "squared")
    np.testing.assert_allclose(r.objective, J, rtol=1e-12)
    np.testing.assert_allclose(r.predict(X), np.maximum(X @ r.hidden_weights + r.hidden_bias, 0)
                               @ r.output_weights + r.intercept)


def test_gd_gradient_matches_finite_differences():
    """One tiny step changes the objective by -lr ||grad||^2 to first order."""
    X, y = toy()
    kw = dict(m=5, beta=0.1, init_std=0.5, random_state=3)
    r0 = fcr.train_gd(X, y, lr=1e-7, n_iter=1, **kw)
    r1 = fcr.train_gd(X, y, lr=2e-7, n_iter=1, **kw)
    d0 = r0.objective_history[0] - r0.objective_history[1]
    d1 = r1.objective_history[0] - r1.objective_history[1]
    assert d0 > 0 and d1 == pytest.approx(2 * d0, rel=1e-4)


@pytest.mark.parametrize("loss", ["hinge", "logistic"])
def test_gd_classification_losses_and_no_bias(loss):
    X, y = toy()
    yc = np.where(y > 0, 1.0, -1.0)
    r = fcr.train_gd(X, yc, m=20, beta=1e-3, init_std=0.5, lr=0.01, n_iter=300, loss=loss,
                     bias=False, random_state=1)
    assert r.hidden_bias is None and r.intercept == 0.0
    assert r.objective_history[-1] < r.objective_history[0]
    kw = dict(m=4, beta=0.0, init_std=0.1, lr=0.01, n_iter=5, loss=loss, random_state=7)
    a, b = fcr.train_gd(X, yc, **kw), fcr.train_gd(X, yc, **kw)
    np.testing.assert_array_equal(a.hidden_weights, b.hidden_weights)


def test_gd_divergence_warns():
    X, y = toy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy overflow on the way
        with pytest.warns(ConvergenceWarning, match="diverged"):
            r = fcr.train_gd(X, 1e3 * y, m=10, beta=0.0, init_std=1.0, lr=10.0, n_iter=200,
                             random_state=0)
    assert r.n_iter < 200 and np.all(np.isfinite(r.objective_history))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(m=0), "m must be"),
        (dict(m=2.5), "m must be"),
        (dict(beta=-1.0), "beta"),
        (dict(init_std=0.0), "init_std"),
        (dict(lr=np.nan), "lr"),
        (dict(n_iter=-1), "n_iter"),
        (dict(loss="l1"), "loss"),
        (dict(bias=None), "bias"),
        (dict(loss="hinge"), "-1 and \\+1"),
        (dict(X=[[np.nan, 1.0]], y=[1.0]), "X contains NaN"),
        (dict(y=[1.0, 2.0]), "inconsistent"),
    ],
)
def test_gd_bad_input(kwargs, match):
    X, y = toy()
    args = dict(X=X, y=y, m=3, beta=0.1, init_std=0.1, lr=0.01, n_iter=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        fcr.train_gd(**args)
