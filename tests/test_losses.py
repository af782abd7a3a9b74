"""The loss interface (C++ fcr::LossFunction and python _losses) against SciPy and finite differences."""

import numpy as np
import pytest
from scipy.optimize import minimize

from fastconvexrelu import _core
from fastconvexrelu._losses import (
    check_targets,
    loss_conjugate,
    loss_gradient,
    loss_lipschitz,
    loss_value,
)

SMOOTH = ["squared", "logistic", "softmax", "huber"]


def data(loss, n=7, seed=0):
    rng = np.random.default_rng(seed)
    if loss in ("logistic", "hinge"):
        return rng.standard_normal((n, 1)) * 2, np.where(rng.random((n, 1)) < 0.5, -1.0, 1.0)
    if loss == "softmax":
        return rng.standard_normal((n, 3)) * 2, np.eye(3)[rng.integers(0, 3, n)]
    return rng.standard_normal((n, 2)) * 2, rng.standard_normal((n, 2))


def F_(A):
    return np.asfortranarray(A, dtype=np.float64)


@pytest.mark.parametrize("loss", SMOOTH + ["hinge"])
def test_cpp_and_python_agree(loss):
    F, Y = data(loss)
    r = _core.loss_eval(loss, F_(F), F_(Y), 0.7)
    assert r["value"] == pytest.approx(loss_value(F, Y, loss, 0.7), rel=1e-13)
    assert r["lipschitz"] == loss_lipschitz(loss)
    if loss != "hinge":
        np.testing.assert_allclose(r["gradient"], loss_gradient(F, Y, loss, 0.7), rtol=1e-12, atol=1e-14)
        G = loss_gradient(F, Y, loss, 0.7)
        assert _core.loss_conjugate(loss, F_(G), F_(Y), 0.7) == pytest.approx(loss_conjugate(G, Y, loss, 0.7),
                                                                             rel=1e-12, abs=1e-13)


@pytest.mark.parametrize("loss", SMOOTH)
def test_gradient_matches_finite_differences(loss):
    F, Y = data(loss, seed=1)
    G = loss_gradient(F, Y, loss, 0.7)
    h = 1e-6
    for idx in [(0, 0), (3, F.shape[1] - 1), (6, 0)]:
        E = np.zeros_like(F)
        E[idx] = h
        fd = (loss_value(F + E, Y, loss, 0.7) - loss_value(F - E, Y, loss, 0.7)) / (2 * h)
        assert fd == pytest.approx(G[idx], abs=1e-6)


@pytest.mark.parametrize("loss", SMOOTH)
def test_fenchel_young_equality_and_inequality(loss):
    # L(F) + L*(grad L(F)) = <grad L(F), F>  and  L(F') + L*(Lam) >= <Lam, F'> for any F'
    F, Y = data(loss, seed=2)
    G = loss_gradient(F, Y, loss, 0.7)
    lhs = loss_value(F, Y, loss, 0.7) + loss_conjugate(G, Y, loss, 0.7)
    assert lhs == pytest.approx(np.sum(G * F), abs=1e-10)
    rng = np.random.default_rng(3)
    for _ in range(5):
        F2 = F + rng.standard_normal(F.shape)
        assert loss_value(F2, Y, loss, 0.7) + loss_conjugate(G, Y, loss, 0.7) >= np.sum(G * F2) - 1e-10


def _entry_loss(f, y, loss):
    if loss == "squared":
        return 0.5 * (f - y) ** 2
    if loss == "huber":
        r = np.abs(f - y)
        return np.where(r <= 0.7, 0.5 * r * r, 0.7 * (r - 0.35))
    if loss == "logistic":
        return np.logaddexp(0.0, -y * f)
    return np.maximum(0.0, 1.0 - y * f)


