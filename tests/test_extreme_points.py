"""Tests of the extreme-point neurons (Lemma 2.6, Corollary 3.4) and the line fit."""

import importlib.metadata

import numpy as np
import pytest

import fastconvexrelu as fcr
from fastconvexrelu import _core


def relu(z):
    return np.maximum(z, 0.0)


def random_line(rng, n, d, offset=True, scale=1.0):
    """Samples x0 + t_i a on a random line; returns X, the unit direction a and t."""
    a = rng.standard_normal(d)
    a /= np.linalg.norm(a)
    t = scale * rng.standard_normal(n)
    x0 = scale * rng.standard_normal(d) if offset else np.zeros(d)
    return x0 + np.outer(t, a), a, t


# ------------------------------------------------------------------------------ 1-D (Lemma 2.6)
def test_1d_shapes_values_and_order():
    x = np.array([0.5, -2.0, 3.0, 0.5])
    U, b = fcr.extreme_points_1d(x)
    n = x.size
    assert U.shape == (1, 2 * n) and b.shape == (2 * n,)
    assert U.dtype == np.float64 and b.dtype == np.float64
    np.testing.assert_array_equal(U[0, :n], 1.0)
    np.testing.assert_array_equal(U[0, n:], -1.0)
    np.testing.assert_array_equal(b[:n], -x)
    np.testing.assert_array_equal(b[n:], x)
    # neuron i is (x - x_i)_+, neuron n + i is (x_i - x)_+, evaluated anywhere
    grid = np.linspace(-4, 4, 33)
    act = relu(grid[:, None] * U + b)
    np.testing.assert_allclose(act[:, :n], relu(grid[:, None] - x[None, :]), atol=1e-15)
    np.testing.assert_allclose(act[:, n:], relu(x[None, :] - grid[:, None]), atol=1e-15)


def test_1d_kinks_exactly_at_samples():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(50) * 1e3
    U, b = fcr.extreme_points_1d(x)
    n = x.size
    for j in range(2 * n):
        assert U[0, j] * x[j % n] + b[j] == 0.0
    assert np.all(np.abs(U) == 1.0)  # unit norm (d = 1)
    assert not np.any(np.signbit(b) & (b == 0))  # no negative zeros


@pytest.mark.parametrize(
    "x",
    [
        [1, 2, 3],  # list of ints
        np.array([1, 2, 3], dtype=np.int64),
        np.array([1, 2, 3], dtype=np.float32),
        np.array([1.0, 9.0, 2.0, 9.0, 3.0])[::2],  # non-contiguous view
        (1.0, 2.0, 3.0),
    ],
)
def test_1d_input_conversion(x):
    U, b = fcr.extreme_points_1d(x)
    np.testing.assert_array_equal(b, [-1.0, -2.0, -3.0, 1.0, 2.0, 3.0])
    assert U.shape == (1, 6)


def test_1d_single_sample_and_duplicates():
    U, b = fcr.extreme_points_1d([2.0])
    assert U.shape == (1, 2)
    np.testing.assert_array_equal(b, [-2.0, 2.0])
    U, b = fcr.extreme_points_1d([1.0, 1.0])
    np.testing.assert_array_equal(b, [-1.0, -1.0, 1.0, 1.0])


@pytest.mark.parametrize(
    "x, match",
    [
        ([1.0, np.nan], "x contains NaN"),
        ([1.0, np.inf], "x contains NaN or inf"),
        ([], "x must be non-empty"),
        (np.zeros((2, 2)), "x must be 1-dimensional"),
        (np.zeros((2, 2, 2)), "x must be 1-dimensional"),
        (3.0, "x must be 1-dimensional"),
        (["a", "b"], "x must be a real numeric array"),
        ([1 + 2j], "x must be a real numeric array"),
        (None, "x must be an array-like"),
    ],
)
def test_1d_bad_input(x, match):
    with pytest.raises(ValueError, match=match):
        fcr.extreme_points_1d(x)


def test_core_validates_too():
    # The C++ kernels check their input themselves (std::invalid_argument -> ValueError).
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        _core.extreme_points_1d(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="x must be non-empty"):
        _core.extreme_points_1d(np.array([]))
    with pytest.raises(ValueError, match="X contains NaN or inf"):
        _core.fit_line(np.array([[0.0, np.inf]]), True)
    with pytest.raises(ValueError, match="rtol"):
        _core.extreme_points_rank_one(np.ones((2, 2)), True, -1.0)
    # pybind11 converts other dtypes / layouts
    X = np.asfortranarray(np.outer([1.0, 2.0, 3.0], [1.0, 1.0]).astype(np.float32))
    U, b = _core.extreme_points_rank_one(X, False, 1e-9)
    np.testing.assert_allclose(U[:, 0], [np.sqrt(0.5)] * 2)


