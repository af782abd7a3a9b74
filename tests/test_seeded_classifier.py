"""The seeded weight-decay classification route (default of ConvexReLUClassifier) and its
mini-batch C++ kernel.

References: the gradient of the weight-decay cross-entropy objective in float64 numpy (the
first Adam step moves every parameter by -lr sign(gradient)); CVXPY + Clarabel for the group
lasso over the returned neurons (the restricted problem whose gap the route reports); the
objective recomputed from the returned network.
"""

import math
import warnings

import numpy as np
import pytest

from fastconvexrelu import ConvexReLUClassifier, network_objective
from fastconvexrelu import _core
from fastconvexrelu._validation import ConvergenceWarning
from fastconvexrelu.nonconvex_seed import fit_minibatch_seeds
from fastconvexrelu.weight_decay_seeded import fit_weight_decay_seeded, seeded_schedule


def _blobs(n=240, d=6, k=3, seed=0, noise=1.0):
    rng = np.random.default_rng(seed)
    centers = 2.0 * rng.standard_normal((k, d))
    y = np.arange(n) % k
    X = centers[y] + noise * rng.standard_normal((n, d))
    return X, y


def _grad_numpy(X, labels, sw, U, b, W, c, beta, loss):
    """Gradient of (sum_i s_i l_i + beta/2 (|U|^2 + |W|^2)) / n in float64."""
    n = X.shape[0]
    Z = X @ U + b
    H = np.maximum(Z, 0)
    F = H @ W + c
    if loss == "softmax":
        E = np.exp(F - F.max(1, keepdims=True))
        P = E / E.sum(1, keepdims=True)
        dF = P - np.eye(W.shape[1])[labels]
    else:
        y = 2.0 * labels - 1.0
        dF = (-y / (1.0 + np.exp(y * F[:, 0])))[:, None]
    dF *= sw[:, None] / n
    gW = H.T @ dF + beta / n * W
    dZ = (dF @ W.T) * (Z > 0)
    gU = X.T @ dZ + beta / n * U
    return gU, dZ.sum(0), gW, dF.sum(0)


@pytest.mark.parametrize("loss", ["softmax", "logistic"])
@pytest.mark.parametrize("weighted", [False, True])
def test_first_adam_step_follows_the_gradient(loss, weighted):
    rng = np.random.default_rng(1)
    n, d, m = 50, 4, 7
    o = 3 if loss == "softmax" else 1
    X = rng.standard_normal((n, d)).astype(np.float32)
    labels = rng.integers(0, o if o > 1 else 2, n).astype(np.int32)
    sw = rng.uniform(0.2, 3.0, n).astype(np.float32) if weighted else np.ones(n, np.float32)
    U = rng.standard_normal((d, m)).astype(np.float32)
    b = (0.3 * rng.standard_normal(m)).astype(np.float32)
    W = rng.standard_normal((m, o)).astype(np.float32)
    c = (0.1 * rng.standard_normal(o)).astype(np.float32)
    lr = 1e-3
    r = _core.minibatch_fit(X, labels, sw if weighted else np.zeros(0, np.float32), [U], [b],
                            [W], [c], [3], loss=loss, beta=2.0, epochs=1, batch_size=n, lr=lr)[0]
    g = _grad_numpy(X.astype(float), labels, sw.astype(float), U.astype(float), b.astype(float),
                    W.astype(float), c.astype(float), 2.0, loss)
    for new, old, gr in zip((r["U"], r["b"], r["w"], r["c"]), (U, b, W, c), g):
        step = np.asarray(new, float) - old.astype(float)
        big = np.abs(gr) > 1e-4 * np.abs(gr).max()  # |g| >> Adam's eps and float32 rounding
        assert big.sum() > 0
        # Adam's first step: -lr * g / (|g| + eps)
        np.testing.assert_allclose(step[big], -lr * np.sign(gr[big]), rtol=2e-2, atol=2e-6)


