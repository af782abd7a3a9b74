"""Type stub for the compiled extension module ``fastconvexrelu._core`` (hand-written).

Arrays are accepted as any numpy-convertible float input; C-contiguous float64 arrays are
passed to C++ without a copy. All functions raise ``ValueError`` for invalid input.
"""

from typing import Tuple, TypedDict

import numpy as np
from numpy.typing import ArrayLike, NDArray

__version__: str

_F64 = NDArray[np.float64]

# --------------------------------------------------------------------------- extreme points
def extreme_points_1d(x: ArrayLike) -> Tuple[_F64, _F64]:
    """All 2n extreme-point neurons of 1-D data (Lemma 2.6): ``U`` (1, 2n), ``b`` (2n,)."""

def extreme_points_rank_one(
    X: ArrayLike, bias: bool = True, rtol: float = 1e-9
) -> Tuple[_F64, _F64]:
    """Extreme-point neurons of rank-one data (Corollary 3.4): ``U`` (d, 2n) or (d, 2), ``b``."""

def fit_line(X: ArrayLike, bias: bool = True) -> Tuple[_F64, _F64, _F64, float]:
    """Line fit ``X ~= 1 x0^T + t a^T``: returns ``(x0, a, t, rel_residual)``."""

# --------------------------------------------------------------------------- 1-D exact solver
class _Spline1DResult(TypedDict):
    # Stub-only type (does not exist at run time): the dict returned by fit_spline_1d.
    knots_right: _F64
    w_right: _F64
    knots_left: _F64
    w_left: _F64
    intercept: float
    fitted: _F64
    dual: _F64
    primal: float
    dual_value: float
    gap: float
    n_iter: int
    converged: bool
    message: str
    history_gap: _F64

def ramp_network_1d(
    t: ArrayLike, s: ArrayLike, b: ArrayLike, w: ArrayLike, c: float = 0.0
) -> NDArray[np.float64]:
    """``f_i = c + sum_j w_j (s_j t_i + b_j)_+`` in O((n + m) log m) (parallel neurons)."""

def fit_spline_1d(
    x: ArrayLike,
    y: ArrayLike,
    loss: str = "squared",
    beta: float = 1e-3,
    tol: float = 1e-8,
    max_iter: int = 200,
) -> _Spline1DResult:
    """Exact two-layer ReLU network with free biases on 1-D data (certified duality gap).

    ``f(x) = intercept + sum w_right (x - knots_right)_+ + sum w_left (knots_left - x)_+``.
    """

# --------------------------------------------------------------------------- rank-one, no bias
class _RayFitResult(TypedDict):
    # Stub-only type (does not exist at run time): the dict returned by fit_ray_pair.
    w_pos: float
    w_neg: float
    fitted: _F64
    dual: _F64
    primal: float
    dual_value: float
    gap: float
    converged: bool
    message: str

def fit_ray_pair(
    t: ArrayLike, y: ArrayLike, loss: str = "squared", beta: float = 1e-3
) -> _RayFitResult:
    """Exact bias-free network ``f = w_pos (t)_+ + w_neg (-t)_+`` on data ``X = t a^T``."""
