"""API tests of ConvexReLURegressor / ConvexReLUClassifier, input validation, objective, CLI."""

import warnings

import numpy as np
import pytest

from fastconvexrelu import ConvexReLUClassifier, ConvexReLURegressor, network_objective
from fastconvexrelu import _solvers_1d
from fastconvexrelu._demo_data import demo_regression_1d, proposition_3_1_data
from fastconvexrelu._objective import _loss_value
from fastconvexrelu._validation import ConvergenceWarning, NotFittedError

ESTIMATORS = [ConvexReLURegressor, ConvexReLUClassifier]


def _data_1d(n=25, seed=0):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-2, 2, n))
    y = np.sin(2 * x) + 0.1 * rng.standard_normal(n)
    return x.reshape(-1, 1), y


def _labels_1d(n=30, seed=1):
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-3, 3, n))
    y = np.where(np.sin(1.3 * x) > 0, 1, -1)
    return x.reshape(-1, 1), y


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


# ------------------------------------------------------------------ paper example
def test_proposition_3_1_min_norm_interpolation():
    a, y = proposition_3_1_data()
    est = ConvexReLURegressor(beta=0).fit(a.reshape(-1, 1), y)
    assert est.objective_ == pytest.approx(8.0, abs=1e-6)
    np.testing.assert_allclose(est.predict(a.reshape(-1, 1)), y, atol=1e-6)
    assert 0 <= est.duality_gap_ <= 1e-6
    assert est.solver_ == "extreme_points"
    assert est.converged_
    # every kink -b_j/u_j is at a data point
    knots = -est.hidden_bias_ / est.hidden_weights_[0]
    assert knots.size == est.n_active_ > 0
    assert np.all(np.min(np.abs(knots[:, None] - a[None, :]), axis=1) < 1e-8)
    np.testing.assert_allclose(np.abs(est.hidden_weights_), 1.0)
    # the reported objective is the shared objective of the returned network
    J = network_objective(a.reshape(-1, 1), y, est.hidden_weights_, est.hidden_bias_,
                          est.output_weights_, est.intercept_, 0.0, "squared")
    assert J == pytest.approx(est.objective_, rel=1e-12)


@pytest.mark.parametrize("bias", [True, False])
def test_fitted_attributes(bias):
    X, y = _data_1d()
    est = _fit(ConvexReLURegressor(beta=1e-2, bias=bias), X, y)
    m = est.output_weights_.shape[0]
    assert est.hidden_weights_.shape == (1, m)
    assert est.hidden_bias_.shape == (m,)
    assert isinstance(est.intercept_, float)
    assert est.dual_coef_.shape == (X.shape[0],)
    assert est.n_features_in_ == 1
    assert est.n_active_ == np.count_nonzero(est.output_weights_) == m
    assert np.all(est.output_weights_ != 0)
    assert est.duality_gap_ >= 0
    assert isinstance(est.converged_, bool) and isinstance(est.n_iter_, int)
    if not bias:
        assert np.all(est.hidden_bias_ == 0) and est.intercept_ == 0.0
    J = network_objective(X, y, est.hidden_weights_, est.hidden_bias_, est.output_weights_,
                          est.intercept_, 1e-2, "squared")
    assert J == pytest.approx(est.objective_, rel=1e-12)


def test_rank_one_data_matches_1d():
    a, y = proposition_3_1_data()
    direction = np.array([1.0, 2.0, -2.0])  # norm 3
    offset = np.array([0.5, -1.0, 4.0])
    X = offset + np.outer(a, direction)
    est = ConvexReLURegressor(beta=0).fit(X, y)
    assert est.solver_ == "extreme_points"
    assert est.objective_ == pytest.approx(8.0 / 3.0, abs=1e-6)
    np.testing.assert_allclose(est.predict(X), y, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(est.hidden_weights_, axis=0), 1.0)

    est_reg = ConvexReLURegressor(beta=0.1).fit(X, y)
    est_1d = ConvexReLURegressor(beta=0.1).fit((3.0 * a).reshape(-1, 1), y)
    assert est_reg.objective_ == pytest.approx(est_1d.objective_, rel=1e-6)


