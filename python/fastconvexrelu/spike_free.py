r"""Spike-free matrices: the ratio of Lemma 2.3.

A data matrix :math:`A` is *spike-free* if :math:`\mathcal{Q}_A = \{(Au)_+ : \|u\|_2\le1\}`
equals its convex relaxation :math:`A\mathcal{B}_2 \cap \mathbb{R}^n_+` (Section 2.2.1); then
the cutting-plane method with the relaxation (15) is globally optimal (Proposition 3.2).
Lemma 2.3: :math:`A` is spike-free iff every :math:`(Au)_+` with :math:`\|u\|\le1` has a
preimage of norm at most one, i.e.

.. math::

    \rho(A) = \max_{\|u\|_2\le1} \|A^\dagger (Au)_+\|_2 \le 1
    \quad\text{and}\quad (I - AA^\dagger)(Au)_+ = 0\ \ \forall u ,

the second condition being automatic when :math:`A` has full row rank (eq. (7)).  For full
row rank :math:`\rho(A) \ge 1` (take :math:`u \in A^\top\mathbb{R}^n_+`), so spike-free means
:math:`\rho(A) = 1`; diagonal and whitened (:math:`AA^\top = I_n`, Lemma 2.4) matrices have
:math:`\rho = 1`, and :math:`\rho(A) \le \sigma_{\max}(A)/\sigma_{\min}(A)` (proof of Lemma 2.4).

**Exact computation.**  :math:`\|M(Au)_+\|` (``M`` = :math:`A^\dagger`, or
:math:`I - AA^\dagger` for the range condition) is maximized over the unit ball by
enumerating the faces of the hyperplane arrangement :math:`\{a_i^\top u = 0\}` (as in
:mod:`fastconvexrelu.extreme_point`).  On the closure of a face with positive set ``P`` and
span :math:`L`, the objective is the convex quadratic :math:`\|M D_P A u\|^2`.  A global
maximizer lies in the relative interior of some face; take such a face :math:`F` of minimal
dimension.  The maximizer is a local maximum of the Rayleigh quotient of
:math:`G_F = (M D_P A)^\top (M D_P A)` on the sphere of :math:`L_F`, hence a top eigenvector,
and the top eigenvalue is simple (otherwise the eigenspace meets the pointed cone
:math:`\bar F` in a cone of dimension :math:`\ge2`, whose extreme rays are maximizers on a
lower-dimensional face).  So scoring every eigenvector of every face with the *true*
objective yields the exact maximum, together with a maximizer.

**Otherwise** (too many faces) a lower bound is returned: the best of ``n_samples`` random
unit vectors refined by a monotone local ascent (every value is attained at the returned
``u``, so it is a valid lower bound; a value > 1 certifies that ``A`` is *not* spike-free).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._validation import check_nonneg_real, check_X
from .extreme_point import DEFAULT_MAX_FACES, _check_max_faces, _Faces, _TooManyFaces

__all__ = ["SpikeFreeRatio", "spike_free_ratio"]

_METHODS = ("auto", "exact", "sampling")


@dataclass(frozen=True)
class SpikeFreeRatio:
    r"""Result of :func:`spike_free_ratio`.

    Attributes
    ----------
    value : float
        :math:`\max_{\|u\|\le1}\|A^\dagger(Au)_+\|_2` if ``exact``, else the best value found
        (a lower bound, attained at ``u``).
    exact : bool
        Whether ``value`` is the exact maximum (face enumeration).
    method : str
        What was computed.
    u : ndarray of shape (d,)
        A unit vector attaining ``value``.
    lower_bound, upper_bound : float
        Certified bounds on the exact maximum: ``lower_bound = value`` (attained);
        ``upper_bound = value`` when exact, else :math:`\sigma_{\max}/\sigma_{\min}` over the
        nonzero singular values (proof of Lemma 2.4).
    spike_free : bool or None
        ``True``/``False`` when decided with certainty, ``None`` when the lower bound is
        <= 1 but not exact and the upper bound is > 1.
    full_row_rank : bool
        Rank of ``X`` equals its number of rows (then eq. (7) applies).
    range_residual : float or None
        Without full row rank: :math:`\max_{\|u\|\le1}\|(I - AA^\dagger)(Au)_+\|_2` (exact or
        lower bound as ``value``); it must be 0 for a spike-free matrix.  ``None`` otherwise.
    n_faces : int
        Number of faces enumerated (0 for sampling).
    """

    value: float
    exact: bool
    method: str
    u: np.ndarray
    lower_bound: float
    upper_bound: float
    spike_free: Optional[bool]
    full_row_rank: bool
    range_residual: Optional[float]
    n_faces: int


def _relu_norm_values(Z, At, M):
    """||M (At z)_+|| for the rows z of Z."""
    return np.linalg.norm(np.maximum(Z @ At.T, 0.0) @ M.T, axis=1)


def _max_norm_exact(faces, M):
    """Exact max over the unit ball of ||M (At z)_+|| (see module docstring)."""
    At = faces.At
    C = M.T @ M
    best_val, best_z = 0.0, np.zeros(faces.r)
    for Q, R, B, masks in faces.groups:
        k = Q.shape[1]
        W = masks[:, :, None] * B[None, :, :]  # (m, |R|, k) = D_P B
        G = np.einsum("mik,ij,mjl->mkl", W, C[np.ix_(R, R)], W)
        _, vecs = np.linalg.eigh(G)  # columns are eigenvectors
        cand = np.transpose(vecs, (0, 2, 1)).reshape(-1, k) @ Q.T  # (m k, r) unit vectors
        cand = np.concatenate([cand, -cand])
        vals = _relu_norm_values(cand, At, M)
        i = int(np.argmax(vals))
        if vals[i] > best_val:
            best_val, best_z = float(vals[i]), cand[i]
    return best_val, best_z


def _max_norm_sampling(At, M, n_samples, rng, n_refine=20, n_steps=100):
    """Lower bound: random unit vectors + monotone fixed-point ascent on the sphere."""
    r = At.shape[1]
    Z = rng.standard_normal((n_samples, r))
    Z /= np.linalg.norm(Z, axis=1, keepdims=True)
    vals = _relu_norm_values(Z, At, M)
    order = np.argsort(vals)[::-1][:n_refine]
    best_val, best_z = float(vals[order[0]]), Z[order[0]]
    C = M.T @ M
    for i in order:
        z, fz = Z[i], float(vals[i])
        for _ in range(n_steps):
            p = At @ z
            g = At.T @ ((p > 0) * (C @ np.maximum(p, 0.0)))  # half the gradient of ||M(Az)_+||^2
            ng = np.linalg.norm(g)
            if ng == 0:
                break
            z_new = g / ng
            f_new = float(_relu_norm_values(z_new[None], At, M)[0])
            if f_new <= fz * (1 + 1e-15):
                break
            z, fz = z_new, f_new
        if fz > best_val:
            best_val, best_z = fz, z
    return best_val, best_z


def spike_free_ratio(
    X,
    *,
    method="auto",
    max_faces=DEFAULT_MAX_FACES,
    n_samples=20000,
    tol=1e-9,
    random_state=0,
):
    r"""The spike-free ratio :math:`\max_{\|u\|_2\le1}\|A^\dagger(Au)_+\|_2` of Lemma 2.3.

    ``A = X`` (rows are samples).  For a full-row-rank ``A`` (``n <= d``) the matrix is
    spike-free iff the ratio is :math:`\le 1` (eq. (7)); the ratio is then exactly 1 for
    spike-free matrices and larger otherwise.  Without full row rank the range condition
    :math:`(I - AA^\dagger)(Au)_+ = 0` is evaluated too (``range_residual``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    method : {"auto", "exact", "sampling"}, default="auto"
        ``"exact"``: face enumeration (module docstring); ``"sampling"``: certified lower
        bound from random unit vectors and local ascent; ``"auto"``: exact when at most
        ``max_faces`` faces are needed, sampling otherwise.
    max_faces : int, default=200000
        Budget of the enumeration (``method="exact"`` raises ``ValueError`` beyond it).
    n_samples : int, default=20000
        Random unit vectors for ``"sampling"``.
    tol : float, default=1e-9
        Tolerance of the decisions ``ratio <= 1`` and ``range_residual == 0`` (relative).
    random_state : int, numpy Generator or None, default=0
        Seed of the sampling.

    Returns
    -------
    SpikeFreeRatio
        ``value``, ``exact``, ``method``, maximizer ``u``, certified ``lower_bound`` and
        ``upper_bound``, the decision ``spike_free`` (True/False/None = undecided), ...

    Raises
    ------
    ValueError
        Bad ``X`` (NaN/inf, not 2-D, empty) or parameters, or ``method="exact"`` over budget.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconvexrelu import spike_free_ratio
    >>> r = spike_free_ratio(np.diag([1.0, 2.0, 3.0]))
    >>> round(r.value, 12), r.exact, r.spike_free
    (1.0, True, True)
    >>> spike_free_ratio([[1.0, 0.0], [-1.0, 0.2]]).spike_free   # obtuse rows: spikes
    False
    """
    A = check_X(X, name="X")
    n, d = A.shape
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    max_faces = _check_max_faces(max_faces)
    if (
        isinstance(n_samples, (bool, np.bool_))
        or not isinstance(n_samples, numbers.Integral)
        or n_samples < 1
    ):
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}.")
    tol = check_nonneg_real(tol, "tol")
    rng = np.random.default_rng(random_state)

    Ur, s, Vt = np.linalg.svd(A, full_matrices=False)
    rtol = (s[0] if s.size else 0.0) * max(n, d) * np.finfo(float).eps
    r = int(np.sum(s > rtol)) if s.size and s[0] > 0 else 0
    full_row_rank = r == n
    if r == 0:  # Q_A = {0} = A B_2 cap R^n_+
        return SpikeFreeRatio(0.0, True, "exact: X is zero", np.zeros(d), 0.0, 0.0, True,
                              full_row_rank, None if full_row_rank else 0.0, 0)
    Ur, s, V = Ur[:, :r], s[:r], Vt[:r].T
    At = Ur * s  # (n, r): A V, so A u = At z for u = V z
    M_pinv = Ur.T / s[:, None]  # ||A^+ x|| = ||S^-1 U^T x||
    M_range = None if full_row_rank else np.eye(n) - Ur @ Ur.T
    cond = float(s[0] / s[-1])

    exact, n_faces, faces = False, 0, None
    if method in ("auto", "exact"):
        try:
            faces = _Faces(A, max_faces)
        except _TooManyFaces as exc:
            if method == "exact":
                raise ValueError(
                    f"exact enumeration needs more than max_faces={max_faces} faces "
                    f"(about {exc.args[0]}); increase max_faces or use method='sampling'."
                ) from None
    if faces is not None:
        # M acts on R^n (x = A u), so it does not depend on the row-space basis of _Faces
        val, zf = _max_norm_exact(faces, M_pinv)
        u = faces.V @ zf
        exact, n_faces = True, faces.n_faces
        res = None
        if M_range is not None:
            res, _ = _max_norm_exact(faces, M_range)
        how = f"exact: enumeration of {n_faces} faces of the hyperplane arrangement"
    else:
        val, z = _max_norm_sampling(At, M_pinv, n_samples, rng)
        u = V @ z
        res = None
        if M_range is not None:
            res, _ = _max_norm_sampling(At, M_range, n_samples, rng)
        how = (
            f"lower bound: best of {n_samples} random unit vectors refined by local ascent "
            "(not a certificate of spike-freeness)"
        )
        if method == "auto":
            how += f"; exact enumeration exceeds max_faces={max_faces}"
    value = float(np.linalg.norm(M_pinv @ np.maximum(A @ u, 0.0)))
    upper = value if exact else cond
    res_tol = tol * s[0]
    if exact:
        ok_range = True if res is None else res <= res_tol
        spike_free = bool(ok_range and value <= 1 + tol)
    else:
        if value > 1 + tol or (res is not None and res > res_tol):
            spike_free = False
        elif full_row_rank and cond <= 1 + tol:
            spike_free = True
        else:
            spike_free = None
    return SpikeFreeRatio(
        value=value,
        exact=exact,
        method=how,
        u=u,
        lower_bound=value,
        upper_bound=float(upper),
        spike_free=spike_free,
        full_row_rank=full_row_rank,
        range_residual=None if res is None else float(res),
        n_faces=n_faces,
    )