# ------------------------------------------------------------------ rank one (Corollary 3.4)
@pytest.mark.parametrize("n, d", [(7, 3), (40, 5), (3, 10), (1, 4), (6, 1)])
def test_rank_one_with_offset(n, d):
    rng = np.random.default_rng(n * 100 + d)
    X, a_true, t_true = random_line(rng, n, d, offset=True)
    U, b = fcr.extreme_points_rank_one(X)
    assert U.shape == (d, 2 * n) and b.shape == (2 * n,)
    np.testing.assert_allclose(np.linalg.norm(U, axis=0), 1.0, rtol=1e-12)
    a = U[:, 0]
    if n > 1:  # direction parallel to the true line
        np.testing.assert_allclose(abs(a @ a_true), 1.0, rtol=1e-10)
    np.testing.assert_array_equal(U[:, :n], np.repeat(a[:, None], n, axis=1))
    np.testing.assert_array_equal(U[:, n:], np.repeat(-a[:, None], n, axis=1))
    # kinks at the samples: x_i^T u_i + b_i = 0
    Z = X @ U + b
    scale = np.abs(X).max()
    np.testing.assert_allclose(Z[np.arange(n), np.arange(n)], 0.0, atol=1e-13 * scale)
    np.testing.assert_allclose(Z[np.arange(n), n + np.arange(n)], 0.0, atol=1e-13 * scale)
    # the activations are the ramps along the line: (t - t_i)_+ and (t_i - t)_+
    s = np.sign(a @ a_true) if n > 1 else 1.0
    t = s * t_true if n > 1 else np.zeros(n)
    np.testing.assert_allclose(relu(Z[:, :n]), relu(t[:, None] - t[None, :]), atol=1e-12)
    np.testing.assert_allclose(relu(Z[:, n:]), relu(t[None, :] - t[:, None]), atol=1e-12)


