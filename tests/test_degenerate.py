"""Degenerate but valid data (issue 20), both estimators and every loss: constant targets,
all-zero / constant X, duplicated rows and columns, n < d, two samples, float32 and Fortran
input, features at 1e-150 and 1e150.  Each fit gives finite predictions, an ``objective_``
equal to an independent evaluation of J on the returned network, and a ``duality_gap_`` that
is ``inf`` or a true bound (J - gap never above the J of the best intercept-only network,
computed independently); the intercept-only optimum is certified with gap 0."""
import warnings
import zlib

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import fastconvexrelu as fcr
from fastconvexrelu import ConvergenceWarning


def _loss(f, y, loss, delta=1.0):
    r = f - y
    if loss == "squared":
        return 0.5 * float(np.sum(r ** 2))
    if loss == "huber":
        a = np.abs(r)
        return float(np.sum(np.where(a <= delta, 0.5 * r ** 2, delta * (a - 0.5 * delta))))
    if loss == "logistic":
        return float(np.sum(np.logaddexp(0.0, -y * f)))
    if loss == "hinge":
        return float(np.sum(np.maximum(0.0, 1.0 - y * f)))
    raise AssertionError(loss)


def independent_objective(est, X, y, loss):
    """J = L(f(X), y) + beta_ * sum_j |w_j| ||u_j|| from the fitted arrays, in float64."""
    X = np.asarray(X, dtype=np.float64)
    U = np.asarray(est.hidden_weights_, dtype=np.float64).reshape(X.shape[1], -1)
    b = np.asarray(est.hidden_bias_, dtype=np.float64).ravel()
    w = np.asarray(est.output_weights_, dtype=np.float64).ravel()
    f = np.maximum(X @ U + b, 0.0) @ w + float(est.intercept_)
    return _loss(f, y, loss) + est.beta_ * float(np.sum(np.abs(w) * np.linalg.norm(U, axis=0)))


def best_intercept_only(y, loss):
    """min_c L(c 1, y) by a 1-D minimization (an upper bound on the optimum J*)."""
    lo, hi = float(np.min(y)) - 10.0, float(np.max(y)) + 10.0
    r = minimize_scalar(lambda c: _loss(np.full(y.shape, c), y, loss), bounds=(lo, hi),
                        method="bounded", options={"xatol": 1e-12})
    return float(r.fun)


def _base(rng, n=24, d=3):
    X = rng.normal(size=(n, d))
    return X


