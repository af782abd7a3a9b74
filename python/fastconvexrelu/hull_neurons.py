"""Hull neurons (Lemma 2.7), interpolating networks (Theorem 3.5) and batched minimum-norm points.

For samples ``a_1, ..., a_n`` (rows of ``X``), the extreme point of the dual constraint set in
the span of the basis vector ``e_i`` is the neuron (paper, Lemma 2.7, eq. (10))

.. math::

    u_i = \\frac{a_i - \\sum_{j \\ne i} \\lambda_j a_j}{\\|a_i - \\sum_{j \\ne i} \\lambda_j a_j\\|_2},
    \\qquad b_i = \\min_{j \\ne i} (-a_j^T u_i),

where ``lambda`` solves the simplex-constrained QP (28)

.. math::

    \\min_{\\lambda} \\Big\\| a_i - \\sum_{j \\ne i} \\lambda_j a_j \\Big\\|_2
    \\quad \\text{s.t.} \\quad \\lambda \\ge 0,\\ 1^T \\lambda = 1,

i.e. ``sum_j lambda_j a_j`` is the point of ``conv{a_j : j != i}`` nearest to ``a_i`` and the
optimal value ``d_i`` is the distance of ``a_i`` to that hull.  The hyperplane
``u_i^T x + b_i = 0`` separates ``a_i`` (where ``u_i^T a_i + b_i = d_i``) from all other samples
(where it is ``<= 0``).  When every sample is a vertex of the hull (all ``d_i > 0``), the ``n``
neurons therefore give a diagonal activation matrix ``(X U + 1 b^T)_+ = diag(d)`` and a network
with zero training error (Theorem 3.5); Theorem 3.6 shows this holds with high probability for
Gaussian data with ``d > 4 n log^2(n - 1)``.

The QPs are solved exactly by Wolfe's minimum-norm-point algorithm in the C++ core
(:func:`fastconvexrelu._core.min_norm_points`), in parallel over the problems.
:func:`min_norm_points` exposes the batched kernel (many targets, one point set, a candidate
subset per target), e.g. for Convex-RF filters (Section 8.1, Algorithm 2).
"""

from __future__ import annotations

import numbers
import os
import warnings
from typing import Any, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _core
from ._validation import ConvergenceWarning, check_nonneg_real
from .extreme_points import as_float_array

__all__ = [
    "hull_neurons",
    "interpolating_network",
    "min_norm_points",
    "MinNormPoints",
    "InterpolatingNetwork",
]

# Status codes of the C++ kernel (fcr::MinNormStatus).
STATUS_CONVERGED = 0
STATUS_ZERO_DISTANCE = 1
STATUS_ROUNDING_LIMIT = 2
STATUS_MAX_ITER = 3


class MinNormPoints(NamedTuple):
    """Result of :func:`min_norm_points` for ``k`` targets and ``m`` points in ``R^d``.

    Attributes
    ----------
    indptr, indices, weights : ndarray
        The optimal ``lambda`` as a ``k x m`` CSR matrix: target ``i`` puts the weights
        ``weights[indptr[i]:indptr[i+1]]`` (all ``> 0``, summing to 1) on the points
        ``indices[indptr[i]:indptr[i+1]]`` (increasing).  See :meth:`dense_weights` and
        :meth:`to_scipy`.
    residuals : (k, d) ndarray
        ``r_i = t_i - sum_j lambda_ij p_j`` (target minus its nearest hull point), computed
        from an orthogonal factorization of the optimal support; it agrees with the formula
        to rounding, and stays accurate when the weights are ill-determined (nearly affinely
        dependent support points).
    distances : (k,) ndarray
        ``||r_i||_2``, the distance of ``t_i`` to the hull of its candidates; exactly 0 when
        the target is (numerically) in that hull.
    lower_bounds : (k,) ndarray
        Certified lower bounds ``max(0, min_j x^T (p_j - t_i)) / ||x||`` (``x = -r_i``) on the
        distances, from the final optimality check; ``distances - lower_bounds`` bounds the
        error of each distance (up to rounding).
    biases : (k,) ndarray
        ``min_{j in C_i} (-p_j^T u_i)`` with ``u_i = r_i / ||r_i||`` (the Lemma 2.7 bias);
        NaN when the distance is 0.
    n_iter : (k,) ndarray of int
        Wolfe major iterations (points entering the corral) per target.
    status : (k,) ndarray of int
        0 converged, 1 zero distance, 2 stopped at the rounding limit (the result is as
        accurate as double precision allows; see ``lower_bounds``), 3 iteration limit.
    n_points : int
        ``m``.
    """

    indptr: NDArray[np.int64]
    indices: NDArray[np.int64]
    weights: NDArray[np.float64]
    residuals: NDArray[np.float64]
    distances: NDArray[np.float64]
    lower_bounds: NDArray[np.float64]
    biases: NDArray[np.float64]
    n_iter: NDArray[np.int64]
    status: NDArray[np.int64]
    n_points: int

    @property
    def converged(self) -> NDArray[np.bool_]:
        """``status != 3`` (the iteration limit was not hit)."""
        return self.status != STATUS_MAX_ITER

    def dense_weights(self) -> NDArray[np.float64]:
        """The weights as a dense ``(k, m)`` array."""
        k = self.indptr.size - 1
        out = np.zeros((k, self.n_points))
        rows = np.repeat(np.arange(k), np.diff(self.indptr))
        out[rows, self.indices] = self.weights
        return out

    def to_scipy(self) -> Any:
        """The weights as a ``scipy.sparse.csr_array`` of shape ``(k, m)`` (needs SciPy)."""
        from scipy import sparse

        k = self.indptr.size - 1
        return sparse.csr_array(
            (self.weights, self.indices, self.indptr), shape=(k, self.n_points)
        )


