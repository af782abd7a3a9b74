"""patterns="seeded" of solver="arrangements" (issue 3): non-convex seeds, the convex program
over their patterns, pattern generation; checked against the seeds, CVXPY+Clarabel over the
same patterns and a brute-force enumeration of all patterns."""
import math
import warnings

import numpy as np
import pytest

from fastconvexrelu import ConvexReLUClassifier, ConvexReLURegressor
from fastconvexrelu._objective import network_objective
from fastconvexrelu._solver_arrangements import fit_arrangements
from fastconvexrelu.nonconvex_seed import fit_nonconvex_seeds, seed_program_start

from reference import brute_force_patterns_lp, solve_arrangement_reference

FAST = dict(n_seeds=2, seed_width=12, seed_iter=300, max_rounds=2, program_iter=20000)


def _data(n=30, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(2 * X @ rng.standard_normal(d) / np.sqrt(d)) + 0.1 * rng.standard_normal(n)
    return X, y


def _fit(X, y, beta=0.1, loss="squared", random_state=0, **kw):
    opts = dict(FAST, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_arrangements(X, y, loss=loss, beta=beta, bias=True, tol=1e-8,
                                max_iter=100000, random_state=random_state, patterns="seeded",
                                seeded_options=opts)


def test_seed_fits_are_scored_exactly_and_feasible():
    X, y = _data()
    fits = fit_nonconvex_seeds(X, y, beta=0.1, n_seeds=2, width=10, max_iter=200, random_state=1)
    assert fits[0].objective <= fits[1].objective
    for f in fits:
        J = network_objective(X, y, f.hidden_weights, f.hidden_bias, f.output_weights,
                              f.intercept, 0.1, "squared")
        assert J == pytest.approx(f.objective, rel=1e-12)
        # rebalanced |w_j| = ||u_j||
        np.testing.assert_allclose(np.abs(f.output_weights),
                                   np.linalg.norm(f.hidden_weights, axis=0), rtol=1e-10)
        # the mapped blocks lie in the cones of their patterns and reproduce f
        D, theta, c = seed_program_start(X, f)
        P = D.shape[1]
        Xt = np.hstack([X, np.ones((X.shape[0], 1))])
        S = 2 * D - 1
        for s in range(2):
            assert np.all(S * (Xt @ theta[:, s * P:(s + 1) * P]) >= -1e-12)
        F = np.sum(D * (Xt @ (theta[:, :P] - theta[:, P:])), axis=1) + c
        f_net = np.maximum(X @ f.hidden_weights + f.hidden_bias, 0) @ f.output_weights + c
        np.testing.assert_allclose(F, f_net, atol=1e-10)


def test_convex_J_at_most_best_seed():
    X, y = _data(n=40, d=4, seed=3)
    fits = fit_nonconvex_seeds(X, y, beta=0.05, n_seeds=FAST["n_seeds"], width=FAST["seed_width"],
                               max_iter=FAST["seed_iter"], random_state=np.random.default_rng(7))
    res = _fit(X, y, beta=0.05, random_state=7)
    assert res.objective <= fits[0].objective + 1e-12
    J = network_objective(X, y, res.hidden_weights, res.hidden_bias, res.output_weights,
                          res.intercept, 0.05, "squared")
    assert J == pytest.approx(res.objective, rel=1e-12)


def test_never_worse_than_warm_start_with_tiny_budget():
    # one first-order iteration cannot finish the program: the best seed must come back
    X, y = _data(n=40, d=4, seed=4)
    fits = fit_nonconvex_seeds(X, y, beta=0.05, n_seeds=2, width=12, max_iter=300,
                               random_state=np.random.default_rng(2))
    res = _fit(X, y, beta=0.05, random_state=2, program_iter=1, max_rounds=0)
    assert res.objective <= fits[0].objective + 1e-12
    assert not res.converged


def test_program_over_seeded_patterns_matches_cvxpy():
    X, y = _data(n=25, d=2, seed=5)
    res = _fit(X, y, beta=0.1, random_state=0)
    pats = res.warm["final_patterns"].patterns
    ref = solve_arrangement_reference(X, y, loss="squared", beta=0.1, bias=True, patterns=pats)
    assert res.converged, res.message
    assert res.restricted_gap <= 1e-6 * res.objective
    assert res.objective == pytest.approx(ref, rel=1e-5)
    assert math.isinf(res.duality_gap)


def test_logistic_seeded_matches_cvxpy():
    X, y = _data(n=24, d=2, seed=8)
    yl = np.where(y > np.median(y), 1.0, -1.0)
    res = _fit(X, yl, beta=0.2, loss="logistic", random_state=0)
    pats = res.warm["final_patterns"].patterns
    ref = solve_arrangement_reference(X, yl, loss="logistic", beta=0.2, bias=True, patterns=pats)
    assert res.objective <= ref * (1 + 1e-5) + 1e-9
    if res.converged:
        assert res.objective == pytest.approx(ref, rel=1e-5)


def test_deterministic_with_random_state():
    X, y = _data(n=40, d=4, seed=6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = ConvexReLURegressor(beta=0.05, solver="arrangements", patterns="seeded",
                                random_state=3, max_iter=300).fit(X, y)
        b = ConvexReLURegressor(beta=0.05, solver="arrangements", patterns="seeded",
                                random_state=3, max_iter=300).fit(X, y)
    np.testing.assert_array_equal(a.hidden_weights_, b.hidden_weights_)
    np.testing.assert_array_equal(a.output_weights_, b.output_weights_)
    assert a.objective_ == b.objective_
    assert a.patterns_source_ == "seeded" and not a.patterns_exact_
    # no global certificate; the restricted gap is inf unless the last program converged
    assert math.isinf(a.duality_gap_) and a.restricted_gap_ >= 0
    assert a.converged_ == np.isfinite(a.restricted_gap_) or not a.converged_


def test_certificate_only_when_enumerated():
    X, y = _data(n=9, d=2, seed=9)
    beta = 0.05
    opt = solve_arrangement_reference(X, y, loss="squared", beta=beta, bias=True,
                                      patterns=brute_force_patterns_lp(X, bias=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ex = ConvexReLURegressor(beta=beta, solver="arrangements", patterns="enumerate").fit(X, y)
        sd = ConvexReLURegressor(beta=beta, solver="arrangements", patterns="seeded",
                                 random_state=0, max_iter=2000).fit(X, y)
    assert ex.patterns_exact_ and np.isfinite(ex.duality_gap_)
    assert ex.objective_ - ex.duality_gap_ <= opt * (1 + 1e-7) + 1e-9  # a true bound
    assert ex.objective_ >= opt * (1 - 1e-7)
    assert math.isinf(sd.duality_gap_)
    assert sd.objective_ >= opt * (1 - 1e-7)  # nothing beats the global optimum


def test_auto_routes_to_seeded_on_large_arrangement():
    X, y = _data(n=60, d=5, seed=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = ConvexReLURegressor(beta=0.1, solver="arrangements", random_state=0,
                                max_iter=200).fit(X, y)
        s = ConvexReLURegressor(beta=0.1, solver="arrangements", n_patterns=30,
                                random_state=0).fit(X, y)
        small = ConvexReLURegressor(beta=0.1, solver="arrangements").fit(X[:8, :2], y[:8])
    assert e.patterns_source_ == "seeded"
    assert s.patterns_source_ == "sampled"
    assert small.patterns_source_ == "enumerated"


@pytest.mark.parametrize("bad", ["foo", 1, None, "SEEDED", ["seeded"]])
def test_bad_patterns_parameter(bad):
    X, y = _data(n=20, d=2)
    with pytest.raises(ValueError, match="patterns"):
        ConvexReLURegressor(beta=0.1, solver="arrangements", patterns=bad).fit(X, y)
    with pytest.raises(ValueError, match="patterns"):
        ConvexReLUClassifier(beta=0.1, solver="arrangements", patterns=bad).fit(X, y > 0)


def test_enumerate_refuses_huge_arrangement_and_seeded_refuses_vectors():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 10))
    with pytest.raises(ValueError, match="patterns='enumerate'"):
        ConvexReLURegressor(beta=0.1, solver="arrangements", patterns="enumerate").fit(
            X, rng.standard_normal(200))
    Xs = rng.standard_normal((30, 3))
    labels = rng.integers(0, 3, 30)
    for penalty in ("weight_decay", "l1"):
        with pytest.raises(ValueError, match="seeded"):
            ConvexReLUClassifier(beta=0.1, solver="arrangements", patterns="seeded",
                                 loss="logistic", penalty=penalty).fit(Xs, labels)


@pytest.mark.parametrize("kw, match", [
    (dict(n_seeds=0), "n_seeds"), (dict(width=0), "width"), (dict(max_iter=1.5), "max_iter"),
    (dict(beta=0.0), "beta"), (dict(loss="softmax"), "loss"), (dict(random_state="x"), "random_state"),
])
def test_fit_nonconvex_seeds_bad_inputs(kw, match):
    X, y = _data(n=20, d=2)
    args = dict(beta=0.1)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        fit_nonconvex_seeds(X, y, **args)


def test_default_route_combines_and_descends_without_program_stage():
    """Default options (program_iter=0): seeds -> l1 combination -> local descent, alternated;
    J never above the best seed, scored exactly, and no certificate is claimed."""
    X, y = _data(n=60, d=4, seed=11)
    opts = dict(n_seeds=3, seed_width=15, seed_iter=100, seed_adam=100, program_iter=0)
    fits = fit_nonconvex_seeds(X, y, beta=0.05, n_seeds=3, width=15, max_iter=100, adam_iter=100,
                               random_state=np.random.default_rng(4))
    res = _fit(X, y, beta=0.05, random_state=4, **opts)
    assert res.objective <= fits[0].objective + 1e-12
    J = network_objective(X, y, res.hidden_weights, res.hidden_bias, res.output_weights,
                          res.intercept, 0.05, "squared")
    assert J == pytest.approx(res.objective, rel=1e-12)
    assert math.isinf(res.duality_gap) and math.isinf(res.restricted_gap) and not res.converged
    assert "no convex program stage" in res.message
    # more rounds of combination + descent never end higher
    res0 = _fit(X, y, beta=0.05, random_state=4, polish_rounds=0, **opts)
    assert res.objective <= res0.objective + 1e-12


@pytest.mark.parametrize("loss", ["logistic", "hinge", "huber"])
def test_default_route_other_losses(loss):
    """The default seeded route for the other losses: J never above the best seed and scored
    exactly (the hinge has no gradient: its dual point is a subgradient)."""
    X, y = _data(n=60, d=4, seed=12)
    if loss in ("logistic", "hinge"):
        y = np.where(y > np.median(y), 1.0, -1.0)
    opts = dict(n_seeds=2, seed_width=15, seed_iter=100, seed_adam=100, program_iter=0)
    fits = fit_nonconvex_seeds(X, y, beta=0.1, loss=loss, n_seeds=2, width=15, max_iter=100,
                               adam_iter=100, random_state=np.random.default_rng(5))
    res = _fit(X, y, beta=0.1, loss=loss, random_state=5, **opts)
    assert res.objective <= fits[0].objective + 1e-12
    J = network_objective(X, y, res.hidden_weights, res.hidden_bias, res.output_weights,
                          res.intercept, 0.1, loss)
    assert J == pytest.approx(res.objective, rel=1e-12)
    assert res.dual_coef.shape == (60,) and np.all(np.isfinite(res.dual_coef))