def _targets(X, rng):
    n = X.shape[0]
    proj = X @ np.linspace(1.0, -0.5, X.shape[1]) if X.shape[1] else np.zeros(n)
    yr = np.sin(proj) + 0.1 * rng.normal(size=n)
    yc = np.where(proj + 0.3 * rng.normal(size=n) > np.median(proj), 1, 0)
    if np.all(yc == yc[0]):
        yc[: n // 2] = 1 - yc[0]
    return yr, yc


def _case(name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    X = _base(rng)
    yr, yc = _targets(X, rng)
    if name == "constant_y":
        yr = np.full(X.shape[0], 2.5)
    elif name == "all_zero_X":
        X = np.zeros_like(X)
    elif name == "constant_X":
        X = np.tile([[1.0, -2.0, 0.5]], (X.shape[0], 1))
    elif name == "duplicated_rows":
        X = np.vstack([X[:8], X[:8], X[:8]])
        yr = np.tile(yr[:8], 3)
        yc = np.tile(yc[:8], 3)
        yc[[0, 8, 16]], yc[[1, 9, 17]] = 0, 1  # two classes among the 8 distinct rows
    elif name == "duplicated_columns":
        X = np.column_stack([X, X[:, :2]])
    elif name == "n_less_than_d":
        X = rng.normal(size=(5, 8))
        yr, yc = _targets(X, rng)
    elif name == "two_samples":
        X = rng.normal(size=(2, 3))
        yr, yc = np.array([0.5, -1.0]), np.array([0, 1])
    elif name == "float32":
        X = X.astype(np.float32)
    elif name == "fortran":
        X = np.asfortranarray(X)
    elif name == "scale_1e-150":
        X = X * 1e-150
    elif name == "scale_1e150":
        X = X * 1e150
    return X, yr, yc


CASES = ["constant_y", "all_zero_X", "constant_X", "duplicated_rows", "duplicated_columns",
         "n_less_than_d", "two_samples", "float32", "fortran", "scale_1e-150", "scale_1e150"]
ESTIMATORS = [("regressor", "squared"), ("regressor", "huber"), ("classifier", "logistic"),
              ("classifier", "hinge"), ("classifier", "squared")]


@pytest.mark.parametrize(
    "case,kind,loss",
    [(c, k, l) for c in CASES for k, l in ESTIMATORS
     if not (c == "constant_y" and k == "classifier")],  # one class: a ValueError, below
)
def test_degenerate_data(case, kind, loss):
    X, yr, yc = _case(case)
    # max_iter caps the first-order arrangement program (default 100000 iterations: ~20 s on
    # the separable duplicated rows with the logistic loss); the other routes stop far below it
    kw = dict(loss=loss, random_state=0, max_iter=20000)
    if kind == "regressor":
        est, y, yenc = fcr.ConvexReLURegressor(**kw), yr, yr
    else:
        est, y, yenc = fcr.ConvexReLUClassifier(**kw), yc, 2.0 * yc - 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    pred = est.decision_function(X) if kind == "classifier" else est.predict(X)
    assert pred.shape == (X.shape[0],) and np.all(np.isfinite(pred))
    assert np.all(np.isfinite(est.hidden_weights_)) and np.isfinite(est.intercept_)
    J = independent_objective(est, X, yenc, loss)
    assert est.objective_ == pytest.approx(J, rel=1e-6, abs=1e-9)
    gap = est.duality_gap_
    assert gap >= 0 and (np.isinf(gap) or np.isfinite(gap))
    J_c = best_intercept_only(np.asarray(yenc, float), loss)
    if np.isfinite(gap):  # a true bound: J - gap <= J* <= J of the best intercept-only net
        assert est.objective_ - gap <= J_c * (1 + 1e-7) + 1e-9
    if est.solver_ == "intercept_only":
        assert est.n_active_ == 0 and est.hidden_weights_.shape == (X.shape[1], 0)
        assert gap == 0.0
        assert est.objective_ == pytest.approx(J_c, rel=1e-7, abs=1e-9)
        np.testing.assert_allclose(pred, est.intercept_)
    else:
        assert est.objective_ <= J_c * (1 + 1e-6) + 1e-9  # never worse than no neuron


@pytest.mark.parametrize("loss", ["squared", "huber"])
@pytest.mark.parametrize("beta", [0.3, "auto"])
def test_constant_target_is_intercept_only(loss, beta):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    est = fcr.ConvexReLURegressor(beta=beta, loss=loss).fit(X, np.ones(40))
    assert est.n_active_ == 0 and est.solver_ == "intercept_only"
    assert est.hidden_weights_.shape == (4, 0) and est.output_weights_.shape == (0,)
    assert est.objective_ == 0.0 and est.duality_gap_ == 0.0 and est.converged_
    np.testing.assert_array_equal(est.predict(rng.normal(size=(5, 4))), np.ones(5))


def test_constant_vector_target():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 3))
    Y = np.tile([1.0, -2.0], (30, 1))
    est = fcr.ConvexReLURegressor(beta=0.1).fit(X, Y)
    assert est.n_active_ == 0 and est.duality_gap_ == 0.0
    np.testing.assert_array_equal(est.predict(X[:3]), Y[:3])


def test_huge_beta_is_certified_intercept_only():
    """sigma(V) <= sum_i |V_i| diam(X) <= beta: no neuron can enter, the fit is exact."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 3))
    y = rng.normal(size=30)
    est = fcr.ConvexReLURegressor(beta=1e6).fit(X, y)
    assert est.solver_ == "intercept_only" and est.duality_gap_ == 0.0
    assert est.intercept_ == pytest.approx(np.mean(y))
    yc = rng.integers(0, 3, size=30)
    clf = fcr.ConvexReLUClassifier(beta=1e6).fit(X, yc)
    p = np.bincount(yc) / 30
    np.testing.assert_allclose(clf.predict_proba(X[:2]), np.tile(p, (2, 1)), rtol=1e-10)
    # below the bound the usual route runs (and finds neurons)
    est = fcr.ConvexReLURegressor(beta=1e-2, random_state=0).fit(X, y)
    assert est.solver_ != "intercept_only" and est.n_active_ > 0


def test_classifier_single_class():
    X = np.random.default_rng(3).normal(size=(10, 2))
    with pytest.raises(ValueError, match="y"):
        fcr.ConvexReLUClassifier().fit(X, np.ones(10))


@pytest.mark.parametrize("scale", [1e150, 1e-150, 2.0 ** 40])
def test_input_scaling_is_exact(scale):
    """J(s X, s beta) = J(X, beta) at every network with u -> u / s: the fit at scale s with
    beta * s gives the unit-scale predictions (exact routes: the 1-D extreme points and the
    enumerated arrangement)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 1))
    y = np.sin(2 * x[:, 0]) + 0.1 * rng.normal(size=40)
    X2 = rng.normal(size=(12, 2))
    y2 = X2[:, 0] * X2[:, 1]
    for X, yy in [(x, y), (X2, y2)]:
        ref = fcr.ConvexReLURegressor(beta=0.05).fit(X, yy)
        big = fcr.ConvexReLURegressor(beta=0.05 * scale).fit(X * scale, yy)
        assert np.isfinite(big.duality_gap_) and big.duality_gap_ <= 1e-6 * max(1.0, ref.objective_)
        assert big.objective_ == pytest.approx(ref.objective_, rel=1e-6, abs=1e-9)
        np.testing.assert_allclose(big.predict(X * scale), ref.predict(X), rtol=1e-4, atol=1e-4)