class InterpolatingNetwork(NamedTuple):
    """Two-layer ReLU network ``f(x) = sum_i w_i (u_i^T x + b_i)_+`` (Theorem 3.5).

    Unpacks as ``U, b, w = interpolating_network(X, y)``.

    Attributes
    ----------
    U : (d, n) ndarray
        Hidden-layer weights, the hull neurons ``u_i`` of the training samples (unit columns).
    b : (n,) ndarray
        Hidden-layer biases ``b_i``.
    w : (n,) or (n, c) ndarray
        Output weights, ``w_i = y_i / d_i`` (``d_i`` the distance of sample ``i`` to the hull
        of the others).
    """

    U: NDArray[np.float64]
    b: NDArray[np.float64]
    w: NDArray[np.float64]

    def hidden(self, X: ArrayLike) -> NDArray[np.float64]:
        """Hidden activations ``(X U + 1 b^T)_+`` of shape ``(n_samples, n)``."""
        X = as_float_array(X, "X", 2)
        if X.shape[1] != self.U.shape[0]:
            raise ValueError(
                f"X has {X.shape[1]} features, but the network was built with {self.U.shape[0]}"
            )
        return np.maximum(X @ self.U + self.b, 0.0)

    def predict(self, X: ArrayLike) -> NDArray[np.float64]:
        """Network output ``(X U + 1 b^T)_+ w``: shape ``(n_samples,)`` or ``(n_samples, c)``."""
        return self.hidden(X) @ self.w


# ------------------------------------------------------------------------------ validation
def _check_max_iter(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"max_iter must be None or an integer >= 1, got {value!r}")
    return int(min(value, 2**31 - 1))


def _check_n_jobs(value: object) -> int:
    if value is None or (isinstance(value, numbers.Integral) and not isinstance(value, bool)
                         and value == -1):
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # pragma: no cover - not Linux
            return max(1, os.cpu_count() or 1)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"n_jobs must be None, -1 or an integer >= 1, got {value!r}")
    return int(min(value, 4096))


def _check_gram(value: object) -> int:
    if isinstance(value, str) and value == "auto":
        return -1
    if isinstance(value, (bool, np.bool_)):
        return int(bool(value))
    raise ValueError(f"gram must be 'auto', True or False, got {value!r}")


def _check_working_set(value: object) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"working_set must be an integer >= 0, got {value!r}")
    return int(min(value, 2**31 - 1))