def test_rank_one_without_bias():
    t = np.array([-2.0, -1.0, 0.5, 1.0, 3.0])
    X = np.outer(t, [2.0, 0.0, 1.0])
    y = np.array([1.0, 0.5, 0.2, 0.6, 2.0])
    est = ConvexReLURegressor(beta=1e-2, bias=False).fit(X, y)
    assert est.solver_ == "extreme_points"
    assert est.n_active_ <= 2
    assert np.all(est.hidden_bias_ == 0) and est.intercept_ == 0.0
    assert est.duality_gap_ <= 1e-6


def test_one_sample_and_identical_samples():
    est = ConvexReLURegressor(beta=0.1).fit([[1.0]], [3.0])
    assert est.objective_ == 0.0 and est.duality_gap_ == 0.0
    np.testing.assert_allclose(est.predict([[5.0], [-1.0]]), 3.0)
    est = ConvexReLURegressor(beta=0.1).fit([[2.0, 1.0]] * 3, [1.0, 2.0, 6.0])
    assert est.intercept_ == pytest.approx(3.0)
    assert est.objective_ == pytest.approx(0.5 * (4 + 1 + 9))
    with pytest.raises(ValueError, match="infeasible"):
        ConvexReLURegressor(beta=0).fit([[1.0], [1.0]], [0.0, 1.0])


def test_classifier_constant_samples():
    clf = ConvexReLUClassifier(beta=0.1).fit([[0.0], [0.0], [0.0]], ["x", "y", "y"])
    assert list(clf.predict([[3.0]])) == ["y"]
    assert clf.duality_gap_ == 0.0


# -------------------------------------------------------------------- classifier
@pytest.mark.parametrize("labels", [("a", "b"), (3, 7), (-1, 1), (0.0, 1.0), (True, False)])
def test_classifier_labels_roundtrip(labels):
    X, y_pm = _labels_1d()
    lo, hi = sorted(labels)
    y = np.where(y_pm > 0, hi, lo)
    clf = _fit(ConvexReLUClassifier(beta=1e-3), X, y)
    assert list(clf.classes_) == [lo, hi]
    pred = clf.predict(X)
    assert set(pred.tolist()) <= {lo, hi}
    assert clf.score(X, y) == 1.0
    np.testing.assert_array_equal(pred, y)
    dec = clf.decision_function(X)
    np.testing.assert_array_equal(dec > 0, y == hi)


@pytest.mark.parametrize("loss", ["hinge", "logistic", "squared"])
def test_classifier_losses(loss):
    X, y = _labels_1d()
    clf = _fit(ConvexReLUClassifier(beta=1e-2, loss=loss), X, y)
    assert clf.duality_gap_ >= 0
    ypm = np.where(y == clf.classes_[1], 1.0, -1.0)
    J = network_objective(X, ypm, clf.hidden_weights_, clf.hidden_bias_, clf.output_weights_,
                          clf.intercept_, 1e-2, loss)
    assert J == pytest.approx(clf.objective_, rel=1e-12)
    assert clf.score(X, y) >= 0.9


def test_classifier_hard_margin():
    X, y = _labels_1d()
    clf = _fit(ConvexReLUClassifier(beta=0, loss="hinge"), X, y)
    assert np.all(np.where(y == clf.classes_[1], 1, -1) * clf.decision_function(X) >= 1 - 1e-6)
    assert np.isfinite(clf.objective_)


def test_score_with_unknown_labels():
    X, y = _labels_1d()
    clf = _fit(ConvexReLUClassifier(), X, np.where(y > 0, "pos", "neg"))
    y_test = np.where(y > 0, "pos", "neg").astype(object)
    y_test[:10] = "other"
    assert clf.score(X, y_test) == pytest.approx(1.0 - 10 / len(y))
    assert clf.score(X, np.full(len(y), 5)) == 0.0


