"""Type stub for the compiled extension module ``fastconvexrelu._core`` (hand-written).

Arrays are accepted as any numpy-convertible float input; C-contiguous float64 arrays are
passed to C++ without a copy. All functions raise ``ValueError`` for invalid input.
"""

from typing import List, Optional, Sequence, Tuple, TypedDict

import numpy as np
from numpy.typing import ArrayLike, NDArray

__version__: str
#: "baseline" (_core) or "avx2" (_core_avx2, selected at import when the CPU has AVX2 + FMA)
__simd__: str

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

# --------------------------------------------------------------------------- hull neurons
class _MinNormPointsResult(TypedDict):
    # Stub-only type (does not exist at run time): the dict returned by min_norm_points.
    indptr: NDArray[np.int64]
    indices: NDArray[np.int64]
    weights: _F64
    residuals: _F64
    distances: _F64
    lower_bounds: _F64
    biases: _F64
    n_iter: NDArray[np.int32]
    status: NDArray[np.int32]
    used_gram: bool

def min_norm_points(
    P: ArrayLike,
    T: ArrayLike,
    exclude: Optional[ArrayLike] = None,
    indptr: Optional[ArrayLike] = None,
    indices: Optional[ArrayLike] = None,
    tol: float = 1e-12,
    zero_tol: float = 1e-10,
    max_iter: int = 0,
    n_threads: int = 0,
    gram: int = -1,
    gram_max_points: int = 8000,
    working_set: int = 64,
) -> _MinNormPointsResult:
    """Batched minimum-norm points of convex hulls (Wolfe's algorithm; Lemma 2.7, eq. (28))."""

def hull_neurons(
    X: ArrayLike,
    tol: float = 1e-12,
    zero_tol: float = 1e-10,
    max_iter: int = 0,
    n_threads: int = 0,
    gram: int = -1,
    gram_max_points: int = 8000,
    working_set: int = 64,
) -> Tuple[_F64, _F64, _F64, _F64, NDArray[np.int32]]:
    """Hull neurons (Lemma 2.7): ``(U (d, n), b, distances, lower_bounds, status)``."""

# --------------------------------------------------------------------------- cone projection
from typing import Any, Dict, Sequence  # noqa: E402

class _ConeProjectionResult(TypedDict):
    # Stub-only type: the dict returned by cone_projection (batch: stacked arrays and lists).
    u: _F64
    lam: _F64
    active: NDArray[np.int64]
    distance: float
    n_iter: int
    converged: bool
    message: str
    min_Au: float
    complementarity: float
    dual_infeasibility: float
    stationarity: float

def cone_projection(
    A: ArrayLike,
    g: ArrayLike,
    tol: float = 1e-12,
    dep_tol: float = 1e-10,
    max_iter: int = 0,
    warm_start: Sequence[int] = ...,
) -> _ConeProjectionResult:
    """Projection of ``g`` onto ``{u : A u >= 0}`` (Lawson-Hanson NNLS on the dual)."""

def cone_projection_batch(
    A: ArrayLike,
    G: ArrayLike,
    tol: float = 1e-12,
    dep_tol: float = 1e-10,
    max_iter: int = 0,
    warm_starts: Sequence[Sequence[int]] = ...,
    n_threads: int = 2,
) -> Dict[str, Any]:
    """Projections of the rows of ``G`` (m, d) onto ``{u : A u >= 0}`` (threads over rows)."""

def spike_free_oracle(
    X: ArrayLike,
    V: ArrayLike,
    tol: float = 1e-12,
    dep_tol: float = 1e-10,
    max_iter: int = 0,
    zero_tol: float = 1e-12,
    warm_plus: Sequence[Sequence[int]] = ...,
    warm_minus: Sequence[Sequence[int]] = ...,
    n_threads: int = 2,
) -> Dict[str, Any]:
    """Spike-free relaxation (15) for each column of ``V`` (n, o): ``u_max``, ``value_max``, ..."""