def _as_index_list(sub: object, m: int, i: int) -> NDArray[np.int64]:
    """One target's candidate set (index array or boolean mask) -> sorted unique int64 indices."""
    arr = np.asarray(sub)
    if arr.ndim != 1:
        raise ValueError(
            f"subsets[{i}] must be a 1-D index array or boolean mask, got shape {arr.shape}"
        )
    if arr.dtype == np.bool_:
        if arr.size != m:
            raise ValueError(
                f"subsets[{i}] is a boolean mask of length {arr.size}, expected {m} (one per point)"
            )
        idx = np.flatnonzero(arr)
    else:
        if arr.size and arr.dtype.kind not in "iu":
            raise ValueError(f"subsets[{i}] must hold integer indices, got dtype {arr.dtype}")
        idx = np.unique(arr.astype(np.int64))
        if idx.size and (idx[0] < 0 or idx[-1] >= m):
            raise ValueError(f"subsets[{i}] has indices outside [0, {m})")
    if idx.size == 0:
        raise ValueError(f"subsets[{i}] is empty: every target needs at least one point")
    return idx.astype(np.int64)


def _subsets_to_csr(subsets: object, k: int, m: int) -> Tuple[NDArray[np.int64], NDArray[np.int64]]:
    if isinstance(subsets, np.ndarray) and subsets.ndim == 2:
        if subsets.dtype != np.bool_:
            raise ValueError(
                f"a 2-D subsets array must be a boolean mask, got dtype {subsets.dtype}"
            )
        if subsets.shape != (k, m):
            raise ValueError(f"subsets mask must have shape (k, m) = {(k, m)}, got {subsets.shape}")
        lists = [_as_index_list(subsets[i], m, i) for i in range(k)]
    else:
        try:
            n_sub = len(subsets)  # type: ignore[arg-type]
        except TypeError:
            raise ValueError(
                "subsets must be None, a (k, m) boolean mask or a sequence of k index arrays / "
                f"boolean masks, got {type(subsets).__name__}"
            ) from None
        if n_sub != k:
            raise ValueError(f"subsets must have one entry per target ({k}), got {n_sub}")
        lists = [_as_index_list(subsets[i], m, i) for i in range(k)]  # type: ignore[index]
    indptr = np.zeros(k + 1, dtype=np.int64)
    np.cumsum([len(a) for a in lists], out=indptr[1:])
    indices = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
    return indptr, indices


def _check_exclude(exclude: object, k: int, m: int) -> NDArray[np.int64]:
    arr = np.asarray(exclude)
    if arr.ndim != 1 or arr.shape[0] != k or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(
            f"exclude must be an integer array of shape ({k},) (one point index or -1 per "
            f"target), got shape {arr.shape} and dtype {arr.dtype}"
        )
    arr = arr.astype(np.int64)
    if np.any((arr < -1) | (arr >= m)):
        raise ValueError(f"exclude entries must be -1 or point indices in [0, {m})")
    if m == 1 and np.any(arr >= 0):
        raise ValueError("exclude leaves a target without candidate points (m = 1)")
    return np.ascontiguousarray(arr)


def _warn_status(status: NDArray[np.int64], what: str) -> None:
    n_bad = int(np.count_nonzero(status == STATUS_MAX_ITER))
    if n_bad:
        warnings.warn(
            f"{what}: {n_bad} problem(s) stopped at max_iter before convergence; their "
            "distances are upper bounds (see lower_bounds / increase max_iter).",
            ConvergenceWarning,
            stacklevel=3,
        )


