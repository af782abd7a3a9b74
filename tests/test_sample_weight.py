"""Sample weights: the weighted loss L = sum_i s_i l(F_i, y_i) through the losses (C++ and
Python), the certificates' dual points, the group-lasso master and the seeded classifier.

References: per-row sums of the unweighted losses; Fenchel-Young; CVXPY + Clarabel for the
weighted group lasso; duplicated rows for integer weights; the objective recomputed from the
returned network.
"""

import math
import warnings

import numpy as np
import pytest

from fastconvexrelu import ConvexReLUClassifier, ConvexReLURegressor, network_objective
from fastconvexrelu import _core
from fastconvexrelu._losses import loss_conjugate, loss_gradient, loss_value
from fastconvexrelu._validation import ConvergenceWarning
from fastconvexrelu.certificates import _make_feasible
from fastconvexrelu.vector_outputs import group_lasso_master

SMOOTH = ["squared", "logistic", "softmax", "huber"]


def _data(loss, n=9, seed=0):
    rng = np.random.default_rng(seed)
    if loss in ("logistic", "hinge"):
        return rng.standard_normal((n, 1)) * 2, np.where(rng.random((n, 1)) < 0.5, -1.0, 1.0)
    if loss == "softmax":
        return rng.standard_normal((n, 3)) * 2, np.eye(3)[np.arange(n) % 3]
    return rng.standard_normal((n, 2)) * 2, rng.standard_normal((n, 2))


def _weights(n, seed=0):
    s = np.random.default_rng(seed + 100).uniform(0.2, 3.0, n)
    s[1] = 0.0  # a row that does not count
    return s


def _F(A):
    return np.asfortranarray(A, dtype=np.float64)


@pytest.mark.parametrize("loss", SMOOTH + ["hinge"])
def test_weighted_loss_is_the_weighted_row_sum_cpp_and_python(loss):
    F, Y = _data(loss)
    s = _weights(F.shape[0])
    rows = [loss_value(F[i:i + 1], Y[i:i + 1], loss, 0.7) for i in range(F.shape[0])]
    ref = float(np.dot(s, rows))
    assert loss_value(F, Y, loss, 0.7, sample_weight=s) == pytest.approx(ref, rel=1e-13)
    r = _core.loss_eval(loss, _F(F), _F(Y), 0.7, sample_weight=s)
    assert r["value"] == pytest.approx(ref, rel=1e-13)
    if loss == "hinge":
        return
    G = loss_gradient(F, Y, loss, 0.7, sample_weight=s)
    np.testing.assert_allclose(G, loss_gradient(F, Y, loss, 0.7) * s[:, None], rtol=1e-14)
    np.testing.assert_allclose(r["gradient"], G, rtol=1e-12, atol=1e-14)
    assert r["lipschitz"] == pytest.approx(np.max(s) * _core.loss_eval(loss, _F(F), _F(Y), 0.7)["lipschitz"])
    # Fenchel-Young with equality at the gradient, for the weighted loss and its conjugate
    conj = loss_conjugate(G, Y, loss, 0.7, sample_weight=s)
    assert conj == pytest.approx(_core.loss_conjugate(loss, _F(G), _F(Y), 0.7, sample_weight=s),
                                 rel=1e-11, abs=1e-12)
    lhs = loss_value(F, Y, loss, 0.7, sample_weight=s) + conj
    assert lhs == pytest.approx(float(np.sum(G * F)), rel=1e-9, abs=1e-9)
    F2, _ = _data(loss, seed=5)
    assert loss_value(F2, Y, loss, 0.7, sample_weight=s) + conj >= float(np.sum(G * F2)) - 1e-9
    # a zero-weight row must have a zero dual row
    G_bad = G.copy()
    G_bad[1] = 0.01 * (1.0 if loss != "logistic" else -Y[1, 0])
    assert math.isinf(loss_conjugate(G_bad, Y, loss, 0.7, sample_weight=s))
    assert math.isinf(_core.loss_conjugate(loss, _F(G_bad), _F(Y), 0.7, sample_weight=s))


@pytest.mark.parametrize("loss", SMOOTH + ["hinge"])
def test_weighted_dual_point_is_feasible(loss):
    F, Y = _data(loss, n=12, seed=3)
    s = _weights(F.shape[0], seed=3)
    G = loss_gradient(F, Y, loss, 0.7, sample_weight=s) if loss != "hinge" else -Y * s[:, None]
    Lam = _make_feasible(loss, G, Y, True, 0.7, sample_weight=s)
    assert Lam is not None
    np.testing.assert_allclose(Lam.sum(axis=0), 0.0, atol=1e-10)  # 1^T Lam = 0 (intercept)
    assert Lam[1].tolist() == [0.0] * Lam.shape[1]
    assert math.isfinite(loss_conjugate(Lam, Y, loss, 0.7, sample_weight=s))