def test_minibatch_fit_lowers_the_objective_and_is_deterministic():
    X, y = _blobs(n=150, d=5, k=3, seed=2)
    Y = np.eye(3)[y]
    a = fit_minibatch_seeds(X, Y, beta=1.0, loss="softmax", n_seeds=2, width=16, epochs=200, lr=1e-2,
                            random_state=5)
    b = fit_minibatch_seeds(X, Y, beta=1.0, loss="softmax", n_seeds=2, width=16, epochs=200, lr=1e-2,
                            random_state=5)
    start = fit_minibatch_seeds(X, Y, beta=1.0, loss="softmax", n_seeds=2, width=16, epochs=1,
                                lr=1e-9, random_state=5)
    for fa, fb, f0 in zip(a, b, start):
        assert fa.objective == fb.objective
        np.testing.assert_array_equal(fa.hidden_weights, fb.hidden_weights)
    assert max(f.objective for f in a) < 0.5 * min(f.objective for f in start)
    for f in a:  # the reported J is the objective of the returned (rebalanced) network
        J = network_objective(X, Y, f.hidden_weights, f.hidden_bias, f.output_weights,
                              f.intercept, 1.0, "softmax", penalty="weight_decay")
        assert f.objective == pytest.approx(J, rel=1e-12)


def test_minibatch_fit_bad_input():
    X = np.zeros((4, 2), np.float32)
    U, b, W, c = (np.zeros((2, 3), np.float32), np.zeros(3, np.float32),
                  np.zeros((3, 2), np.float32), np.zeros(2, np.float32))
    ok = dict(loss="softmax", beta=1.0)
    lab = np.array([0, 1, 0, 1], np.int32)
    e = np.zeros(0, np.float32)
    with pytest.raises(ValueError, match="labels out of range"):
        _core.minibatch_fit(X, np.array([0, 1, 2, 1], np.int32), e, [U], [b], [W], [c], [0], **ok)
    with pytest.raises(ValueError, match="finite"):
        Xn = X.copy()
        Xn[0, 0] = np.nan
        _core.minibatch_fit(Xn, lab, e, [U], [b], [W], [c], [0], **ok)
    with pytest.raises(ValueError, match="sample_weight"):
        _core.minibatch_fit(X, lab, -np.ones(4, np.float32), [U], [b], [W], [c], [0], **ok)
    with pytest.raises(ValueError, match="shapes"):
        _core.minibatch_fit(X, lab, e, [U[:1]], [b], [W], [c], [0], **ok)
    with pytest.raises(ValueError, match="beta"):
        _core.minibatch_fit(X, lab, e, [U], [b], [W], [c], [0], loss="softmax", beta=0.0)
    with pytest.raises(ValueError, match="logistic"):
        _core.minibatch_fit(X, lab, e, [U], [b], [W], [c], [0], loss="logistic", beta=1.0)


def _cvx_restricted(X, Y, U, b, beta, loss):
    cp = pytest.importorskip("cvxpy")
    Phi = np.maximum(X @ U + b, 0.0)
    n, m = Phi.shape
    o = Y.shape[1]
    W = cp.Variable((m, o))
    c = cp.Variable(o)
    F = Phi @ W + np.ones((n, 1)) @ cp.reshape(c, (1, o), order="C")
    if loss == "softmax":
        L = cp.sum(cp.log_sum_exp(F, axis=1)) - cp.sum(cp.multiply(Y, F))
    else:
        L = cp.sum(cp.logistic(-cp.multiply(Y, F)))
    prob = cp.Problem(cp.Minimize(L + beta * cp.sum(cp.norm(W, 2, axis=1))))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    return float(prob.value)


@pytest.mark.parametrize("k", [2, 3])
def test_route_restricted_gap_is_a_true_bound(k):
    X, y = _blobs(n=120, d=4, k=k, seed=3, noise=1.5)
    beta = 0.5
    Y = np.eye(k)[y] if k > 2 else (2.0 * y - 1.0)[:, None]
    loss = "softmax" if k > 2 else "logistic"
    r = fit_weight_decay_seeded(X, Y, loss=loss, beta=beta, random_state=0, width=24,
                                epochs=40, polish_epochs=10, master_iter=60)
    Yl = Y if k > 2 else Y[:, 0]
    J = network_objective(X, Yl, r.hidden_weights, r.hidden_bias, r.output_weights,
                          r.intercept, beta, loss, penalty="weight_decay")
    assert r.objective == pytest.approx(J, rel=1e-9)
    assert math.isinf(r.duality_gap)
    Jstar = _cvx_restricted(X, Y, r.hidden_weights, r.hidden_bias, beta, loss)
    # the reported restricted gap bounds J minus the optimum over the returned neurons
    assert J - Jstar <= r.restricted_gap * (1 + 1e-6) + 1e-7
    assert J >= Jstar - 1e-6 * max(1.0, abs(Jstar))


