r"""Projection onto a polyhedral cone and the spike-free oracle of the cutting-plane method.

The cutting-plane method (Section 3.5, Algorithm 1) needs, for the current dual vector
:math:`v`, a neuron that violates the dual constraint :math:`|v^\top(Xu)_+| \le 1`, i.e. the
non-convex problems (14).  The *spike-free relaxation* (15) replaces the rectified ellipsoid
:math:`\{(Xu)_+ : \|u\|_2\le 1\}` by its convex inner approximation
:math:`XB_2\cap\mathbb R^n_+` (Section 2.2.1; exact when :math:`X` is spike-free, Lemma 2.3):

.. math::

    \hat u_1 = \operatorname*{argmax}_{u:\,Xu\ge 0,\ \|u\|_2\le 1} v^\top X u, \qquad
    \hat u_2 = \operatorname*{argmin}_{u:\,Xu\ge 0,\ \|u\|_2\le 1} v^\top X u. \tag{15}

Both are solved *exactly* by one Euclidean projection onto the polyhedral cone
:math:`C=\{u: Xu\ge 0\}`.  With :math:`g = X^\top v` and Moreau's decomposition
:math:`g = P_C(g) + P_{C^\circ}(g)`, :math:`P_{C^\circ}(g)\perp P_C(g)`, every :math:`u\in C`
has :math:`g^\top u\le P_C(g)^\top u\le\|P_C(g)\|_2\|u\|_2`, so

.. math::

    \max_{u\in C,\|u\|\le 1} v^\top Xu = \|P_C(g)\|_2,\quad
    \hat u_1 = \frac{P_C(g)}{\|P_C(g)\|_2}, \qquad
    \min_{u\in C,\|u\|\le 1} v^\top Xu = -\|P_C(-g)\|_2,\quad
    \hat u_2 = \frac{P_C(-g)}{\|P_C(-g)\|_2}

(:math:`\hat u = 0` when the projection is 0).  The projection itself is the dual
non-negative least-squares problem (the polar cone is :math:`\{-A^\top\lambda:\lambda\ge0\}`)

.. math::

    P_C(g) = g + A^\top\lambda^*, \qquad
    \lambda^* \in \operatorname*{argmin}_{\lambda\ge 0} \tfrac12\|g + A^\top\lambda\|_2^2,

solved in C++ by the Lawson-Hanson active-set method with an up/down-dated QR factorization
of the active rows (:func:`fastconvexrelu._core.cone_projection`); its KKT conditions
:math:`Au\ge 0`, :math:`\lambda\ge 0`, :math:`\lambda_i(Au)_i = 0`,
:math:`u = g + A^\top\lambda` are returned for verification.

For vector outputs (supplementary A.7) the oracle (50),
:math:`\max\|V^\top Xu\|_2` s.t. :math:`Xu\ge 0,\ \|u\|\le 1`, is non-convex in general;
:func:`spike_free_oracle_columnwise` implements the relaxed per-column version of A.7.3.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from typing import List, NamedTuple, Optional

import numpy as np

from . import _core
from ._validation import ConvergenceWarning, _as_float_array, _check_2d, _check_finite, check_nonneg_real

__all__ = [
    "ConeProjection",
    "ConeProjectionBatch",
    "SpikeFreeOracle",
    "SpikeFreeColumnwise",
    "cone_projection",
    "spike_free_oracle",
    "spike_free_oracle_columnwise",
]

_BACKENDS = ("cpp", "osqp")


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class ConeProjection:
    r"""Projection :math:`u = P_C(g)` of one vector onto :math:`C = \{u: Au\ge 0\}`.

    Attributes
    ----------
    u : ndarray of shape (d,)
        The projection.
    lam : ndarray of shape (n,)
        Multipliers :math:`\lambda\ge 0` with :math:`u = g + A^\top\lambda` (not unique when the
        active rows of ``A`` are linearly dependent; the C++ backend returns one supported on
        linearly independent rows).
    active_set : ndarray of int64
        Sorted indices of the rows with :math:`\lambda_i > 0` (the Lawson-Hanson passive set).
        Pass it (or this object) as ``warm_start`` to the next call.
    distance : float
        :math:`\|u - g\|_2`, the distance from ``g`` to the cone.
    n_iter : int
        Lawson-Hanson steps (C++) or ADMM iterations (OSQP).
    converged : bool
    message : str
    min_Au : float
        :math:`\min_i (Au)_i` (primal feasibility: :math:`\ge 0` up to the tolerance).
    complementarity : float
        :math:`\max_i |\lambda_i (Au)_i|`.
    dual_infeasibility : float
        :math:`\max(0, -\min_i\lambda_i)`.
    stationarity : float
        :math:`\|u - g - A^\top\lambda\|_\infty`.
    backend : str
    """

    u: np.ndarray
    lam: np.ndarray
    active_set: np.ndarray
    distance: float
    n_iter: int
    converged: bool
    message: str
    min_Au: float
    complementarity: float
    dual_infeasibility: float
    stationarity: float
    backend: str = "cpp"


@dataclass(frozen=True)
class ConeProjectionBatch:
    r"""Projections of the rows of ``G`` (shape ``(m, d)``) onto the same cone.

    Same fields as :class:`ConeProjection`, stacked over the rows: ``u`` (m, d), ``lam``
    (m, n), ``active_sets`` (list of m index arrays), ``messages`` (list), and arrays of
    shape (m,) for the scalars.  ``batch[i]`` is the :class:`ConeProjection` of row ``i``.
    """

    u: np.ndarray
    lam: np.ndarray
    active_sets: List[np.ndarray]
    distance: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    messages: List[str]
    min_Au: np.ndarray
    complementarity: np.ndarray
    dual_infeasibility: np.ndarray
    stationarity: np.ndarray
    backend: str = "cpp"

    def __len__(self) -> int:
        return self.u.shape[0]

    def __getitem__(self, i: int) -> ConeProjection:
        return ConeProjection(
            u=self.u[i],
            lam=self.lam[i],
            active_set=self.active_sets[i],
            distance=float(self.distance[i]),
            n_iter=int(self.n_iter[i]),
            converged=bool(self.converged[i]),
            message=self.messages[i],
            min_Au=float(self.min_Au[i]),
            complementarity=float(self.complementarity[i]),
            dual_infeasibility=float(self.dual_infeasibility[i]),
            stationarity=float(self.stationarity[i]),
            backend=self.backend,
        )

    @property
    def all_converged(self) -> bool:
        return bool(np.all(self.converged))


class _OracleTuple(NamedTuple):
    u1: np.ndarray
    value1: float
    u2: np.ndarray
    value2: float


class SpikeFreeOracle(_OracleTuple):
    r"""Solution of the spike-free relaxation (15); unpacks as ``u1, value1, u2, value2``.

    Attributes
    ----------
    u1 : ndarray of shape (d,)
        :math:`\operatorname{argmax}_{Xu\ge0,\|u\|\le1} v^\top Xu` (unit norm, or 0).
    value1 : float
        The maximum :math:`\|P_C(X^\top v)\|_2\ge 0`.
    u2 : ndarray of shape (d,)
        :math:`\operatorname{argmin}_{Xu\ge0,\|u\|\le1} v^\top Xu` (unit norm, or 0).
    value2 : float
        The minimum :math:`-\|P_C(-X^\top v)\|_2\le 0`.
    plus, minus : ConeProjection
        The projections of :math:`X^\top v` and :math:`-X^\top v` (``active_set`` holds the
        warm start of the next call; pass this object as ``warm_start``).
    converged : bool
        Both projections converged.
    """

    # (no __slots__: instances carry the extra attributes below)
    plus: ConeProjection
    minus: ConeProjection
    converged: bool


@dataclass(frozen=True)
class SpikeFreeColumnwise:
    r"""Relaxed per-column oracle for vector outputs (A.7.3), for ``V`` of shape (n, o).

    Attributes
    ----------
    U_max, U_min : ndarray of shape (d, o)
        Column ``k``: the solutions :math:`\hat u_{k,1}`, :math:`\hat u_{k,2}` of (15) with
        :math:`v = v_k` (unit norm, or 0).
    values_max : ndarray of shape (o,)
        :math:`\max_{Xu\ge0,\|u\|\le1} v_k^\top Xu\ge 0`.
    values_min : ndarray of shape (o,)
        :math:`\min_{Xu\ge0,\|u\|\le1} v_k^\top Xu\le 0`.
    k_max, k_min : int
        The columns with the largest maximum and the smallest minimum (the two neurons
        selected in A.7.3).
    u1, value1, u2, value2
        ``U_max[:, k_max]``, ``values_max[k_max]``, ``U_min[:, k_min]``,
        ``values_min[k_min]``.
    norm1, norm2 : float
        :math:`\|V^\top X u_1\|_2`, :math:`\|V^\top X u_2\|_2`: the objective of (50) at the
        two selected (feasible) neurons, lower bounds on the optimum of the non-convex (50).
    plus, minus : ConeProjectionBatch
        The projections of :math:`\pm X^\top v_k` (warm starts of the next call).
    converged : bool
    """

    U_max: np.ndarray
    U_min: np.ndarray
    values_max: np.ndarray
    values_min: np.ndarray
    k_max: int
    k_min: int
    u1: np.ndarray
    value1: float
    u2: np.ndarray
    value2: float
    norm1: float
    norm2: float
    plus: ConeProjectionBatch
    minus: ConeProjectionBatch
    converged: bool


# ------------------------------------------------------------------------ validation
def _check_backend(backend):
    if not isinstance(backend, str) or backend not in _BACKENDS:
        raise ValueError(f"backend must be one of {_BACKENDS}, got {backend!r}.")
    return backend


def _check_dep_tol(x):
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real) or not (0 < x < 1):
        raise ValueError(f"dep_tol must be a real number in (0, 1), got {x!r}.")
    return float(x)


def _check_int(x, name, allow_none=False):
    if x is None and allow_none:
        return 0  # C++: automatic
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral) or x < 1:
        raise ValueError(
            f"{name} must be an integer >= 1{' or None' if allow_none else ''}, got {x!r}."
        )
    if x > np.iinfo(np.int32).max:
        raise ValueError(f"{name} is too large ({x}).")
    return int(x)


def _check_vectors(g, d, name):
    """g: (d,) or (m, d) -> (2-D C-contiguous array, was_1d)."""
    arr = _as_float_array(g, name)
    if arr.ndim not in (1, 2):
        raise ValueError(
            f"{name} must be 1-D of shape (d,) or 2-D of shape (m, d), got shape {arr.shape}."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}).")
    if arr.shape[-1] != d:
        raise ValueError(
            f"{name} has {arr.shape[-1]} entries per vector but A has {d} columns "
            f"(shape mismatch: expected {name}.shape[-1] == {d})."
        )
    _check_finite(arr, name)
    return np.ascontiguousarray(arr.reshape(-1, d)), arr.ndim == 1


def _one_warm(w, n, name):
    """A passive set given as an index array, a boolean mask, a multiplier vector or a result."""
    if isinstance(w, ConeProjection):
        w = w.active_set
    arr = np.asarray(w)
    if arr.size == 0:
        return []
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D index array, boolean mask or multiplier vector, got "
            f"shape {arr.shape}."
        )
    if arr.dtype == np.bool_:
        if arr.shape[0] != n:
            raise ValueError(
                f"{name}: a boolean mask must have length n = {n}, got {arr.shape[0]}."
            )
        return np.flatnonzero(arr).tolist()
    if arr.dtype.kind in "iu":
        if arr.min() < 0 or arr.max() >= n:
            raise ValueError(
                f"{name}: indices must lie in [0, {n}), got range [{arr.min()}, {arr.max()}]."
            )
        return np.unique(arr).tolist()
    if arr.dtype.kind == "f":  # multipliers lambda: the passive set is {i : lambda_i > 0}
        if arr.shape[0] != n:
            raise ValueError(
                f"{name}: a float array is read as multipliers lambda and must have length "
                f"n = {n}, got {arr.shape[0]} (pass integer indices for a passive set)."
            )
        _check_finite(arr, name)
        return np.flatnonzero(arr > 0).tolist()
    raise ValueError(
        f"{name} must be integer indices, a boolean mask or multipliers, got dtype {arr.dtype}."
    )


def _warm_list(warm_start, n, m, name="warm_start"):
    """-> [] (none), [set] (shared) or m sets."""
    if warm_start is None:
        return []
    if isinstance(warm_start, ConeProjectionBatch):
        warm_start = warm_start.active_sets
    if isinstance(warm_start, ConeProjection):
        return [_one_warm(warm_start, n, name)]
    if (
        isinstance(warm_start, (list, tuple))
        and len(warm_start) > 0
        and all(isinstance(w, (list, tuple, np.ndarray, ConeProjection)) for w in warm_start)
    ):
        if len(warm_start) != m:
            raise ValueError(
                f"{name} has {len(warm_start)} passive sets but there are {m} vectors to project."
            )
        return [_one_warm(w, n, f"{name}[{i}]") for i, w in enumerate(warm_start)]
    return [_one_warm(warm_start, n, name)]


def _warn_if_not_converged(converged, what):
    if not np.all(converged):
        warnings.warn(
            f"{what} did not converge (see the result's message / converged fields).",
            ConvergenceWarning,
            stacklevel=3,
        )


# ------------------------------------------------------------------------ backends
def _batch_from_dict(r, backend="cpp") -> ConeProjectionBatch:
    return ConeProjectionBatch(
        u=r["u"],
        lam=r["lam"],
        active_sets=list(r["active"]),
        distance=np.asarray(r["distance"], dtype=float),
        n_iter=np.asarray(r["n_iter"], dtype=np.int64),
        converged=np.asarray(r["converged"], dtype=bool),
        messages=list(r["message"]),
        min_Au=np.asarray(r["min_Au"], dtype=float),
        complementarity=np.asarray(r["complementarity"], dtype=float),
        dual_infeasibility=np.asarray(r["dual_infeasibility"], dtype=float),
        stationarity=np.asarray(r["stationarity"], dtype=float),
        backend=backend,
    )


def _import_osqp():
    try:
        import osqp  # noqa: F401
        from scipy import sparse
    except ImportError as exc:
        raise ImportError(
            "backend='osqp' needs the optional dependency 'osqp' (and scipy); install it with "
            "pip install 'fastconvexrelu[osqp]'  (or: pip install osqp)."
        ) from exc
    return osqp, sparse


def _osqp_batch(A, G, eps=1e-10, max_iter=None) -> ConeProjectionBatch:
    r"""min 1/2 ||u - g||^2 s.t. A u >= 0 with OSQP (eps_abs = eps_rel = 1e-10, polishing).

    OSQP's multiplier y of l <= A u satisfies u - g + A^T y = 0 with y <= 0, so lambda = -y.
    """
    osqp, sparse = _import_osqp()
    n, d = A.shape
    settings = dict(eps_abs=eps, eps_rel=eps, verbose=False, max_iter=max_iter or 200000)
    major = int(str(getattr(osqp, "__version__", "0")).split(".")[0] or 0)
    settings["polishing" if major >= 1 else "polish"] = True
    solver = osqp.OSQP()
    solver.setup(
        sparse.identity(d, format="csc"),
        -G[0],
        sparse.csc_matrix(A),
        np.zeros(n),
        np.full(n, np.inf),
        **settings,
    )
    rows = []
    for i in range(G.shape[0]):
        g = G[i]
        if i > 0:
            solver.update(q=-g)
        try:
            res = solver.solve(raise_error=False)
        except TypeError:  # osqp < 1.0
            res = solver.solve()
        status = str(res.info.status)
        ok = res.x is not None and status == "solved" and np.all(np.isfinite(res.x))
        u = np.asarray(res.x, dtype=float) if ok else np.full(d, np.nan)
        lam = np.maximum(-np.asarray(res.y, dtype=float), 0.0) if ok else np.full(n, np.nan)
        Au = A @ u
        lam_scale = np.max(lam) if ok and lam.size else 0.0
        rows.append(
            dict(
                u=u,
                lam=lam,
                active=np.flatnonzero(lam > 1e-9 * max(lam_scale, 1e-300))
                if ok
                else np.zeros(0, np.int64),
                distance=float(np.linalg.norm(u - g)),
                n_iter=int(res.info.iter),
                converged=bool(ok),
                message=f"OSQP status: {status} (polish status "
                f"{getattr(res.info, 'status_polish', '?')})",
                min_Au=float(np.min(Au)),
                complementarity=float(np.max(np.abs(lam * Au))),
                # OSQP's y should be <= 0 (lambda = -y >= 0): report its positive part
                dual_infeasibility=float(max(0.0, np.max(res.y))) if ok else np.nan,
                stationarity=float(np.max(np.abs(u - g - A.T @ lam))),
            )
        )
    out = {k: [r[k] for r in rows] for k in rows[0]}
    out["u"] = np.array(out["u"])
    out["lam"] = np.array(out["lam"])
    return _batch_from_dict(out, backend="osqp")


# ------------------------------------------------------------------------ public API
def cone_projection(
    A,
    g,
    *,
    backend: str = "cpp",
    warm_start=None,
    tol: float = 1e-12,
    dep_tol: float = 1e-10,
    max_iter: Optional[int] = None,
    n_threads: int = 2,
):
    r"""Euclidean projection onto the polyhedral cone :math:`C = \{u\in\mathbb R^d: Au\ge 0\}`.

    Solves :math:`\min_u \tfrac12\|u - g\|_2^2` s.t. :math:`Au\ge 0` through its dual
    non-negative least-squares problem (Moreau decomposition; the polar cone is
    :math:`C^\circ = \{-A^\top\lambda: \lambda\ge 0\}`)

    .. math::

        u^* = g + A^\top\lambda^*, \qquad
        \lambda^*\in\operatorname*{argmin}_{\lambda\ge0}\tfrac12\|g + A^\top\lambda\|_2^2,

    with the exact Lawson-Hanson active-set method in C++ (the oracle of the cutting-plane
    method, eq. (15), Section 3.5).  Handles ``g`` inside :math:`C` (``u = g``), ``g`` in the
    polar cone (``u = 0``), duplicated / linearly dependent rows and both ``n > d`` and
    ``n < d``.

    Parameters
    ----------
    A : array-like of shape (n, d)
        Constraint rows :math:`a_i` (for the spike-free oracle: the data matrix ``X``).
    g : array-like of shape (d,) or (m, d)
        The vector to project, or ``m`` vectors as rows (batch: returns a
        :class:`ConeProjectionBatch`; the C++ backend runs the rows on ``n_threads`` threads,
        with results independent of ``n_threads``).
    backend : {"cpp", "osqp"}
        ``"osqp"`` solves the QP with the optional `osqp` package (eps 1e-10, polishing) for
        cross-checking; its ``active_set`` is read off the multipliers and ``warm_start`` is
        ignored.
    warm_start : optional
        The passive set (active constraints) of a previous call: a :class:`ConeProjection`, an
        integer index array, a boolean mask of length n or a multiplier vector ``lam`` of
        length n (passive set ``lam > 0``).  For a batch: one of these shared by all rows, a
        list with one per row, or a :class:`ConeProjectionBatch`.
    tol : float, default 1e-12
        Row ``i`` counts as violated when :math:`(Au)_i < -\mathrm{tol}\,\|a_i\|\,\|g\|`.
    dep_tol : float in (0, 1), default 1e-10
        A candidate row whose component orthogonal to the active rows has norm
        :math:`\le` ``dep_tol`` :math:`\|a_i\|` is skipped as numerically dependent (keeps the
        factorization well conditioned).  Such a row can stay violated by at most
        :math:`\mathrm{dep\_tol}\,\|a_i\|\,\|u\|`; this is accepted (and reported in
        ``message``) — the result is then the exact projection onto a cone whose rows are
        perturbed by that relative amount.
    max_iter : int or None
        Cap on Lawson-Hanson steps (None: :math:`\max(100, 3(n+d))`).  When it is reached the
        result has ``converged=False`` and a :class:`ConvergenceWarning` is emitted.
    n_threads : int, default 2

    Returns
    -------
    ConeProjection or ConeProjectionBatch

    Raises
    ------
    ValueError
        Naming the argument, for NaN/inf, empty input or shape mismatch.
    ImportError
        For ``backend="osqp"`` when `osqp` is not installed (extra ``fastconvexrelu[osqp]``).
    """
    backend = _check_backend(backend)
    A = _check_2d(A, "A")
    n, d = A.shape
    G, single = _check_vectors(g, d, "g")
    tol = check_nonneg_real(tol, "tol")
    dep_tol = _check_dep_tol(dep_tol)
    mi = _check_int(max_iter, "max_iter", allow_none=True)
    n_threads = _check_int(n_threads, "n_threads")
    if backend == "osqp":
        batch = _osqp_batch(A, G, max_iter=mi or None)
    else:
        warm = _warm_list(warm_start, n, G.shape[0])
        batch = _batch_from_dict(
            _core.cone_projection_batch(A, G, tol, dep_tol, mi, warm, n_threads)
        )
    _warn_if_not_converged(batch.converged, "cone_projection")
    return batch[0] if single else batch


def _oracle_warm(warm_start, n, o):
    """-> (warm_plus, warm_minus) lists of o passive sets (or [])."""
    if warm_start is None:
        return [], []
    if isinstance(warm_start, SpikeFreeOracle):
        return (
            [_one_warm(warm_start.plus, n, "warm_start")],
            [_one_warm(warm_start.minus, n, "warm_start")],
        )
    if isinstance(warm_start, SpikeFreeColumnwise):
        return (
            [_one_warm(w, n, "warm_start") for w in warm_start.plus.active_sets],
            [_one_warm(w, n, "warm_start") for w in warm_start.minus.active_sets],
        )
    if isinstance(warm_start, tuple) and len(warm_start) == 2:
        plus, minus = warm_start
        if o == 1:
            return [_one_warm(plus, n, "warm_start[0]")], [_one_warm(minus, n, "warm_start[1]")]
        return _warm_list(plus, n, o, "warm_start[0]"), _warm_list(minus, n, o, "warm_start[1]")
    raise ValueError(
        "warm_start must be None, a previous oracle result, or a pair (active_plus, active_minus) "
        f"of passive sets, got {type(warm_start).__name__}."
    )


def _oracle_core(X, V, backend, warm_start, tol, dep_tol, max_iter, zero_tol, n_threads):
    """Shared validation + computation; V is (n, o). Returns the _core-style dict."""
    o = V.shape[1]
    if backend == "cpp":
        wp, wm = _oracle_warm(warm_start, X.shape[0], o)
        if len(wp) == 1 and o > 1:
            wp = wp * o
        if len(wm) == 1 and o > 1:
            wm = wm * o
        if (wp and not wm) or (wm and not wp):
            wp = wp or [[] for _ in range(o)]
            wm = wm or [[] for _ in range(o)]
        r = _core.spike_free_oracle(X, V, tol, dep_tol, max_iter, zero_tol, wp, wm, n_threads)
        plus = _batch_from_dict(r["plus"])
        minus = _batch_from_dict(r["minus"])
        return r["u_max"], r["value_max"], r["u_min"], r["value_min"], plus, minus
    G = np.ascontiguousarray(V.T @ X)
    batch = _osqp_batch(X, np.vstack([G, -G]), max_iter=max_iter or None)
    plus = ConeProjectionBatch(*(f[:o] if not isinstance(f, str) else f for f in _fields(batch)))
    minus = ConeProjectionBatch(*(f[o:] if not isinstance(f, str) else f for f in _fields(batch)))
    out = []
    for b, sign in ((plus, 1.0), (minus, -1.0)):
        nrm = np.linalg.norm(b.u, axis=1)
        gn = np.linalg.norm(G, axis=1)
        keep = (nrm > zero_tol * gn) & (nrm > 0)
        U = np.where(keep[:, None], b.u / np.where(nrm > 0, nrm, 1.0)[:, None], 0.0)
        out += [U, sign * np.where(keep, nrm, 0.0)]
    return out[0], out[1], out[2], out[3], plus, minus


def _fields(batch):
    return [getattr(batch, f) for f in batch.__dataclass_fields__]


def _check_oracle_args(X, backend, tol, dep_tol, max_iter, zero_tol, n_threads):
    backend = _check_backend(backend)
    X = _check_2d(X, "X")
    return (
        X,
        backend,
        check_nonneg_real(tol, "tol"),
        _check_dep_tol(dep_tol),
        _check_int(max_iter, "max_iter", allow_none=True),
        check_nonneg_real(zero_tol, "zero_tol"),
        _check_int(n_threads, "n_threads"),
    )


def spike_free_oracle(
    X,
    v,
    *,
    warm_start=None,
    backend: str = "cpp",
    tol: float = 1e-12,
    dep_tol: float = 1e-10,
    max_iter: Optional[int] = None,
    zero_tol: float = 1e-12,
    n_threads: int = 2,
) -> SpikeFreeOracle:
    r"""The spike-free relaxation (15) of the cutting-plane oracle (14), solved exactly.

    .. math::

        \hat u_1 = \operatorname*{argmax}_{Xu\ge 0,\ \|u\|_2\le 1} v^\top Xu
                 = \frac{P_C(X^\top v)}{\|P_C(X^\top v)\|_2}, \qquad
        \hat u_2 = \operatorname*{argmin}_{Xu\ge 0,\ \|u\|_2\le 1} v^\top Xu
                 = \frac{P_C(-X^\top v)}{\|P_C(-X^\top v)\|_2},

    with :math:`C = \{u: Xu\ge0\}`; the optimal values are :math:`\|P_C(X^\top v)\|_2` and
    :math:`-\|P_C(-X^\top v)\|_2` (Moreau decomposition; a projection of norm
    :math:`\le` ``zero_tol`` :math:`\|X^\top v\|` counts as 0 and gives :math:`\hat u = 0`).
    This is step 3 / 6 of Algorithm 1: a neuron violates the dual constraint of (12) iff
    ``value1 > 1`` or ``value2 < -1`` (exactly so when ``X`` is spike-free, Lemma 2.3,
    Proposition 3.2; otherwise (15) is a relaxation of (14) over the inner approximation
    :math:`XB_2\cap\mathbb R^n_+` of the rectified ellipsoid).

    Parameters
    ----------
    X : array-like of shape (n, d)
    v : array-like of shape (n,)
        The dual vector.
    warm_start : optional
        A previous :class:`SpikeFreeOracle` (e.g. of the previous cutting-plane iteration, with
        a different ``v``) or a pair ``(active_plus, active_minus)`` of passive sets.
    backend : {"cpp", "osqp"}
    tol, dep_tol, max_iter, n_threads
        See :func:`cone_projection` (the two projections run in parallel).
    zero_tol : float, default 1e-12

    Returns
    -------
    SpikeFreeOracle
        Unpacks as ``u1, value1, u2, value2`` (``value2 <= 0`` is the minimum); also carries
        ``plus``, ``minus`` (the two :class:`ConeProjection`) and ``converged``.
    """
    X, backend, tol, dep_tol, mi, zero_tol, n_threads = _check_oracle_args(
        X, backend, tol, dep_tol, max_iter, zero_tol, n_threads
    )
    v = _as_float_array(v, "v")
    if v.ndim != 1:
        raise ValueError(
            f"v must be 1-D of shape (n,), got shape {v.shape} (use spike_free_oracle_columnwise "
            "for a matrix V of vector outputs)."
        )
    if v.shape[0] != X.shape[0]:
        raise ValueError(
            f"v has {v.shape[0]} entries but X has {X.shape[0]} samples (shape mismatch)."
        )
    _check_finite(v, "v")
    Umax, vmax, Umin, vmin, plus, minus = _oracle_core(
        X,
        np.ascontiguousarray(v[:, None]),
        backend,
        warm_start,
        tol,
        dep_tol,
        mi,
        zero_tol,
        n_threads,
    )
    res = SpikeFreeOracle(np.array(Umax[0]), float(vmax[0]), np.array(Umin[0]), float(vmin[0]))
    res.plus, res.minus = plus[0], minus[0]
    res.converged = bool(plus.converged[0] and minus.converged[0])
    _warn_if_not_converged(res.converged, "spike_free_oracle")
    return res


def spike_free_oracle_columnwise(
    X,
    V,
    *,
    warm_start=None,
    backend: str = "cpp",
    tol: float = 1e-12,
    dep_tol: float = 1e-10,
    max_iter: Optional[int] = None,
    zero_tol: float = 1e-12,
    n_threads: int = 2,
) -> SpikeFreeColumnwise:
    r"""Relaxed per-column oracle for vector-output networks (supplementary A.7.3).

    The exact oracle of the vector-output dual (49) with the spike-free relaxation is (50),
    :math:`\max\|V^\top Xu\|_2` s.t. :math:`Xu\ge0,\ \|u\|_2\le1` — a *maximization of a
    convex function*, non-convex in general.  Following A.7.3 (the :math:`\ell_1`-regularized
    vector-output problem, whose dual constraint is :math:`\|V^\top(Xu)_+\|_\infty\le 1`), this
    solves instead, for every column :math:`v_k` of ``V``, the two convex problems (15)

    .. math::

        \hat u_{k,1} = \operatorname*{argmax}_{Xu\ge0,\|u\|\le1} v_k^\top Xu, \qquad
        \hat u_{k,2} = \operatorname*{argmin}_{Xu\ge0,\|u\|\le1} v_k^\top Xu,

    and selects the neuron with the largest maximum and the one with the smallest minimum
    over :math:`k`.  Since :math:`\|V^\top Xu\|_2\ge|v_k^\top Xu|`, the selected neurons'
    values ``norm1``, ``norm2`` of (50) are lower bounds on its optimum; this is *not* a
    solver for (50).

    Parameters
    ----------
    X : array-like of shape (n, d)
    V : array-like of shape (n, o)
        Dual variable, one column per output.
    warm_start : optional
        A previous :class:`SpikeFreeColumnwise`, or a pair ``(plus, minus)`` of lists of o
        passive sets.
    backend, tol, dep_tol, max_iter, zero_tol, n_threads
        See :func:`spike_free_oracle`; the 2 o projections run on ``n_threads`` threads.

    Returns
    -------
    SpikeFreeColumnwise
    """
    X, backend, tol, dep_tol, mi, zero_tol, n_threads = _check_oracle_args(
        X, backend, tol, dep_tol, max_iter, zero_tol, n_threads
    )
    V = _as_float_array(V, "V")
    if V.ndim == 1:
        V = V[:, None]
    if V.ndim != 2:
        raise ValueError(f"V must be 2-D of shape (n, o), got shape {V.shape}.")
    if V.size == 0:
        raise ValueError(f"V is empty (shape {V.shape}).")
    if V.shape[0] != X.shape[0]:
        raise ValueError(
            f"V has {V.shape[0]} rows but X has {X.shape[0]} samples (shape mismatch)."
        )
    _check_finite(V, "V")
    V = np.ascontiguousarray(V)
    Umax, vmax, Umin, vmin, plus, minus = _oracle_core(
        X, V, backend, warm_start, tol, dep_tol, mi, zero_tol, n_threads
    )
    k1, k2 = int(np.argmax(vmax)), int(np.argmin(vmin))
    u1, u2 = np.array(Umax[k1]), np.array(Umin[k2])
    XtV = X.T @ V
    converged = bool(np.all(plus.converged) and np.all(minus.converged))
    _warn_if_not_converged(converged, "spike_free_oracle_columnwise")
    return SpikeFreeColumnwise(
        U_max=np.ascontiguousarray(np.asarray(Umax).T),
        U_min=np.ascontiguousarray(np.asarray(Umin).T),
        values_max=np.asarray(vmax, dtype=float),
        values_min=np.asarray(vmin, dtype=float),
        k_max=k1,
        k_min=k2,
        u1=u1,
        value1=float(vmax[k1]),
        u2=u2,
        value2=float(vmin[k2]),
        norm1=float(np.linalg.norm(XtV.T @ u1)),
        norm2=float(np.linalg.norm(XtV.T @ u2)),
        plus=plus,
        minus=minus,
        converged=converged,
    )