@pytest.mark.parametrize("loss", ["squared", "huber", "logistic", "hinge"])
def test_conjugate_is_the_sup(loss):
    # L*(lam) = sup_F <lam, F> - L(F), computed by SciPy on a small one-column problem
    F, Y = data(loss, n=3, seed=4)
    Y = Y[:, :1]
    lam = loss_gradient(F[:, :1], Y, loss, 0.7) * 0.9 if loss != "hinge" else -0.6 * Y
    # the losses are separable over entries: sup over a fine grid of f for each entry
    grid = np.linspace(-30, 30, 600001)
    sup = 0.0
    for j in range(3):
        vals = lam[j, 0] * grid - _entry_loss(grid, Y[j, 0], loss)
        sup += vals.max()
    assert sup == pytest.approx(loss_conjugate(lam, Y, loss, 0.7), abs=1e-6)
    if loss != "squared":  # outside the domain: +inf
        assert loss_conjugate(lam * 5 if loss != "huber" else lam * 100, Y, loss, 0.7) == np.inf


@pytest.mark.parametrize("loss", ["squared", "huber", "logistic", "softmax", "hinge"])
def test_prox_is_the_argmin(loss):
    F, Y = data(loss, n=4, seed=5)
    t = 0.8
    P = _core.loss_prox(loss, F_(F), F_(Y), t, 0.7)
    res = minimize(lambda f: t * loss_value(f.reshape(F.shape), Y, loss, 0.7) + 0.5 * np.sum((f - F.ravel()) ** 2),
                   P.ravel() + 0.01, method="Nelder-Mead",
                   options=dict(xatol=1e-10, fatol=1e-14, maxiter=40000, maxfev=40000))
    obj = lambda A: t * loss_value(A, Y, loss, 0.7) + 0.5 * np.sum((A - F) ** 2)  # noqa: E731
    assert obj(P) <= res.fun + 1e-9


@pytest.mark.parametrize("loss", SMOOTH)
def test_lipschitz_bound(loss):
    rng = np.random.default_rng(6)
    F, Y = data(loss, seed=6)
    L = loss_lipschitz(loss)
    for _ in range(20):
        F2 = F + rng.standard_normal(F.shape)
        dG = np.linalg.norm(loss_gradient(F, Y, loss, 0.7) - loss_gradient(F2, Y, loss, 0.7))
        assert dG <= L * np.linalg.norm(F - F2) + 1e-12


def test_bad_targets():
    with pytest.raises(ValueError, match="Y"):
        check_targets(np.array([1.0, 0.0]), "logistic")
    with pytest.raises(ValueError, match="Y"):
        check_targets(np.array([1.0, np.nan]), "squared")
    with pytest.raises(ValueError, match="Y"):
        check_targets(np.array([[1.0, 1.0], [0.0, 1.0]]), "softmax")
    with pytest.raises(ValueError, match="loss"):
        check_targets(np.array([1.0]), "cubic")
    with pytest.raises(ValueError):
        _core.loss_eval("logistic", F_(np.zeros((2, 1))), F_(np.array([[1.0], [0.5]])), 1.0)


@pytest.mark.parametrize("loss", ["logistic", "hinge"])
def test_pm1_losses_sum_over_columns(loss):
    # one-vs-rest +-1 columns (multiclass hinge): L and L* are sums over the columns (the
    # Python version once kept column 0 only); the C++ loss takes one column and says so
    rng = np.random.default_rng(5)
    F = rng.standard_normal((6, 3)) * 2
    Y = np.where(rng.random((6, 3)) < 0.5, -1.0, 1.0)
    cols = sum(loss_value(F[:, [k]], Y[:, [k]], loss) for k in range(3))
    assert loss_value(F, Y, loss) == pytest.approx(cols, rel=1e-13)
    with pytest.raises(ValueError, match="one column"):
        _core.loss_eval(loss, F_(F), F_(Y), 1.0)
    Lam = -Y * rng.random((6, 3))  # in the domain: -Y * Lam in [0, 1]
    colc = sum(loss_conjugate(Lam[:, [k]], Y[:, [k]], loss) for k in range(3))
    assert loss_conjugate(Lam, Y, loss) == pytest.approx(colc, rel=1e-13)