# ------------------------------------------------------------ dtype / layout / lists
def test_input_conversions_give_same_result():
    X, y = _data_1d(20)
    X = np.round(X * 8) / 8  # exactly representable in float32
    y = np.round(y * 8) / 8
    ref = _fit(ConvexReLURegressor(beta=1e-2), X, y)
    Xbig = np.zeros((X.shape[0], 3))
    Xbig[:, 1] = X[:, 0]
    variants = [
        (X.tolist(), y.tolist()),
        (tuple(map(tuple, X)), tuple(y)),
        (X.astype(np.float32), y.astype(np.float32)),
        (np.asfortranarray(X), y),
        (Xbig[:, 1:2], np.repeat(y, 2)[::2]),  # non-contiguous views
    ]
    for Xv, yv in variants:
        est = _fit(ConvexReLURegressor(beta=1e-2), Xv, yv)
        assert est.objective_ == pytest.approx(ref.objective_, rel=1e-10)
        np.testing.assert_allclose(est.predict(Xv), ref.predict(X), rtol=1e-10, atol=1e-12)


def test_integer_inputs():
    X = np.arange(-4, 5).reshape(-1, 1)
    y = np.array([2, 1, 0, 1, 2, 3, 2, 1, 0])
    est = ConvexReLURegressor(beta=0).fit(X, y)
    ref = ConvexReLURegressor(beta=0).fit(X.astype(float), y.astype(float))
    assert est.objective_ == pytest.approx(ref.objective_, rel=1e-12)
    np.testing.assert_allclose(est.predict(X), y, atol=1e-6)
    clf = _fit(ConvexReLUClassifier(), X, (y > 1).astype(int))
    assert clf.predict(X).dtype.kind == "i"


# -------------------------------------------------------------------- bad inputs
X_OK, Y_OK = _data_1d(10)


def _bad_data_cases():
    nan_X = X_OK.copy()
    nan_X[3, 0] = np.nan
    inf_X = X_OK.copy()
    inf_X[0, 0] = np.inf
    nan_y = Y_OK.copy()
    nan_y[2] = np.nan
    return [
        ("X", nan_X, Y_OK, "NaN"),
        ("X", inf_X, Y_OK, "infinity"),
        ("X", X_OK[:, 0], Y_OK, r"reshape\(-1, 1\)"),
        ("X", X_OK.reshape(10, 1, 1), Y_OK, "2-D"),
        ("X", np.array(3.0), Y_OK, "2-D"),
        ("X", np.zeros((0, 1)), np.zeros(0), "empty"),
        ("X", np.zeros((10, 0)), Y_OK, r"0 feature\(s\)"),
        ("X", X_OK + 1j, Y_OK, "complex"),
        ("X", np.array([["a"], ["b"]], dtype=object), [1.0, 2.0], "X"),
        ("X", [[1.0], [2.0, 3.0]], [1.0, 2.0], "X"),
        ("X", X_OK[:7], Y_OK, "inconsistent"),
        ("y", X_OK, nan_y, "NaN"),
        ("y", X_OK, Y_OK + 1j, "complex"),
        ("y", X_OK, np.ones((10, 2, 1)), "1-D"),
        ("y", X_OK, np.c_[np.ones(10), np.r_[np.ones(9), np.nan]], r"y\[:, 1\] contains NaN"),
        ("y", X_OK, np.ones((10, 0)), "0 output"),
        ("y", X_OK, np.array(["a"] * 10, dtype=object), "y"),
        ("y", X_OK, None, "y"),
    ]


@pytest.mark.parametrize("name, X, y, match", _bad_data_cases())
def test_regressor_bad_data(name, X, y, match):
    with pytest.raises(ValueError, match=match) as info:
        ConvexReLURegressor().fit(X, y)
    assert name in str(info.value)