def _cvx_weighted_group_lasso(Phi, Y, beta, loss, s, intercept=True):
    cp = pytest.importorskip("cvxpy")
    n, m = Phi.shape
    o = Y.shape[1]
    W = cp.Variable((m, o))
    c = cp.Variable(o) if intercept else None
    F = Phi @ W + (np.ones((n, 1)) @ cp.reshape(c, (1, o), order="C") if intercept else 0)
    if loss == "squared":
        L = 0.5 * cp.sum(cp.multiply(s[:, None], cp.square(F - Y)))
    elif loss == "huber":
        L = 0.5 * cp.sum(cp.multiply(s[:, None], cp.huber(F - Y, 1.0)))
    elif loss == "softmax":
        L = s @ cp.log_sum_exp(F, axis=1) - cp.sum(cp.multiply(s[:, None] * Y, F))
    else:
        L = s @ cp.logistic(-cp.multiply(Y[:, 0], F[:, 0]))
    prob = cp.Problem(cp.Minimize(L + beta * cp.sum(cp.norm(W, 2, axis=1))))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    return float(prob.value)


def _master_problem(loss, seed, n=30):
    rng = np.random.default_rng(seed)
    m = 10
    X = rng.standard_normal((n, 3))
    U = rng.standard_normal((3, m))
    U /= np.linalg.norm(U, axis=0)
    Phi = np.maximum(X @ U + 0.5 * rng.standard_normal(m), 0.0)
    if loss == "softmax":
        Y = np.eye(3)[np.arange(n) % 3]
    elif loss == "logistic":
        Y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[:, None]
    else:
        Y = rng.standard_normal((n, 2))
    return Phi, Y


@pytest.mark.parametrize("loss", SMOOTH)
@pytest.mark.parametrize("intercept", [True, False])
def test_weighted_master_against_cvxpy(loss, intercept):
    Phi, Y = _master_problem(loss, 31)
    s = _weights(Phi.shape[0], seed=31)
    s[7] = 0.0
    beta = 0.3
    J_ref = _cvx_weighted_group_lasso(Phi, Y, beta, loss, s, intercept)
    ms = group_lasso_master(Phi, Y, loss=loss, beta=beta, intercept=intercept, tol=1e-9,
                            max_epochs=20000, method="fista", sample_weight=s)
    assert ms.converged
    assert ms.objective == pytest.approx(J_ref, rel=1e-6, abs=1e-8)
    assert ms.gap >= ms.objective - J_ref - 1e-8  # a true bound
    short = group_lasso_master(Phi, Y, loss=loss, beta=beta, intercept=intercept, tol=1e-12,
                               max_epochs=3, method="fista", sample_weight=s)
    assert not short.converged and short.gap >= short.objective - J_ref - 1e-8


@pytest.mark.parametrize("loss", ["squared", "softmax"])
def test_integer_weights_are_duplicated_rows(loss):
    Phi, Y = _master_problem(loss, 41, n=24)
    s = np.arange(24) % 4  # 0, 1, 2, 3 copies
    rep = np.repeat(np.arange(24), s)
    kw = dict(loss=loss, beta=0.2, tol=1e-10, max_epochs=20000, method="fista")
    a = group_lasso_master(Phi, Y, sample_weight=s.astype(float), **kw)
    b = group_lasso_master(Phi[rep], Y[rep], **kw)
    assert a.objective == pytest.approx(b.objective, rel=1e-8)
    np.testing.assert_allclose(a.output_weights, b.output_weights, atol=1e-4)