@pytest.mark.parametrize("n, d", [(9, 4), (2, 6)])
def test_rank_one_without_bias(n, d):
    rng = np.random.default_rng(7 + n)
    X, a_true, t_true = random_line(rng, n, d, offset=False)
    U, b = fcr.extreme_points_rank_one(X, bias=False)
    assert U.shape == (d, 2) and b.shape == (2,)
    np.testing.assert_array_equal(b, 0.0)
    np.testing.assert_allclose(np.linalg.norm(U, axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(U[:, 1], -U[:, 0])
    np.testing.assert_allclose(abs(U[:, 0] @ a_true), 1.0, rtol=1e-10)
    # X u = +-t: the two neurons are (t)_+ and (-t)_+
    s = np.sign(U[:, 0] @ a_true)
    np.testing.assert_allclose(X @ U, np.column_stack([s * t_true, -s * t_true]), atol=1e-12)


def test_rank_one_1d_data_matches_lemma_2_6():
    x = np.array([3.0, -1.0, 0.5])
    U, b = fcr.extreme_points_rank_one(x[:, None])
    U1, b1 = fcr.extreme_points_1d(x)
    np.testing.assert_array_equal(U, U1)
    np.testing.assert_allclose(b, b1, rtol=1e-15)


def test_rank_one_large_offset_and_scale():
    rng = np.random.default_rng(3)
    X, a_true, _ = random_line(rng, 30, 4, offset=False, scale=1e-1)
    X = X + 1e4  # far from the origin: the centred fit must still be accurate
    U, b = fcr.extreme_points_rank_one(X)
    np.testing.assert_allclose(abs(U[:, 0] @ a_true), 1.0, rtol=1e-8)
    with pytest.raises(ValueError, match="not rank one"):
        fcr.extreme_points_rank_one(X, bias=False)  # not a line through the origin


def test_not_rank_one_raises():
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match="X is not rank one"):
        fcr.extreme_points_rank_one(rng.standard_normal((10, 3)))
    with pytest.raises(ValueError, match="X is not rank one"):
        fcr.extreme_points_rank_one(rng.standard_normal((10, 3)), bias=False)
    # a line with an offset is rank one only with a bias
    X, _, _ = random_line(rng, 10, 3, offset=True)
    fcr.extreme_points_rank_one(X, bias=True)
    with pytest.raises(ValueError, match="X is not rank one"):
        fcr.extreme_points_rank_one(X, bias=False)


def test_rtol_controls_the_rank_check():
    rng = np.random.default_rng(5)
    X, _, _ = random_line(rng, 20, 3)
    X_noisy = X + 1e-7 * rng.standard_normal(X.shape)
    *_, res = fcr.fit_line(X_noisy)
    assert 1e-9 < res < 1e-5
    with pytest.raises(ValueError, match="not rank one"):
        fcr.extreme_points_rank_one(X_noisy)
    U, b = fcr.extreme_points_rank_one(X_noisy, rtol=1e-5)
    assert U.shape == (3, 40)


@pytest.mark.parametrize(
    "X, kwargs, match",
    [
        ([[1.0, np.nan]], {}, "X contains NaN"),
        ([[1.0, -np.inf]], {}, "X contains NaN or inf"),
        (np.zeros((0, 3)), {}, "X must be non-empty"),
        (np.zeros((3, 0)), {}, "X must be non-empty"),
        (np.zeros((2, 2, 2)), {}, "X must be 2-dimensional"),
        (np.zeros(3), {}, "X must be 2-dimensional"),
        ([[1.0, 2.0]], {"rtol": -1.0}, "rtol"),
        ([[1.0, 2.0]], {"rtol": float("nan")}, "rtol"),
        ([[1.0, 2.0]], {"bias": "yes"}, "bias"),
    ],
)
def test_rank_one_bad_input(X, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fcr.extreme_points_rank_one(X, **kwargs)


def test_rank_one_list_and_dtype_input():
    X_list = [[1, 2], [2, 4], [3, 6]]
    U, b = fcr.extreme_points_rank_one(X_list)
    np.testing.assert_allclose(U[:, 0], np.array([1.0, 2.0]) / np.sqrt(5.0))
    np.testing.assert_allclose(b[:3], -np.array([1.0, 2.0, 3.0]) * np.sqrt(5.0))
    for X in (np.array(X_list, dtype=np.float32), np.asfortranarray(X_list, dtype=float),
              np.array([[1, 0, 2], [2, 0, 4], [3, 0, 6]], dtype=float)[:, ::2]):
        U2, b2 = fcr.extreme_points_rank_one(X)
        np.testing.assert_allclose(U2, U, rtol=1e-12)
        np.testing.assert_allclose(b2, b, rtol=1e-12)


# ------------------------------------------------------------------------------ line fit
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("n, d", [(25, 3), (4, 12)])
def test_fit_line_reconstruction_and_sign(bias, n, d):
    rng = np.random.default_rng(n + d + bias)
    X, a_true, t_true = random_line(rng, n, d, offset=bias)
    x0, a, t, res = fcr.fit_line(X, bias=bias)
    assert x0.shape == (d,) and a.shape == (d,) and t.shape == (n,)
    assert isinstance(res, float) and res < 1e-12
    np.testing.assert_allclose(np.linalg.norm(a), 1.0, rtol=1e-14)
    assert a[np.argmax(np.abs(a))] > 0  # sign convention
    np.testing.assert_allclose(x0 + np.outer(t, a), X, atol=1e-12 * np.abs(X).max())
    if bias:
        np.testing.assert_allclose(x0, X.mean(axis=0), atol=1e-14)
        np.testing.assert_allclose(t.sum(), 0.0, atol=1e-12)
    else:
        np.testing.assert_array_equal(x0, 0.0)


def test_fit_line_residual_matches_definition():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((15, 4))
    for bias in (True, False):
        x0, a, t, res = fcr.fit_line(X, bias=bias)
        Xc = X - x0
        expected = np.linalg.norm(Xc - np.outer(t, a)) / np.linalg.norm(Xc)
        np.testing.assert_allclose(res, expected, rtol=1e-10)
        # a is the top right singular vector of the centred data
        v = np.linalg.svd(Xc)[2][0]
        np.testing.assert_allclose(abs(v @ a), 1.0, rtol=1e-10)


def test_degenerate_all_samples_equal():
    X = np.tile([1.0, -2.0, 3.0], (5, 1))
    x0, a, t, res = fcr.fit_line(X)
    np.testing.assert_array_equal(a, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(t, 0.0)
    assert res == 0.0
    U, b = fcr.extreme_points_rank_one(X)
    assert U.shape == (3, 10)
    np.testing.assert_allclose(X @ U + b, 0.0, atol=1e-15)
    # all-zero data through the origin: the two neurons +-e_1
    U, b = fcr.extreme_points_rank_one(np.zeros((4, 2)), bias=False)
    np.testing.assert_array_equal(U, [[1.0, -1.0], [0.0, 0.0]])
    np.testing.assert_array_equal(b, [0.0, 0.0])


def test_large_n_is_fast_enough():
    rng = np.random.default_rng(2)
    X, a_true, _ = random_line(rng, 200_000, 8)
    U, b = fcr.extreme_points_rank_one(X)
    assert U.shape == (8, 400_000)
    np.testing.assert_allclose(abs(U[:, 0] @ a_true), 1.0, rtol=1e-10)


# ------------------------------------------------------------------------------ package
def test_public_api_and_version():
    for name in ("extreme_points_1d", "extreme_points_rank_one", "fit_line"):
        assert callable(getattr(fcr, name))
        assert getattr(_core, name).__doc__
    assert fcr.__version__ == _core.__version__ == importlib.metadata.version("fastconvexrelu")