@pytest.mark.parametrize("y, match", [
    (np.ones(10), "only one class"),
    (np.eye(3)[np.arange(10) % 2], "no samples"),  # one-hot with an empty class
    (np.ones((10, 3)), "not one-hot"),
    (np.linspace(0, 1, 10) + 0.01, "Unknown label type"),
    (np.r_[np.ones(5), np.full(5, np.nan)], "NaN"),
    (np.ones(7), "inconsistent"),
])
def test_classifier_bad_labels(y, match):
    with pytest.raises(ValueError, match=match) as info:
        ConvexReLUClassifier().fit(X_OK, y)
    assert "y" in str(info.value)


def test_sparse_input():
    # scipy.sparse X (a bag-of-words, say) is densified: the same fit as the dense array;
    # sparse targets, sparse X with NaN and sparse X too large to densify are rejected
    sparse = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(0)
    counts = rng.poisson(0.3, size=(60, 40)).astype(float)  # word counts, mostly zeros
    labels = np.where(counts[:, :20].sum(1) > counts[:, 20:].sum(1), "pos", "neg")
    for fmt in (sparse.csr_matrix, sparse.csc_array, sparse.coo_matrix):
        Xs = fmt(counts)
        a = ConvexReLUClassifier(beta=0.5, random_state=0).fit(Xs, labels)
        b = ConvexReLUClassifier(beta=0.5, random_state=0).fit(counts, labels)
        assert a.objective_ == b.objective_
        np.testing.assert_array_equal(a.predict(Xs), b.predict(counts))
        np.testing.assert_allclose(a.decision_function(Xs), b.decision_function(counts))
    r = ConvexReLURegressor(beta=0.5, random_state=0).fit(sparse.csr_matrix(X_OK), Y_OK)
    assert r.predict(sparse.csr_matrix(X_OK)).shape == (X_OK.shape[0],)
    with pytest.raises(ValueError, match="y is a sparse matrix"):
        ConvexReLURegressor().fit(X_OK, sparse.csr_matrix(Y_OK[:, None]))
    bad = sparse.csr_matrix(counts)
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        ConvexReLUClassifier().fit(bad, labels)
    huge = sparse.csr_matrix((200_000, 100_000))
    with pytest.raises(ValueError, match="X is a sparse matrix .* too large to densify"):
        ConvexReLUClassifier().fit(huge, np.arange(200_000) % 2)


def test_classifier_bad_X():
    with pytest.raises(ValueError, match="reshape"):
        ConvexReLUClassifier().fit(X_OK[:, 0], np.arange(10) % 2)


@pytest.mark.parametrize("Est, params, name", [
    (ConvexReLURegressor, {"beta": -1.0}, "beta"),
    (ConvexReLURegressor, {"beta": np.nan}, "beta"),
    (ConvexReLURegressor, {"beta": "big"}, "beta"),
    (ConvexReLURegressor, {"tol": 0.0}, "tol"),
    (ConvexReLURegressor, {"tol": -1e-3}, "tol"),
    (ConvexReLURegressor, {"max_iter": 0}, "max_iter"),
    (ConvexReLURegressor, {"max_iter": 2.5}, "max_iter"),
    (ConvexReLURegressor, {"loss": "absolute"}, "loss"),
    (ConvexReLURegressor, {"loss": "hinge"}, "loss"),
    (ConvexReLURegressor, {"loss": "logistic"}, "loss"),
    (ConvexReLURegressor, {"solver": "sgd"}, "solver"),
    (ConvexReLURegressor, {"bias": "yes"}, "bias"),
    (ConvexReLUClassifier, {"beta": -0.5}, "beta"),
    (ConvexReLUClassifier, {"loss": "absolute"}, "loss"),
    (ConvexReLUClassifier, {"loss": "logistic", "beta": 0.0}, "beta must be > 0 for the logistic loss"),
    (ConvexReLUClassifier, {"solver": "newton"}, "solver"),
    (ConvexReLUClassifier, {"max_iter": -3}, "max_iter"),
])
def test_bad_parameters(Est, params, name):
    est = Est(**params)  # __init__ never validates
    y = Y_OK if Est is ConvexReLURegressor else (Y_OK > 0).astype(int)
    with pytest.raises(ValueError, match=name):
        est.fit(X_OK, y)