# --------------------------------------------------------------------------- cutting-plane master
class _LassoMasterResult(TypedDict):
    # Stub-only type: the dict returned by lasso_master / lasso_certificate.
    w: _F64
    fitted: _F64
    grad: _F64
    dual: _F64
    intercept: float
    scale: float
    primal: float
    dual_value: float
    gap: float
    n_epochs: int
    n_newton: int
    converged: bool
    message: str

def lasso_master(
    Phi: ArrayLike,
    y: ArrayLike,
    loss: str = "squared",
    beta: float = 1e-3,
    tol: float = 1e-10,
    max_epochs: int = 20000,
    w0: ArrayLike = ...,
    intercept: bool = False,
    c0: float = 0.0,
) -> _LassoMasterResult:
    """``min_w L(Phi w [+ c], y) + beta ||w||_1`` (squared/logistic) with an exact restricted gap."""

def lasso_certificate(
    Phi: ArrayLike,
    y: ArrayLike,
    loss: str,
    beta: float,
    w: ArrayLike,
    intercept: bool = False,
    c: float = 0.0,
) -> _LassoMasterResult:
    """Restricted duality gap of a given ``w`` (no optimization)."""

# --------------------------------------------------------------------------- arrangements
class _PatternsResult(TypedDict):
    # Stub-only type: the dict returned by enumerate_patterns.
    patterns: NDArray[np.uint8]  # (n, P)
    generators: _F64  # (P, d + 1) or (P, d), unit rows (u, b)
    count: int
    rank: int
    min_margin: float

def enumerate_patterns(
    X: ArrayLike, bias: bool = True, max_patterns: int = 100000, tol: float = 1e-9
) -> _PatternsResult:
    """All activation patterns 1[X u + b > 0] (all-zero excluded); ValueError past max_patterns."""

class _PatternOracleResult(TypedDict):
    # Stub-only type: the dict returned by pattern_oracle.
    value: _F64  # (P, 2), inf when unbounded
    u: _F64  # (P, 2, d)
    b: _F64  # (P, 2)
    status: NDArray[np.int32]  # 0 converged, 1 unbounded, 2 not converged
    primal_infeasibility: _F64
    gap: _F64
    n_iter: _F64

def pattern_oracle(
    X: ArrayLike,
    v: ArrayLike,
    patterns: ArrayLike,
    bias: bool = True,
    tol: float = 1e-12,
    dep_tol: float = 1e-10,
    max_iter: int = 0,
    n_threads: int = 2,
    signs: Sequence[int] = ...,
) -> _PatternOracleResult:
    """max s v^T D (X u + b) over (2D - I)(X u + b) >= 0, ||u|| <= 1, per pattern and sign."""
# --- arrangement program (issue 3, "arrangements") and the loss interface --------------------
class _ArrangementProgramResult(TypedDict):
    theta: NDArray[np.float64]  # (dp, 2 P o); block (i, k, s) in column (2 k + s) P + i
    intercept: NDArray[np.float64]  # (o,)
    fitted: NDArray[np.float64]  # (n, o)
    dual: NDArray[np.float64]  # (n, o) feasible dual point
    primal_objective: float
    dual_objective: float
    gap: float
    max_violation: float
    dual_scale: float
    max_dual_constraint: float
    mu: NDArray[np.float64]  # (n, 2 P o)
    hinge_multiplier: NDArray[np.float64]  # (n, o)
    rho: float
    rho_hinge: float
    n_iter: int
    n_outer: int
    converged: bool
    message: str

