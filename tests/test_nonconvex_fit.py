"""The C++ local-fit kernel (``_core.nonconvex_fit``) behind the seeded pattern source.

References: the objective and its gradient written out in numpy here (independently of the
kernel); full-batch Adam re-implemented in numpy (its iterates depend on every gradient, so
matching them checks the gradient); stationarity of the L-BFGS result checked by central
finite differences of the numpy objective; scipy's L-BFGS-B from the same start for the value.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.optimize import minimize

from fastconvexrelu import _core
from fastconvexrelu.nonconvex_seed import refine_network
from fastconvexrelu._objective import network_objective

LOSSES = ("squared", "huber", "logistic", "hinge")


def _problem(loss, n=25, d=3, m=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if loss in ("logistic", "hinge"):
        y = np.where(X[:, 0] * X[:, 1] + 0.3 * rng.standard_normal(n) > 0, 1.0, -1.0)
    else:
        y = np.maximum(X @ rng.standard_normal(d), 0) - 0.5 * X[:, 2] + 0.1 * rng.standard_normal(n)
    U = 0.7 * rng.standard_normal((d, m))
    b = 0.3 * rng.standard_normal(m)
    w = rng.standard_normal(m) / np.sqrt(m)
    return X, y, U, b, w, 0.2


def _objective(theta, X, y, m, loss, beta, bias, delta=1.0):
    """numpy reference: L((XU + b)_+ w + c) + beta/2 (||U||^2 + ||w||^2) and its gradient."""
    n, d = X.shape
    U = theta[: d * m].reshape(m, d).T  # column-major packing, as the kernel
    b = theta[d * m: d * m + m] if bias else np.zeros(m)
    w = theta[d * m + m: d * m + 2 * m]
    c = theta[-1] if bias else 0.0
    Z = X @ U + b
    H = np.maximum(Z, 0)
    f = H @ w + c
    if loss == "squared":
        r = f - y
        val, g = 0.5 * r @ r, r
    elif loss == "huber":
        r = f - y
        a = np.abs(r)
        val = np.sum(np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta)))
        g = np.clip(r, -delta, delta)
    elif loss == "logistic":
        z = y * f
        val, g = np.sum(np.logaddexp(0, -z)), -y / (1 + np.exp(z))
    else:
        z = y * f
        val, g = np.sum(np.maximum(0, 1 - z)), np.where(z < 1, -y, 0.0)
    val += 0.5 * beta * (np.sum(U * U) + w @ w)
    M = (Z > 0) * g[:, None]
    gU = X.T @ (M * w) + beta * U
    grad = np.concatenate([gU.T.ravel(), (M.sum(0) * w) if bias else np.zeros(m), H.T @ g + beta * w,
                           [g.sum() if bias else 0.0]])
    return val, grad


def _pack(U, b, w, c):
    return np.concatenate([U.T.ravel(), b, w, [c]])


def _scalar(r):
    """The kernel returns w of shape (m, o) and c of shape (o,): scalar views for o = 1."""
    return dict(r, w=np.asarray(r["w"])[:, 0], c=float(np.asarray(r["c"])[0]))


def _fit(X, y, U, b, w, c, **kw):
    return _scalar(_core.nonconvex_fit(np.asfortranarray(X), y, [U], [b], [w], [np.atleast_1d(c)], **kw)[0])


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("bias", [True, False])
def test_adam_iterates_match_numpy(loss, bias):
    X, y, U, b, w, c = _problem(loss)
    m, beta, lr, k = U.shape[1], 0.3, 0.02, 7
    r = _fit(X, y, U, b, w, c, loss=loss, beta=beta, bias=bias, adam_iter=k, adam_lr=lr, lbfgs_iter=0)
    # numpy Adam on J / n, keeping the best iterate
    x = _pack(U, b if bias else np.zeros_like(b), w, c if bias else 0.0)
    mom, vel, best, fbest = np.zeros_like(x), np.zeros_like(x), x, np.inf
    for t in range(1, k + 1):
        f, g = _objective(x, X, y, m, loss, beta, bias)
        if f < fbest:
            best, fbest = x, f
        g = g / X.shape[0]
        mom = 0.9 * mom + 0.1 * g
        vel = 0.999 * vel + 0.001 * g * g
        x = x - lr * (mom / (1 - 0.9 ** t)) / (np.sqrt(vel / (1 - 0.999 ** t)) + 1e-8)
    f, _ = _objective(x, X, y, m, loss, beta, bias)
    if f >= fbest:
        x, f = best, fbest
    got = _pack(r["U"], r["b"], r["w"], r["c"])
    np.testing.assert_allclose(got, x, rtol=1e-9, atol=1e-11)
    assert r["objective"] == pytest.approx(f, rel=1e-12)
    assert r["n_evals"] == k + 1


@pytest.mark.parametrize("loss", ["squared", "huber", "logistic"])
def test_gradient_matches_finite_differences(loss):
    """At a random point (smooth with probability 1) the numpy reference gradient, whose use
    by the kernel the Adam test checks, equals central differences of the objective."""
    X, y, U, b, w, c = _problem(loss, seed=3)
    x = _pack(U, b, w, c)
    m = U.shape[1]
    _, grad = _objective(x, X, y, m, loss, 0.5, True)
    h = 1e-6
    fd = np.array([(_objective(x + h * e, X, y, m, loss, 0.5, True)[0]
                    - _objective(x - h * e, X, y, m, loss, 0.5, True)[0]) / (2 * h)
                   for e in np.eye(x.size)])
    np.testing.assert_allclose(grad, fd, atol=1e-6)


@pytest.mark.parametrize("loss", LOSSES)
def test_lbfgs_descends_to_a_local_solution(loss):
    X, y, U, b, w, c = _problem(loss, seed=3)
    m, beta = U.shape[1], 0.5
    start, _ = _objective(_pack(U, b, w, c), X, y, m, loss, beta, True)
    r = _fit(X, y, U, b, w, c, loss=loss, beta=beta, lbfgs_iter=3000)
    val, _ = _objective(_pack(r["U"], r["b"], r["w"], r["c"]), X, y, m, loss, beta, True)
    assert r["objective"] == pytest.approx(val, rel=1e-12)
    assert val < start
    # scipy's L-BFGS-B from the same start: ours is a local solution of similar quality (local
    # minima of ReLU networks differ; this catches a kernel that stalls far from one)
    ref = minimize(lambda t: _objective(t, X, y, m, loss, beta, True), _pack(U, b, w, c), jac=True,
                   method="L-BFGS-B", options=dict(maxiter=5000))
    assert val <= 1.5 * ref.fun + 1e-6


def test_batch_is_deterministic_and_thread_independent():
    X, y, U, b, w, c = _problem("squared", n=60, m=8)
    rng = np.random.default_rng(1)
    starts = [(U + 0.1 * rng.standard_normal(U.shape), b, w, c) for _ in range(4)]
    args = [list(z) for z in zip(*starts)]
    args[3] = [np.atleast_1d(v) for v in args[3]]
    one = _core.nonconvex_fit(np.asfortranarray(X), y, *args, beta=0.2, adam_iter=50, lbfgs_iter=100,
                              n_threads=1)
    two = _core.nonconvex_fit(np.asfortranarray(X), y, *args, beta=0.2, adam_iter=50, lbfgs_iter=100,
                              n_threads=2)
    single = [_fit(X, y, *s, beta=0.2, adam_iter=50, lbfgs_iter=100) for s in starts]
    one, two = [_scalar(r) for r in one], [_scalar(r) for r in two]
    for a, bb, s in zip(one, two, single):
        for key in ("U", "b", "w"):
            np.testing.assert_array_equal(a[key], bb[key])
            np.testing.assert_array_equal(a[key], s[key])
        assert a["objective"] == bb["objective"] == s["objective"]


def test_threads_inside_one_fit_do_not_change_the_result():
    """A large enough single fit splits its neurons in column blocks run by a thread team; the
    blocks do not depend on the number of threads, so neither does the result (bitwise)."""
    rng = np.random.default_rng(5)
    n, d, m = 500, 6, 100  # n m >= 40000: 4 column blocks
    X = rng.standard_normal((n, d))
    y = np.maximum(X[:, 0], 0) - X[:, 1] + 0.1 * rng.standard_normal(n)
    start = (rng.standard_normal((d, m)), 0.1 * rng.standard_normal(m), rng.standard_normal(m) / 10, 0.0)
    runs = [_fit(X, y, *start, beta=0.5, adam_iter=30, lbfgs_iter=60, n_threads=k) for k in (1, 2, 3)]
    for r in runs[1:]:
        for key in ("U", "b", "w"):
            np.testing.assert_array_equal(r[key], runs[0][key])
        assert r["objective"] == runs[0]["objective"]


def test_refine_network_never_increases_J():
    X, y, U, b, w, c = _problem("squared", n=40, m=5, seed=2)
    J0 = network_objective(X, y, U, b, w, c, 0.3, "squared")
    fit = refine_network(X, y, U, b, w, c, beta=0.3, max_iter=200)
    assert fit.objective <= J0 + 1e-12
    assert fit.objective == pytest.approx(
        network_objective(X, y, fit.hidden_weights, fit.hidden_bias, fit.output_weights, fit.intercept,
                          0.3, "squared"), rel=1e-12)
    # rebalanced: |w_j| = ||u_j||
    np.testing.assert_allclose(np.abs(fit.output_weights), np.linalg.norm(fit.hidden_weights, axis=0),
                               rtol=1e-10)


@pytest.mark.parametrize("kw,match", [
    (dict(loss="cauchy"), "loss"),
    (dict(beta=0.0), "beta"),
    (dict(beta=np.nan), "beta"),
    (dict(adam_iter=-1), "iteration"),
    (dict(history=0), "history"),
    (dict(loss="huber", huber_delta=0.0), "huber_delta"),
])
def test_bad_options_raise_value_error(kw, match):
    X, y, U, b, w, c = _problem("squared")
    with pytest.raises(ValueError, match=match):
        _fit(X, y, U, b, w, c, **kw)


def test_bad_data_raise_value_error():
    X, y, U, b, w, c = _problem("squared")
    with pytest.raises(ValueError, match="y must have X.shape"):
        _fit(X, y[:-1], U, b, w, c)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        _fit(Xn, y, U, b, w, c)
    with pytest.raises(ValueError, match="labels"):
        _fit(X, y, U, b, w, c, loss="logistic")
    with pytest.raises(ValueError, match="U0"):
        _fit(X, y, U[:-1], b, w, c)
    with pytest.raises(ValueError, match="b0 must"):
        _fit(X, y, U, b[:-1], w, c)
    with pytest.raises(ValueError, match="w0 must"):
        _fit(X, y, U, b, w[:-1], c)
    with pytest.raises(ValueError, match="same number"):
        _core.nonconvex_fit(np.asfortranarray(X), y, [U, U], [b], [w], [np.atleast_1d(c)])


def test_baseline_and_avx2_builds_agree():
    """Both compiled cores (when this machine has the AVX2 one) give the same fits up to
    rounding (FMA), and FASTCONVEXRELU_SIMD selects them."""
    code = ("import numpy as np, fastconvexrelu as f; from fastconvexrelu import _core;"
            "rng=np.random.default_rng(0); X=np.asfortranarray(rng.standard_normal((40,3)));"
            "y=rng.standard_normal(40); U=rng.standard_normal((3,5)); b=np.zeros(5); w=np.ones(5)/5;"
            "r=_core.nonconvex_fit(X,y,[U],[b],[w],[np.zeros(1)],beta=0.5,adam_iter=20,lbfgs_iter=20)[0];"
            "print(_core.__simd__, repr(r['objective']))")
    out = {}
    for simd in ("baseline", "auto"):
        env = dict(os.environ, FASTCONVEXRELU_SIMD=simd)
        res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                             timeout=120)
        assert res.returncode == 0, res.stderr
        name, val = res.stdout.split()
        out[simd] = (name, float(val))
    assert out["baseline"][0] == "baseline"
    assert out["auto"][0] in ("baseline", "avx2")
    assert out["auto"][1] == pytest.approx(out["baseline"][1], rel=1e-8)


def _objective_vec(theta, X, Y, m, loss, beta):
    """numpy reference for vector outputs: L((XU + b)_+ W + c) + beta/2 (||U||^2 + ||W||^2)."""
    n, d = X.shape
    o = Y.shape[1]
    U = theta[: d * m].reshape(m, d).T
    b = theta[d * m: d * m + m]
    W = theta[d * m + m: d * m + m + m * o].reshape(o, m).T
    c = theta[-o:]
    Z = X @ U + b
    H = np.maximum(Z, 0)
    F = H @ W + c
    if loss == "squared":
        R = F - Y
        val, G = 0.5 * np.sum(R * R), R
    else:  # softmax
        Fm = F - F.max(axis=1, keepdims=True)
        P = np.exp(Fm) / np.exp(Fm).sum(axis=1, keepdims=True)
        val = float(np.sum(np.log(np.exp(Fm).sum(axis=1)) + F.max(axis=1) - np.sum(F * Y, axis=1)))
        G = P - Y
    val += 0.5 * beta * (np.sum(U * U) + np.sum(W * W))
    M = (Z > 0) * (G @ W.T)
    grad = np.concatenate([(X.T @ M + beta * U).T.ravel(), M.sum(0), (H.T @ G + beta * W).T.ravel(),
                           G.sum(0)])
    return val, grad


@pytest.mark.parametrize("loss", ["squared", "softmax"])
@pytest.mark.parametrize("big", [False, True])
def test_vector_outputs_adam_iterates_match_numpy(loss, big):
    rng = np.random.default_rng(7)
    n, d, m, o = (400, 4, 120, 3) if big else (30, 3, 5, 3)  # big: column blocks + threads
    X = rng.standard_normal((n, d))
    if loss == "softmax":
        Y = np.eye(o)[rng.integers(0, o, n)]
    else:
        Y = rng.standard_normal((n, o))
    U, b = rng.standard_normal((d, m)), 0.2 * rng.standard_normal(m)
    W, c = rng.standard_normal((m, o)) / np.sqrt(m), 0.1 * rng.standard_normal(o)
    beta, lr, k = 0.3, 0.02, 6
    r = _core.nonconvex_fit(np.asfortranarray(X), Y, [U], [b], [W], [c], loss=loss, beta=beta,
                            adam_iter=k, adam_lr=lr, lbfgs_iter=0, n_threads=2)[0]
    x = np.concatenate([U.T.ravel(), b, W.T.ravel(), c])
    mom, vel, best, fbest = np.zeros_like(x), np.zeros_like(x), x, np.inf
    for t in range(1, k + 1):
        f, g = _objective_vec(x, X, Y, m, loss, beta)
        if f < fbest:
            best, fbest = x, f
        g = g / n
        mom = 0.9 * mom + 0.1 * g
        vel = 0.999 * vel + 0.001 * g * g
        x = x - lr * (mom / (1 - 0.9 ** t)) / (np.sqrt(vel / (1 - 0.999 ** t)) + 1e-8)
    f, _ = _objective_vec(x, X, Y, m, loss, beta)
    if f >= fbest:
        x, f = best, fbest
    got = np.concatenate([r["U"].T.ravel(), r["b"], r["w"].T.ravel(), r["c"]])
    np.testing.assert_allclose(got, x, rtol=1e-8, atol=1e-10)
    assert r["objective"] == pytest.approx(f, rel=1e-10)