# ------------------------------------------------------------------------------ public API
def min_norm_points(
    P: ArrayLike,
    T: ArrayLike,
    subsets: Union[None, ArrayLike, Sequence[ArrayLike]] = None,
    *,
    exclude: Optional[ArrayLike] = None,
    tol: float = 1e-12,
    zero_tol: float = 1e-10,
    max_iter: Optional[int] = None,
    n_jobs: Optional[int] = None,
    gram: Union[str, bool] = "auto",
    working_set: int = 64,
) -> MinNormPoints:
    """Minimum-norm points of convex hulls, many targets against one point set.

    For every target ``t_i`` (row ``i`` of ``T``) and its candidate set ``C_i`` (rows of
    ``P``), solves the simplex-constrained QP of Lemma 2.7 / eq. (28)

    .. math::

        \\min_{\\lambda} \\Big\\| t_i - \\sum_{j \\in C_i} \\lambda_j p_j \\Big\\|_2
        \\quad \\text{s.t.} \\quad \\lambda \\ge 0,\\ 1^T \\lambda = 1,

    i.e. the point of ``conv{p_j : j in C_i}`` nearest to ``t_i``.  The problems are solved
    exactly (finite active-set method) by Wolfe's minimum-norm-point algorithm, one per worker
    thread at a time with the GIL released; the results do not depend on ``n_jobs``.

    Parameters
    ----------
    P : (m, d) array_like
        Points.
    T : (k, d) array_like
        Targets.  Passing the same float64 C-contiguous array as ``P`` (e.g. with
        ``exclude=np.arange(m)``) lets the kernel reuse the Gram matrix.
    subsets : None, (k, m) bool array, or sequence of k index arrays / boolean masks, optional
        Candidate set of each target (default: all points).  Index arrays may be unsorted and
        contain repeats; every set must be non-empty.
    exclude : (k,) int array, optional
        Alternative to ``subsets``: target ``i`` uses all points except ``exclude[i]``
        (``-1``: none).  ``hull_neurons(X)`` is ``min_norm_points(X, X,
        exclude=np.arange(n))``.
    tol : float, default 1e-12
        Relative optimality tolerance (Wolfe's test ``x^T x - min_j x^T (p_j - t) <= tol
        x^T x``, ``x = -r``): the returned distance exceeds the optimum by at most a relative
        ``tol`` (plus rounding).
    zero_tol : float, default 1e-10
        Distances ``<= zero_tol * max_{j in C_i} ||p_j - t_i||`` are reported as exactly 0
        (the target lies in the hull of its candidates).
    max_iter : int, optional
        Major iterations per problem (default ``1000 + 50 (d + 1)``); a
        :class:`~fastconvexrelu.ConvergenceWarning` is issued for problems that hit it.
    n_jobs : int, optional
        Worker threads (default / ``-1``: all available cores).
    gram : {"auto", True, False}, default "auto"
        Precompute the ``m x m`` Gram matrix of the points for the entering-point scans
        ("auto": when ``m <= 8000``, ``d > 32`` and ``k >= m / 32``); otherwise inner products
        are computed on the fly.
    working_set : int, default 64
        Size of the working set searched between full scans of all candidates (0: always
        scan everything); optimality is only declared after a full scan, so this affects
        speed, not the result (beyond rounding).

    Returns
    -------
    MinNormPoints
        Weights (CSR), residuals, distances, certified lower bounds, Lemma 2.7 biases,
        iteration counts and status codes; see :class:`MinNormPoints`.

    Notes
    -----
    Accuracy: besides ``tol``, the distances carry rounding errors of order
    ``eps * cond * max_j ||p_j - t_i||``; for well-scaled data that is ~1e-15 relative, while
    for features whose scales span many orders of magnitude (e.g. 1e-4 .. 1e4) the active
    set becomes ill-determined and errors up to ~1e-9 of the data scale were observed
    (standardize such data).  ``distances - lower_bounds`` bounds the error.

    Cost: per target a few full scans (``O(m |S|)`` with the Gram matrix, ``O(m d)``
    otherwise) plus ``O(|S| d)`` per Wolfe iteration, ``|S|`` the support size (at most
    ``d + 1``); on 2 cores all 4000 hull QPs of 4000 points in ``d = 108`` take about 1 s
    (``bench/bench_hull.py``).

    Raises
    ------
    ValueError
        If ``P`` or ``T`` is not 2-D, is empty, contains NaN/inf, or their column counts
        differ; if ``subsets``/``exclude`` are malformed, out of range or leave a target
        without points; or for invalid parameters.
    """
    same = T is P
    P = as_float_array(P, "P", 2)
    T_arr = P if same else as_float_array(T, "T", 2)
    m, d = P.shape
    k = T_arr.shape[0]
    if T_arr.shape[1] != d:
        raise ValueError(f"T must have {d} columns like P, got {T_arr.shape[1]}")
    if subsets is not None and exclude is not None:
        raise ValueError("give either subsets or exclude, not both")
    indptr = indices = excl = None
    if subsets is not None:
        indptr, indices = _subsets_to_csr(subsets, k, m)
    elif exclude is not None:
        excl = _check_exclude(exclude, k, m)
    tol = check_nonneg_real(tol, "tol")
    zero_tol = check_nonneg_real(zero_tol, "zero_tol")
    raw = _core.min_norm_points(
        P,
        T_arr,
        exclude=excl,
        indptr=indptr,
        indices=indices,
        tol=tol,
        zero_tol=zero_tol,
        max_iter=_check_max_iter(max_iter),
        n_threads=_check_n_jobs(n_jobs),
        gram=_check_gram(gram),
        working_set=_check_working_set(working_set),
    )
    res = MinNormPoints(
        indptr=raw["indptr"],
        indices=raw["indices"],
        weights=raw["weights"],
        residuals=raw["residuals"],
        distances=raw["distances"],
        lower_bounds=raw["lower_bounds"],
        biases=raw["biases"],
        n_iter=raw["n_iter"].astype(np.int64),
        status=raw["status"].astype(np.int64),
        n_points=m,
    )
    _warn_status(res.status, "min_norm_points")
    return res