def test_route_never_above_its_best_seed():
    X, y = _blobs(n=200, d=5, k=3, seed=4, noise=2.0)
    Y = np.eye(3)[y]
    seeds = fit_minibatch_seeds(X, Y, beta=0.3, loss="softmax", n_seeds=2, width=32, epochs=20,
                                random_state=np.random.default_rng(7))
    r = fit_weight_decay_seeded(X, Y, loss="softmax", beta=0.3, width=32, epochs=20,
                                random_state=np.random.default_rng(7))
    assert r.objective <= seeds[0].objective * (1 + 1e-12)


def test_schedule():
    assert seeded_schedule(100) == (300, 60)
    assert seeded_schedule(60000) == (13, 2)
    assert seeded_schedule(5000, epochs=7, polish_epochs=1) == (7, 1)


def test_default_classifier_uses_the_route():
    X, y = _blobs(n=300, d=8, k=4, seed=5, noise=1.5)
    labels = np.array(["a", "b", "c", "d"])[y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = ConvexReLUClassifier(random_state=0).fit(X, labels)
    assert est.solver_ == "seeded"
    assert est.loss == "logistic"
    assert est.beta_ == pytest.approx(1e-4 * 300)
    P = est.predict_proba(X)
    assert P.shape == (300, 4)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert est.score(X, labels) > 0.9
    assert set(est.predict(X)) <= set(labels)
    assert est.restricted_gap_ >= 0 and math.isinf(est.duality_gap_)
    J = network_objective(X, np.eye(4)[y], est.hidden_weights_, est.hidden_bias_,
                          est.output_weights_, est.intercept_, est.beta_, "softmax",
                          penalty="weight_decay")
    assert est.objective_ == pytest.approx(J, rel=1e-9)


def test_default_binary_classifier_and_explicit_solver():
    X, y = _blobs(n=200, d=6, k=2, seed=6, noise=1.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = ConvexReLUClassifier(random_state=0).fit(X, y)
        est2 = ConvexReLUClassifier(solver="seeded", beta=0.1, random_state=0).fit(X, y)
    for e in (est, est2):
        assert e.solver_ == "seeded"
        assert e.output_weights_.ndim == 1 and isinstance(e.intercept_, float)
        P = e.predict_proba(X)
        np.testing.assert_allclose(P.sum(axis=1), 1.0)
        np.testing.assert_array_equal(e.predict(X), e.classes_[(e.decision_function(X) > 0).astype(int)])
        assert e.score(X, y) > 0.85
    assert est2.beta_ == 0.1
    with pytest.raises(ValueError, match="solver='seeded'"):
        ConvexReLUClassifier(solver="seeded", loss="hinge").fit(X, y)
    with pytest.raises(ValueError, match="beta"):
        ConvexReLUClassifier(beta="big").fit(X, y)


def test_every_seed_died_falls_back_to_the_intercept(monkeypatch):
    # when no seed keeps a neuron the route starts from the network without neurons and the
    # master returns the loss-optimal intercept (softmax: log class frequencies)
    import fastconvexrelu.weight_decay_seeded as wds
    from fastconvexrelu.nonconvex_seed import SeedFit

    X, y = _blobs(n=90, k=3)
    Y = np.eye(3)[y]
    o = Y.shape[1]

    def dead(X, Y, **kw):
        return [SeedFit(np.zeros((X.shape[1], 0)), np.zeros(0), np.zeros((0, o)), np.zeros(o),
                        float(X.shape[0] * np.log(o)), 1, s) for s in range(2)]

    monkeypatch.setattr(wds, "fit_minibatch_seeds", dead)
    fit = fit_weight_decay_seeded(X, Y, loss="softmax", beta=1.0, random_state=0)
    assert fit.hidden_weights.shape[1] == 0
    N = Y.sum(axis=0)
    J_star = -float(np.sum(N * np.log(N / N.sum())))
    assert fit.objective == pytest.approx(J_star, rel=1e-6)
    p = np.exp(fit.intercept - np.max(fit.intercept))
    np.testing.assert_allclose(p / p.sum(), N / N.sum(), rtol=1e-4)
