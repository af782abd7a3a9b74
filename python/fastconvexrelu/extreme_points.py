"""Extreme-point neurons for one-dimensional and rank-one data.

Thin, input-validating wrappers around the C++ kernels in :mod:`fastconvexrelu._core`.
See Lemma 2.6 / Corollary 3.2 (1-D data) and Corollary 3.4 (rank-one data) of the paper.
"""

from __future__ import annotations

import numbers
from typing import Tuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from ._validation import check_bool

__all__ = ["extreme_points_1d", "extreme_points_rank_one", "fit_line", "as_float_array"]


def as_float_array(value: ArrayLike, name: str, ndim: int) -> NDArray[np.float64]:
    """Convert ``value`` to a C-contiguous float64 array with ``ndim`` dimensions.

    Lists, integer and float32 arrays and non-contiguous views are accepted.

    Raises
    ------
    ValueError
        Naming ``name`` if the value is not numeric, has the wrong number of dimensions,
        is empty, or contains NaN or inf.
    """
    if value is None:
        raise ValueError(f"{name} must be an array-like of numbers, got None")
    try:
        arr = np.asarray(value)
        if np.iscomplexobj(arr):
            raise ValueError(f"complex dtype {arr.dtype} is not supported")
        arr = np.asarray(arr, dtype=np.float64, order="C")  # (ascontiguousarray makes 0-d 1-d)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real numeric array: {exc}") from exc
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must be non-empty, got an array of shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or inf")
    return arr




def extreme_points_1d(x: ArrayLike) -> Tuple[NDArray[np.float64], NDArray[np.float64]]:
    """All ``2n`` extreme-point neurons of one-dimensional data (Lemma 2.6).

    For ``d = 1`` the optimal neurons of a two-layer ReLU network with biases are
    ``u = +-1``, ``b = -sign(u) x_i``: the ramps ``(x - x_i)_+`` and ``(x_i - x)_+``
    with kinks exactly at the samples (Lemma 2.6, Corollary 3.2).

    Parameters
    ----------
    x : (n,) array_like
        One-dimensional samples (any order, duplicates allowed).

    Returns
    -------
    U : (1, 2n) ndarray
        ``U[0, :n] = 1`` and ``U[0, n:] = -1``.
    b : (2n,) ndarray
        ``b[:n] = -x`` and ``b[n:] = x``; neuron ``i`` is ``(x - x_i)_+`` and
        neuron ``n + i`` is ``(x_i - x)_+``.

    Raises
    ------
    ValueError
        If ``x`` is not 1-D, is empty, or contains NaN or inf.
    """
    return _core.extreme_points_1d(as_float_array(x, "x", 1))


def extreme_points_rank_one(
    X: ArrayLike, bias: bool = True, rtol: float = 1e-9
) -> Tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Extreme-point neurons of rank-one data (Corollary 3.4).

    If the rows of ``X`` lie on a line ``X = 1 x0^T + t a^T`` with unit ``a``
    (``x0 = 0`` when ``bias=False``), the optimal neurons are ``u = +-a`` with their
    kink at a sample.

    Parameters
    ----------
    X : (n, d) array_like
        Samples as rows.
    bias : bool, default True
        True: ``2n`` neurons ``u = a, b = -x_i^T a`` (``(t - t_i)_+``) then
        ``u = -a, b = x_i^T a`` (``(t_i - t)_+``). False: the line must pass through
        the origin and the two neurons ``u = +-a``, ``b = 0`` are returned.
    rtol : float, default 1e-9
        Tolerance on the relative residual of the line fit (see :func:`fit_line`).

    Returns
    -------
    U : (d, 2n) or (d, 2) ndarray
        Unit-norm input weights as columns.
    b : (2n,) or (2,) ndarray
        Biases.

    Raises
    ------
    ValueError
        If ``X`` is not rank one (message starts with ``"X is not rank one"``), is not
        2-D, is empty, or contains NaN or inf; or if ``rtol`` is negative or not finite.
    """
    arr = as_float_array(X, "X", 2)
    bias = check_bool(bias, "bias")
    if not isinstance(rtol, numbers.Real) or not np.isfinite(rtol) or rtol < 0:
        raise ValueError(f"rtol must be a finite non-negative number, got {rtol!r}")
    return _core.extreme_points_rank_one(arr, bias, float(rtol))


def fit_line(
    X: ArrayLike, bias: bool = True
) -> Tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float]:
    """Least-squares line through the rows of ``X``: ``X ~= 1 x0^T + t a^T``.

    ``a`` is the unit top eigenvector of the scatter matrix of ``X - 1 x0^T``, signed so
    that its largest-magnitude entry is positive; ``t = (X - 1 x0^T) a``.

    Parameters
    ----------
    X : (n, d) array_like
        Samples as rows.
    bias : bool, default True
        True: ``x0`` is the mean sample. False: ``x0 = 0``.

    Returns
    -------
    x0 : (d,) ndarray
    a : (d,) ndarray
    t : (n,) ndarray
    rel_residual : float
        ``||X - 1 x0^T - t a^T||_F / ||X - 1 x0^T||_F`` (0 if the denominator is 0).

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, is empty, or contains NaN or inf.
    """
    return _core.fit_line(as_float_array(X, "X", 2), check_bool(bias, "bias"))