def test_unknown_solver_lists_valid_ones():
    with pytest.raises(ValueError, match="'auto', 'extreme_points'"):
        ConvexReLURegressor(solver="cutting_plane_typo").fit(X_OK, Y_OK)


def test_extreme_points_needs_a_line():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 3)), rng.standard_normal(12)
    with pytest.raises(ValueError, match="one line"):
        ConvexReLURegressor(solver="extreme_points").fit(X, y)
    with pytest.raises(ValueError, match="Huber"):
        ConvexReLURegressor(solver="extreme_points", loss="huber").fit(X[:, :1], y)
    # on a line, but not through the origin: fine with bias, not without
    a, yy = proposition_3_1_data()
    Xl = np.array([1.0, 1.0]) + np.outer(a, [1.0, -1.0])
    ConvexReLURegressor(solver="extreme_points").fit(Xl, yy)
    with pytest.raises(ValueError, match="origin"):
        ConvexReLURegressor(solver="extreme_points", bias=False).fit(Xl, yy)


def test_not_fitted():
    for Est in ESTIMATORS:
        est = Est()
        with pytest.raises(NotFittedError):
            est.predict(X_OK)
        assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    with pytest.raises(NotFittedError):
        ConvexReLUClassifier().decision_function(X_OK)


def test_predict_wrong_n_features():
    est = _fit(ConvexReLURegressor(), X_OK, Y_OK)
    with pytest.raises(ValueError, match="features"):
        est.predict(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
        est.predict(X_OK[:, 0])
    with pytest.raises(ValueError, match="NaN"):
        est.predict([[np.nan]])


def test_infeasible_interpolation():
    with pytest.raises(ValueError):
        ConvexReLURegressor(beta=0).fit([[0.0], [1.0], [1.0]], [0.0, 1.0, 2.0])


def test_convergence_warning():
    X, y = demo_regression_1d()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        est = ConvexReLURegressor(beta=1e-3, max_iter=1, tol=1e-12).fit(X, y)
    if not est.converged_:
        assert any(issubclass(w.category, ConvergenceWarning) for w in rec)
    else:  # pragma: no cover - a solver that converges in one iteration
        assert est.duality_gap_ <= 1e-6
    assert issubclass(ConvergenceWarning, UserWarning)


def test_verbose_prints(capsys):
    X, y = _data_1d()
    _fit(ConvexReLURegressor(beta=1e-2, verbose=True), X, y)
    out = capsys.readouterr().out
    assert "extreme_points" in out and "objective" in out and "gap" in out


# --------------------------------------------------------------- params / repr
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_get_set_params_roundtrip(Est):
    est = Est(beta=0.5, bias=False, max_iter=7)
    params = est.get_params()
    expected = {"beta": 0.5, "bias": False, "loss": est.loss, "max_iter": 7,
                "solver": "auto", "tol": 1e-8, "verbose": False, "n_patterns": None,
                "random_state": None, "patterns": "auto", "penalty": "auto",
                "max_time": None}
    if Est is ConvexReLURegressor:
        expected["huber_delta"] = 1.0
    else:
        expected["class_weight"] = None
    assert params == expected
    other = Est().set_params(**params)
    assert other.get_params() == params
    assert est.set_params() is est
    assert est.set_params(beta=2.0) is est and est.beta == 2.0
    with pytest.raises(ValueError, match="Invalid parameter"):
        est.set_params(gamma=1.0)
    assert "beta=2.0" in repr(est) and Est.__name__ in repr(est)
    assert repr(Est()) == f"{Est.__name__}()"


def test_pickle_roundtrip():
    import pickle

    est = _fit(ConvexReLURegressor(beta=1e-2), X_OK, Y_OK)
    est2 = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(est2.predict(X_OK), est.predict(X_OK))


# -------------------------------------------------------------- scikit-learn
def test_sklearn_clone():
    sklearn_base = pytest.importorskip("sklearn.base")
    for Est in ESTIMATORS:
        est = Est(beta=0.25, tol=1e-7)
        c = sklearn_base.clone(est)
        assert c is not est and c.get_params() == est.get_params()
    assert sklearn_base.is_regressor(ConvexReLURegressor())
    assert sklearn_base.is_classifier(ConvexReLUClassifier())


def test_sklearn_pipeline():
    pytest.importorskip("sklearn")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _data_1d(30)
    pipe = make_pipeline(StandardScaler(), ConvexReLURegressor(beta=1e-3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(10 * X + 3, y)
    assert pipe.score(10 * X + 3, y) > 0.9
    pipe.set_params(convexreluregressor__beta=1.0)
    assert pipe.get_params()["convexreluregressor__beta"] == 1.0


def test_sklearn_grid_search():
    pytest.importorskip("sklearn")
    from sklearn.model_selection import GridSearchCV

    X, y = _data_1d(40)
    gs = GridSearchCV(ConvexReLURegressor(), {"beta": [1e-3, 1e-2, 1e-1]}, cv=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gs.fit(X, y)
    assert gs.best_params_["beta"] in (1e-3, 1e-2, 1e-1)
    assert hasattr(gs.best_estimator_, "objective_")


def test_sklearn_cross_val_score():
    pytest.importorskip("sklearn")
    from sklearn.model_selection import cross_val_score

    X, y = _data_1d(40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        s = cross_val_score(ConvexReLURegressor(beta=1e-2), X, y, cv=4)
        assert s.shape == (4,) and np.all(np.isfinite(s))
        Xc, yc = _labels_1d(60)
        yc = np.where(yc > 0, "up", "down")
        s = cross_val_score(ConvexReLUClassifier(beta=1e-3), Xc, yc, cv=3)
        assert s.shape == (3,) and np.mean(s) > 0.7


# --------------------------------------------------------------- objective
def test_network_objective_values():
    X = np.array([[0.0], [1.0], [2.0]])
    y = np.array([1.0, -1.0, 1.0])
    U = np.array([[1.0, -2.0]])
    b = np.array([-0.5, 1.0])
    w = np.array([2.0, -1.0])
    c = 0.5
    f = np.maximum(X @ U + b, 0) @ w + c
    beta = 0.3
    pen = beta * (2.0 * 1.0 + 1.0 * 2.0)
    assert network_objective(X, y, U, b, w, c, beta, "squared") == pytest.approx(
        0.5 * np.sum((f - y) ** 2) + pen)
    assert network_objective(X, y, U, b, w, c, beta, "hinge") == pytest.approx(
        np.sum(np.maximum(0, 1 - y * f)) + pen)
    assert network_objective(X, y, U, b, w, c, beta, "logistic") == pytest.approx(
        np.sum(np.log1p(np.exp(-y * f))) + pen)
    with pytest.raises(ValueError, match="beta must be > 0 for the logistic loss"):
        network_objective(X, y, U, b, w, c, 0.0, "logistic")
    with pytest.raises(ValueError, match="loss"):
        network_objective(X, y, U, b, w, c, 0.1, "absolute")


def test_logistic_loss_is_stable():
    f = np.array([1000.0, -1000.0, 0.0])
    y = np.array([-1.0, -1.0, 1.0])
    val = _loss_value(f, y, "logistic")
    assert np.isfinite(val)
    assert val == pytest.approx(1000.0 + 0.0 + np.log(2.0))


def test_network_objective_min_norm():
    a, y = proposition_3_1_data()
    X = a.reshape(-1, 1)
    # the paper's second optimal network (not a spline with kinks at the data)
    U = np.array([[1, 1, 1, 1, -1, -1, -1, -1]], dtype=float)
    b = np.array([2, 1, 0, -0.5, -1, 0, 0.5, 2])
    w = np.array([0, 4 / 3, 0, -10 / 3, 8 / 3, 0, -2 / 3, 0])
    assert network_objective(X, y, U, b, w, 0.0, 0.0, "squared") == pytest.approx(8.0)
    assert network_objective(X, y + 1.0, U, b, w, 0.0, 0.0, "squared") == np.inf


# ------------------------------------------------ kernel contract (fake kernel)
def test_mapping_from_line_coordinates(monkeypatch):
    """A right ramp (t - k)_+ maps to u = a, b = -k - a.x0; a left ramp to u = -a."""
    a_dir = np.array([0.6, 0.8])
    x0 = np.array([1.0, -2.0])
    t = np.array([-1.0, 0.0, 2.0, 3.0])
    X = x0 + np.outer(t, a_dir)

    class FakeCore:
        @staticmethod
        def fit_line(X_, bias):
            return x0, a_dir, t, 0.0

        @staticmethod
        def fit_spline_1d(t_, y_, loss, beta, tol, max_iter):
            f = 0.5 + 2.0 * np.maximum(t_ - 0.0, 0) - 1.0 * np.maximum(2.0 - t_, 0)
            J = 0.5 * np.sum((f - y_) ** 2) + beta * 3.0
            return dict(knots_right=np.array([0.0, 1.0]), w_right=np.array([2.0, 0.0]),
                        knots_left=np.array([2.0]), w_left=np.array([-1.0]), intercept=0.5,
                        fitted=f, dual=np.zeros_like(t_), primal=J, dual_value=J - 1e-3,
                        gap=1e-3, n_iter=3, converged=True, message="", history_gap=[1e-3])

    monkeypatch.setattr(_solvers_1d, "_get_core", lambda: FakeCore)
    y = np.array([0.0, 1.0, 2.0, 3.0])
    est = ConvexReLURegressor(beta=0.1).fit(X, y)
    assert est.n_active_ == 2  # the zero-weight neuron is dropped
    np.testing.assert_allclose(est.hidden_weights_, np.c_[a_dir, -a_dir])
    np.testing.assert_allclose(est.hidden_bias_, [-a_dir @ x0, 2.0 + a_dir @ x0])
    expected = 0.5 + 2.0 * np.maximum(t, 0) - np.maximum(2.0 - t, 0)
    np.testing.assert_allclose(est.predict(X), expected, atol=1e-12)
    assert est.duality_gap_ == pytest.approx(1e-3)
    assert est.n_iter_ == 3


def test_nonconverged_fake_kernel_warns(monkeypatch):
    class FakeCore:
        @staticmethod
        def fit_spline_1d(t_, y_, loss, beta, tol, max_iter):
            return dict(knots_right=np.zeros(0), w_right=np.zeros(0), knots_left=np.zeros(0),
                        w_left=np.zeros(0), intercept=0.0, fitted=np.zeros_like(t_),
                        dual=np.zeros_like(t_), primal=0.5 * float(y_ @ y_), dual_value=-np.inf,
                        gap=np.inf, n_iter=max_iter, converged=False, message="stalled",
                        history_gap=[])

    monkeypatch.setattr(_solvers_1d, "_get_core", lambda: FakeCore)
    with pytest.warns(ConvergenceWarning, match="stalled"):
        est = ConvexReLURegressor(max_iter=4).fit(X_OK, Y_OK)
    assert est.duality_gap_ == np.inf and not est.converged_ and est.n_active_ == 0


# ---------------------------------------------------------------------- CLI
def test_cli_demo(capsys):
    from fastconvexrelu._cli import main

    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "objective" in out and "duality gap" in out and "knots" in out


def test_cli_demo_plot(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from fastconvexrelu._cli import main

    path = tmp_path / "f.png"
    assert main(["demo", "--plot", path, "--beta", "0.05"]) == 0
    assert path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_no_command(capsys):
    from fastconvexrelu._cli import main

    assert main([]) == 1
