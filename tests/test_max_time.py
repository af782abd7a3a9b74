"""max_time (issue 20): a soft time limit that ends a fit with the best network so far.

The C++ kernels read the caller's deadline (``fcr::Deadline``) and stop at an iteration
boundary; the Python outer loops test :func:`fastconvexrelu._deadline.expired` between rounds.
The default fits below run for well over 10 s without a limit.
"""
import math
import time
import warnings

import numpy as np
import pytest

import fastconvexrelu as fcr
from fastconvexrelu import _core
from fastconvexrelu._deadline import expired, remaining, time_limit
from fastconvexrelu._validation import ConvergenceWarning


def _classification(rng):  # 10 Gaussian classes in 32 dimensions: the seeded softmax route
    n, d, k = 6000, 32, 10
    centres = rng.normal(size=(k, d))
    y = rng.integers(0, k, size=n)
    X = centres[y] + 1.5 * rng.normal(size=(n, d))
    return (X - X.mean(0)) / X.std(0), y


def _regression(rng):  # 20 000 rows: the seeded-pattern regression route
    X = rng.normal(size=(20000, 8))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.normal(size=20000)
    return X, y


@pytest.mark.parametrize("case", ["classifier", "regressor"])
def test_max_time_ends_default_fit(case):
    rng = np.random.default_rng(0)
    if case == "classifier":
        (X, y), est = _classification(rng), fcr.ConvexReLUClassifier(max_time=2.0)
    else:
        (X, y), est = _regression(rng), fcr.ConvexReLURegressor(max_time=2.0)
    t0 = time.monotonic()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    elapsed = time.monotonic() - t0
    print(f"{case}: fit with max_time=2 s returned after {elapsed:.2f} s")
    assert elapsed < 2.0 + 2.0, f"fit ran {elapsed:.2f} s with max_time=2"
    assert est.converged_ is False
    msgs = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(msgs) == 1 and "max_time=2" in msgs[0], msgs  # one warning, naming max_time
    assert est.n_active_ > 0
    pred = est.predict(X)
    if case == "classifier":
        assert est.score(X, y) > 0.5  # the best network so far is a real one (chance: 0.1)
    else:
        assert np.all(np.isfinite(pred)) and est.score(X, y) > 0.5
    assert math.isinf(est.duality_gap_) or est.duality_gap_ >= 0
    assert not expired() and remaining() == math.inf  # the limit ended with the fit
    assert _core._set_time_limit(math.inf) == math.inf  # and the core's too


def test_generous_max_time_changes_nothing():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1]
    a = fcr.ConvexReLURegressor(beta=0.1, random_state=0).fit(X, y)
    b = fcr.ConvexReLURegressor(beta=0.1, random_state=0, max_time=1e6).fit(X, y)
    assert b.converged_ == a.converged_
    assert b.objective_ == a.objective_ and b.duality_gap_ == a.duality_gap_
    np.testing.assert_array_equal(a.predict(X), b.predict(X))


def test_time_limit_nests_and_restores():
    assert remaining() == math.inf
    with time_limit(100.0) as outer_passed:
        assert 99.0 < remaining() <= 100.0
        with time_limit(0.05) as inner_passed:
            assert remaining() <= 0.05
            time.sleep(0.1)
            assert expired() and inner_passed()
            # a kernel entered now stops at once: one FISTA chunk returns its start
        assert inner_passed()  # stays true after the block
        assert not expired() and 99.0 < remaining() <= 100.0  # the outer limit is back
        with time_limit(None):  # no new limit: the outer one holds
            assert 99.0 < remaining() <= 100.0
        assert 99.0 < _core._set_time_limit(remaining()) <= 100.0  # the core has it too
    assert not outer_passed()
    assert remaining() == math.inf and _core._set_time_limit(math.inf) == math.inf


def test_expired_limit_stops_fista_kernel():
    rng = np.random.default_rng(0)
    Phi = np.asfortranarray(np.abs(rng.normal(size=(200, 30))))
    Y = rng.normal(size=(200, 2))
    free = _core.group_lasso_fista(Phi, Y, "squared", 1.0, True, 500)
    with time_limit(1e-9):
        time.sleep(0.01)
        cut = _core.group_lasso_fista(Phi, Y, "squared", 1.0, True, 500)
    assert cut["objective"] > free["objective"]  # stopped long before 500 iterations


@pytest.mark.parametrize("bad", [0, -1.0, "1", float("nan"), True, [1.0]])
@pytest.mark.parametrize("cls", [fcr.ConvexReLURegressor, fcr.ConvexReLUClassifier])
def test_max_time_validated(cls, bad):
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.arange(20) % 2
    with pytest.raises(ValueError, match="max_time"):
        cls(max_time=bad).fit(X, y)