def arrangement_program(
    X: ArrayLike,
    Y: ArrayLike,
    patterns: ArrayLike,
    loss: str,
    beta: float,
    bias: bool,
    huber_delta: float = 1.0,
    tol: float = 1e-8,
    max_iter: int = 50000,
    rho: float = 0.0,
    n_threads: int = 2,
    verbose: bool = False,
    theta: Optional[ArrayLike] = None,
    intercept: Optional[ArrayLike] = None,
    mu: Optional[ArrayLike] = None,
    hinge_multiplier: Optional[ArrayLike] = None,
    warm_rho: float = 0.0,
    warm_rho_hinge: float = 0.0,
    fit_intercept: bool = True,
) -> _ArrangementProgramResult:
    """Convex program over fixed activation patterns (AL + FISTA + active-set Newton polish)."""

def loss_eval(loss: str, F: ArrayLike, Y: ArrayLike, huber_delta: float = 1.0,
              sample_weight: ArrayLike = ...) -> Dict[str, Any]:
    """Loss value, gradient (smooth losses) and gradient Lipschitz constant."""

def loss_conjugate(loss: str, Lam: ArrayLike, Y: ArrayLike, huber_delta: float = 1.0,
                   sample_weight: ArrayLike = ...) -> float:
    """Fenchel conjugate ``L^*(Lam)`` (+inf outside its domain)."""

def loss_prox(loss: str, Z: ArrayLike, Y: ArrayLike, t: float, huber_delta: float = 1.0) -> NDArray[np.float64]:
    """``prox_{tL}(Z)``."""
# -- Convex-RF (patch_features.cpp, gram_lasso.cpp) ---------------------------------------
def patch_features(
    images: ArrayLike,
    height: int,
    width: int,
    channels: int,
    filters: ArrayLike,
    bias: ArrayLike,
    patch_h: int,
    patch_w: int,
    stride: int = 1,
    epsilon: float = 10.0,
    pool_grid: int = 2,
    pool: str = "sum",
    n_threads: int = 1,
    kernel: int = 0,
    threshold: float = 0.0,
    both_signs: bool = False,
) -> NDArray[np.float32]:
    """Fused im2col + normalization + GEMM + bias + ReLU(s - threshold) (+ ReLU(-s - threshold)
    with both_signs) + pooling (Algorithm 2, steps 12-13)."""

def patch_features_has_avx2() -> bool:
    """Whether ``patch_features(kernel=0)`` uses the AVX2/FMA micro-kernel."""

class _GramLassoResult(TypedDict):
    W: _F64
    primal: _F64
    gap: _F64
    n_epochs: NDArray[np.int32]
    converged: List[bool]

def gram_lasso(
    G: ArrayLike,
    Cm: ArrayLike,
    yy: ArrayLike,
    beta: float,
    tol: float = 1e-6,
    max_epochs: int = 5000,
    n_threads: int = 1,
    W0: ArrayLike = ...,
    max_newton: int = 8000,
    direct_newton_max: int = 3000,
) -> _GramLassoResult:
    """Per column: ``min_w 1/2 w^T G w - Cm[:, c]^T w + 1/2 yy[c] + beta ||w||_1`` with an exact gap."""

# --------------------------------------------------------------------------- weight-decay master
class _GroupLassoResult(TypedDict):
    # Stub-only type: the dict returned by group_lasso.
    W: _F64  # (m, o)
    c: _F64  # (o,)
    F: _F64  # (n, o)
    grad: _F64  # (n, o)
    primal: float
    kkt: float
    n_epochs: int
    converged: bool
    message: str

def group_lasso(
    Phi: ArrayLike,
    Y: ArrayLike,
    loss: str = "squared",
    beta: float = 1e-3,
    intercept: bool = True,
    tol: float = 1e-9,
    max_epochs: int = 10000,
    huber_delta: float = 1.0,
    W0: ArrayLike = ...,
    c0: ArrayLike = ...,
) -> _GroupLassoResult:
    """``min_{W,c} L(Phi W + 1 c^T, Y) + beta sum_j ||w_j||_2`` by block coordinate descent."""