def _blobs(n=150, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = 2.0 * rng.standard_normal((k, d))
    y = np.arange(n) % k
    return centers[y] + 1.5 * rng.standard_normal((n, d)), y


@pytest.mark.parametrize("k", [2, 3])
def test_classifier_sample_weight(k):
    X, y = _blobs(k=k, seed=k)
    s = np.random.default_rng(1).uniform(0.0, 2.0, X.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = ConvexReLUClassifier(beta=0.5, random_state=0).fit(X, y, sample_weight=s)
        plain = ConvexReLUClassifier(beta=0.5, random_state=0).fit(X, y)
    assert m.solver_ == "seeded"
    if k == 2:
        Yl, loss = np.where(y == m.classes_[1], 1.0, -1.0), "logistic"
    else:
        Yl, loss = np.eye(k)[y], "softmax"
    J = network_objective(X, Yl, m.hidden_weights_, m.hidden_bias_, m.output_weights_,
                          m.intercept_, 0.5, loss, penalty="weight_decay", sample_weight=s)
    assert m.objective_ == pytest.approx(J, rel=1e-9)
    assert m.objective_ != pytest.approx(plain.objective_, rel=1e-3)
    assert m.score(X, y) > 0.7
    p = m.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)


def test_class_weight_balanced_and_dict_equal_explicit_weights():
    X, y = _blobs(n=120, k=2, seed=5)
    keep = np.r_[np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:20]]  # imbalanced: 60 / 20
    X, y = X[keep], np.where(y[keep] == 1, "spam", "ham")
    kw = dict(beta=0.5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bal = ConvexReLUClassifier(class_weight="balanced", **kw).fit(X, y)
        n0, n1 = np.sum(y == "ham"), np.sum(y == "spam")
        s = np.where(y == "ham", len(y) / (2 * n0), len(y) / (2 * n1))
        expl = ConvexReLUClassifier(**kw).fit(X, y, sample_weight=s)
        dic = ConvexReLUClassifier(class_weight={"spam": 3.0}, **kw).fit(X, y)
        expl3 = ConvexReLUClassifier(**kw).fit(X, y, sample_weight=np.where(y == "spam", 3.0, 1.0))
    assert bal.objective_ == expl.objective_
    assert dic.objective_ == expl3.objective_
    assert set(bal.predict(X)) <= {"ham", "spam"}


def test_sample_weight_bad_input():
    X, y = _blobs(n=30, k=2)
    clf = ConvexReLUClassifier(beta=0.5)
    for bad in (np.ones(29), np.ones((30, 2)), np.r_[np.ones(29), np.nan],
                np.r_[np.ones(29), -1.0], np.zeros(30), np.array(["a"] * 30)):
        with pytest.raises(ValueError, match="sample_weight"):
            clf.fit(X, y, sample_weight=bad)
    with pytest.raises(ValueError, match="class_weight"):
        ConvexReLUClassifier(class_weight="balance").fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        ConvexReLUClassifier(class_weight={7: 1.0}).fit(X, y)
    with pytest.raises(ValueError, match="class_weight"):
        ConvexReLUClassifier(class_weight={0: -1.0}).fit(X, y)
    # weights that leave one class only: no classifier to fit (issue 20)
    with pytest.raises(ValueError, match="class_weight.*one class"):
        ConvexReLUClassifier(class_weight={0: 0.0}).fit(X, y)
    with pytest.raises(ValueError, match="sample_weight.*one class"):
        clf.fit(X, y, sample_weight=(y == y[0]).astype(float))
    X3, y3 = _blobs(n=30, k=3)
    with pytest.raises(ValueError, match="class_weight.*one class"):
        ConvexReLUClassifier(class_weight={0: 0.0, 1: 0.0}).fit(X3, y3)
    ConvexReLUClassifier(beta=0.5, class_weight={0: 0.0}).fit(X3, y3)  # two classes left: fine
    # routes without weights say so
    with pytest.raises(ValueError, match="sample_weight"):
        ConvexReLUClassifier(beta=0.5, loss="hinge").fit(X, y, sample_weight=np.ones(30))
    with pytest.raises(ValueError, match="sample_weight"):
        group_lasso_master(np.ones((30, 2)), np.ones((30, 1)), beta=1.0, method="bcd",
                           sample_weight=np.ones(30))


@pytest.mark.parametrize("loss", ["squared", "huber"])
def test_regressor_sample_weight_restricted_gap_is_a_true_bound(loss):
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(80)
    s = rng.uniform(0.0, 2.0, 80)
    s[:5] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m = ConvexReLURegressor(beta=0.5, loss=loss, random_state=0).fit(X, y, sample_weight=s)
    assert m.solver_ == "seeded" and math.isinf(m.duality_gap_)
    J = network_objective(X, y, m.hidden_weights_, m.hidden_bias_, m.output_weights_,
                          m.intercept_, 0.5, loss, sample_weight=s)
    assert m.objective_ == pytest.approx(J, rel=1e-9)
    # CVXPY optimum of the weighted problem over the returned neurons (unit directions)
    nu = np.linalg.norm(m.hidden_weights_, axis=0)
    Phi = np.maximum(X @ (m.hidden_weights_ / nu) + m.hidden_bias_ / nu, 0.0)
    w, c = cp.Variable(Phi.shape[1]), cp.Variable()
    r = Phi @ w + c - y
    L = 0.5 * cp.sum(cp.multiply(s, cp.square(r))) if loss == "squared" else \
        0.5 * cp.sum(cp.multiply(s, cp.huber(r, 1.0)))
    prob = cp.Problem(cp.Minimize(L + 0.5 * cp.norm1(w)))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    assert J - prob.value <= m.restricted_gap_ * (1 + 1e-6) + 1e-7
    assert J >= prob.value - 1e-6 * max(1.0, abs(prob.value))
    # a weight-0 sample does not move the fit: changing its target changes nothing
    y2 = y.copy()
    y2[:5] += 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        m2 = ConvexReLURegressor(beta=0.5, loss=loss, random_state=0).fit(X, y2, sample_weight=s)
    assert m2.objective_ == pytest.approx(m.objective_, rel=1e-6)


def test_regressor_sample_weight_bad_input():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 2)), rng.standard_normal(20)
    for bad in (np.ones(19), np.r_[np.ones(19), np.inf], -np.ones(20), np.zeros(20)):
        with pytest.raises(ValueError, match="sample_weight"):
            ConvexReLURegressor(beta=0.5).fit(X, y, sample_weight=bad)
    with pytest.raises(ValueError, match="sample_weight"):  # no weighted exact route
        ConvexReLURegressor(beta=0.5, solver="arrangements").fit(X, y, sample_weight=np.ones(20))
    with pytest.raises(ValueError, match="sample_weight"):  # vector targets
        ConvexReLURegressor(beta=0.5).fit(X, np.c_[y, y], sample_weight=np.ones(20))