def hull_neurons(
    X: ArrayLike,
    *,
    tol: float = 1e-12,
    zero_tol: float = 1e-10,
    max_iter: Optional[int] = None,
    n_jobs: Optional[int] = None,
) -> Tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The ``n`` hull neurons of Lemma 2.7 (eq. (10)), one per sample.

    For each sample ``a_i`` (row ``i`` of ``X``), with ``lambda`` the solution of the
    simplex-constrained QP (28) over the other samples,

    .. math::

        d_i = \\Big\\| a_i - \\sum_{j \\ne i} \\lambda_j a_j \\Big\\|_2, \\qquad
        u_i = \\frac{a_i - \\sum_{j \\ne i} \\lambda_j a_j}{d_i}, \\qquad
        b_i = \\min_{j \\ne i} (-a_j^T u_i).

    ``d_i`` is the distance of ``a_i`` to the convex hull of the other samples, and
    ``(u_i, b_i)`` is the unit-norm neuron maximizing ``u^T a_i + b`` subject to
    ``u^T a_j + b <= 0`` for all ``j != i`` (the extreme point of the dual constraint set in
    the span of ``e_i``): it is active (``= d_i``) on ``a_i`` only.

    Parameters
    ----------
    X : (n, d) array_like
        Samples as rows, ``n >= 2``.
    tol, zero_tol, max_iter, n_jobs
        As in :func:`min_norm_points`; ``d_i <= zero_tol * max_j ||a_j - a_i||`` is reported
        as ``d_i = 0``.

    Returns
    -------
    U : (d, n) ndarray
        Unit-norm columns ``u_i``.  **Column i is NaN when** ``d_i = 0``, i.e. when ``a_i``
        is not a vertex of the convex hull of the samples (it lies in the hull of the others,
        e.g. it duplicates another sample): ``u_i`` is then undefined.  Select the defined
        neurons with ``distances > 0``.
    b : (n,) ndarray
        Biases ``b_i`` (NaN where ``d_i = 0``).
    distances : (n,) ndarray
        ``d_i >= 0``; ``u_i^T a_i + b_i = d_i`` and ``u_i^T a_j + b_i <= 0`` for ``j != i``.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D, has fewer than 2 samples, is empty or contains NaN/inf, or for
        invalid parameters.

    See Also
    --------
    interpolating_network : the zero-training-error network built from these neurons.
    min_norm_points : the batched kernel (weights, residuals, certified bounds).

    Examples
    --------
    >>> import numpy as np
    >>> from fastconvexrelu import hull_neurons
    >>> X = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [0.5, 0.5]])
    >>> U, b, dist = hull_neurons(X)
    >>> np.round(dist, 6)   # the last sample is inside the triangle of the others
    array([0.707107, 1.581139, 1.581139, 0.      ])
    """
    X = as_float_array(X, "X", 2)
    if X.shape[0] < 2:
        raise ValueError(
            f"X must have at least 2 samples (rows): the hull neuron of a sample is defined "
            f"by the convex hull of the other samples; got X of shape {X.shape}"
        )
    res = min_norm_points(
        X,
        X,
        exclude=np.arange(X.shape[0], dtype=np.int64),
        tol=tol,
        zero_tol=zero_tol,
        max_iter=max_iter,
        n_jobs=n_jobs,
    )
    dist = res.distances
    with np.errstate(invalid="ignore", divide="ignore"):
        U = (res.residuals / dist[:, None]).T
    U[:, dist == 0] = np.nan
    return np.ascontiguousarray(U), res.biases, dist


def interpolating_network(
    X: ArrayLike,
    y: ArrayLike,
    *,
    tol: float = 1e-12,
    zero_tol: float = 1e-10,
    n_jobs: Optional[int] = None,
) -> InterpolatingNetwork:
    """A two-layer ReLU network with ``n`` neurons and zero training error (Theorem 3.5).

    If every sample ``a_i`` is a vertex of the convex hull of the samples (``d_i > 0`` in
    :func:`hull_neurons`), the hull neurons satisfy ``u_i^T a_i + b_i = d_i > 0`` and
    ``u_i^T a_j + b_i <= 0`` for ``j != i``, so the activation matrix is diagonal:

    .. math::

        (X U + 1 b^T)_+ = \\operatorname{diag}(d_1, \\dots, d_n),

    and ``w_i = y_i / d_i`` solves ``(X U + 1 b^T)_+ w = y`` exactly (Theorem 3.5 and its
    proof).  The diagonal structure is used directly; the computed activation matrix is
    checked to be diagonal and the training residual is verified.  By Theorem 3.6 the vertex
    condition holds with high probability for i.i.d. Gaussian samples with
    ``d > 4 n log^2(n - 1)``.

    Parameters
    ----------
    X : (n, d) array_like
        Training samples as rows, ``n >= 2``.
    y : (n,) or (n, c) array_like
        Targets.
    tol, zero_tol, n_jobs
        As in :func:`hull_neurons`.

    Returns
    -------
    InterpolatingNetwork
        ``(U, b, w)`` with ``U`` (d, n), ``b`` (n,), ``w`` (n,) or (n, c); its
        ``predict(X)`` returns ``(X U + 1 b^T)_+ w``, equal to ``y`` on the training samples
        up to rounding.

    Raises
    ------
    ValueError
        If some samples are not vertices of the convex hull (``d_i = 0``: they lie in the
        hull of the others, e.g. duplicates); the message lists their indices.  Also for
        invalid ``X``/``y`` as in :func:`hull_neurons`, or if ``y`` does not have ``n`` rows.
    """
    X = as_float_array(X, "X", 2)
    y_arr = np.asarray(y) if y is not None else None
    if y_arr is None or y_arr.ndim not in (1, 2):
        raise ValueError(
            "y must be a 1-D array of shape (n,) or a 2-D array of shape (n, c), got "
            f"{None if y_arr is None else y_arr.shape}"
        )
    y_arr = as_float_array(y_arr, "y", y_arr.ndim)
    n = X.shape[0]
    if y_arr.shape[0] != n:
        raise ValueError(f"y has {y_arr.shape[0]} rows but X has {n} samples")
    U, b, dist = hull_neurons(X, tol=tol, zero_tol=zero_tol, n_jobs=n_jobs)
    bad = np.flatnonzero(dist == 0)
    if bad.size:
        shown = ", ".join(str(i) for i in bad[:20]) + (", ..." if bad.size > 20 else "")
        raise ValueError(
            f"samples [{shown}] ({bad.size} of {n}) are not vertices of the convex hull of the "
            "samples (distance 0 to the hull of the others, e.g. duplicates or interior "
            "points): Theorem 3.5 needs every sample to be a vertex to interpolate with the n "
            "hull neurons"
        )
    H = np.maximum(X @ U + b, 0.0)
    diag = np.diag(H).copy()
    off = H.copy()
    np.fill_diagonal(off, 0.0)
    # Before the ReLU the off-diagonal entries are <= 0 (Lemma 2.7), up to rounding.
    scale = float(np.linalg.norm(X, axis=1).max())
    if off.max() > 1e-8 * max(scale, np.finfo(float).tiny):  # pragma: no cover
        raise ValueError(  # would contradict Lemma 2.7
            "internal error: the hull-neuron activation matrix is not diagonal "
            f"(max off-diagonal {off.max():.3e})"
        )
    dcol = diag[:, None] if y_arr.ndim == 2 else diag
    w = y_arr / dcol
    if off.any():
        # rounding left tiny positive off-diagonal activations: Jacobi refinement on
        # H w = y (converges at once since |off| / diag is at rounding level)
        for _ in range(3):
            w = w + (y_arr - H @ w) / dcol
    return InterpolatingNetwork(U=U, b=b, w=w)