def group_lasso_fista(
    Phi: ArrayLike,
    Y: ArrayLike,
    loss: str,
    beta: float,
    intercept: bool,
    n_iter: int,
    huber_delta: float = 1.0,
    n_threads: int = 1,
    state: dict[str, Any] = ...,
    sample_weight: ArrayLike = ...,
) -> dict[str, Any]:
    """``n_iter`` FISTA iterations on the same group lasso from/returning the state dict
    (W, c, Zw, Zc, F, FZ, t, Lc, objective, n_iter); ``sample_weight`` (n,) weights the rows
    of the loss (empty: none)."""

def minibatch_fit(
    X: ArrayLike,
    labels: ArrayLike,
    sample_weight: ArrayLike,
    U0: list[ArrayLike],
    b0: list[ArrayLike],
    w0: list[ArrayLike],
    c0: list[ArrayLike],
    seeds: list[int],
    loss: str = "softmax",
    beta: float = 1e-3,
    bias: bool = True,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    lr_final: float = 0.01,
    n_threads: int = 1,
) -> list[dict[str, Any]]:
    """Mini-batch Adam fits (float32) of the weight-decay cross-entropy problem, one per thread.

    X: (n, d) float32 C order; labels: int32 (0..o-1 softmax, 0/1 logistic); sample_weight:
    float32 (n,) or (0,).  Keys: U, b, w, c (float32), n_steps."""

def nonconvex_fit(
    X: ArrayLike,
    y: ArrayLike,
    U0: list[ArrayLike],
    b0: list[ArrayLike],
    w0: list[ArrayLike],
    c0: list[ArrayLike],
    loss: str = "squared",
    beta: float = 1e-3,
    bias: bool = True,
    huber_delta: float = 1.0,
    adam_iter: int = 0,
    adam_lr: float = 1e-2,
    lbfgs_iter: int = 1000,
    history: int = 10,
    rtol: float = 1e-12,
    n_threads: int = 1,
    sample_weight: ArrayLike = ...,
) -> list[dict[str, Any]]:
    """Local weight-decay fits (Adam then L-BFGS) from each start, in parallel threads.

    y: (n,) or (n, o); w0[k]: (m_k,) or (m_k, o); c0[k]: (o,).
    Keys: U (d, m), b (m,), w (m, o), c (o,), objective, n_iter, n_evals."""

# ------------------------------------------------------------------------ dual oracle (17)
class _DualOracleResult(TypedDict):
    # Stub-only type: the dict returned by dual_oracle.
    upper: float
    lower: float
    u: _F64
    b: float
    sign: int
    nodes: int
    open: int
    seconds: float
    converged: bool
    status: str

def dual_oracle(
    X: ArrayLike,
    v: ArrayLike,
    cand_U: ArrayLike,
    cand_b: ArrayLike,
    bias: bool = True,
    time_limit: float = ...,
    node_limit: int = 20000000,
    max_open: int = 4000000,
    rel_tol: float = 1e-6,
    floor: float = 0.0,
    stop_above: float = ...,
    n_random: int = 2000,
    seed: int = 0,
    n_threads: int = 0,
    progress_interval: float = 0.0,
    progress: Optional[Any] = None,
) -> _DualOracleResult:
    """Branch and bound for sigma(v) = max_{||u|| <= 1, b} |v^T (X u + b 1)_+| (bias=True,
    1^T v = 0) or max_{||u|| <= 1} |v^T (X u)_+|; upper >= sigma (and >= floor), lower the value
    of the returned neuron (u unit norm, b, sign). cand_U (k, d), cand_b (k,): candidates.
    progress(nodes, open, lower, upper, seconds) every progress_interval seconds."""

def _set_time_limit(seconds: float) -> float: ...
def _interrupt_test_loop(seconds: float) -> int:
    """Busy loop of `seconds` on two threads that polls for interrupts (tests only): a signal
    whose handler raises during it unwinds the C++ loop with the handler's exception (SIGINT:
    KeyboardInterrupt). Returns the number of inner blocks run."""
