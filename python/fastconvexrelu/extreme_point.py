r"""Extreme point of the rectified ellipsoid along a direction (Lemma 2.8, Corollary 2.1).

The rectified ellipsoid of a data matrix :math:`A \in \mathbb{R}^{n\times d}` (rows are the
samples) is :math:`\mathcal{Q}_A = \{(Au)_+ : \|u\|_2 \le 1\}` (Section 2.2).  Its extreme
point along :math:`\alpha \in \mathbb{R}^n` (eq. (9), Lemma 2.8) is the neuron

.. math::

    u_\alpha \in \operatorname*{argmax}_{\|u\|_2 \le 1} \alpha^\top (Au)_+
    \qquad\text{(with a bias: } \operatorname*{argmax}_{\|u\|_2\le 1,\ b\in\mathbb{R}}
    \alpha^\top (Au + b\mathbf 1)_+ \text{)},

the subproblem of the cutting-plane method (14) and the "violating neuron" of the dual (12).
It is NP-hard in general (Remark 3.1), but exact for small problems:

**Exact method (enumeration).**  The hyperplanes :math:`\{a_i^\top u = 0\}` cut the unit
ball into finitely many faces (relatively open polyhedral cones :math:`F` with a sign vector
:math:`\sigma\in\{+,0,-\}^n`).  On the closure of a face, :math:`(Au)_+ = D_P A u` with
:math:`P = \{i: \sigma_i = +\}`, so the objective is *linear*.  The maximizer over the ball is
unique (when the value is positive) and lies in the relative interior of some face :math:`F`
spanning the subspace :math:`L_F`; there it is a local maximum of a linear function on the
sphere of :math:`L_F`, hence equal to :math:`\Pi_{L_F} A^\top D_P\alpha / \|\cdot\|`.
Evaluating the true objective at this candidate for every face (and at :math:`u = 0`)
therefore gives the exact maximum.  The faces are enumerated either as all sign vectors
(:math:`3^n` of them, for :math:`n \lesssim 11`) or from the rays of the arrangement
(:math:`O(\binom{n}{r-1} 3^{r-1})` for rank :math:`r`; any :math:`n` when :math:`r \le 2`).
Every candidate is scored with the true objective, so a superset of the faces is harmless.

With a bias, the optimum puts the kink on a sample (Corollary 2.1: :math:`b = -a_k^\top u`),
so the biased problem is the unbiased one for each shifted matrix :math:`A - \mathbf 1 a_k^\top`
(:math:`k = 1..n`); it is unbounded (value :math:`+\infty`, :math:`b\to\infty` with all ReLUs
active) when :math:`\mathbf 1^\top\alpha > 0`.

**Spike-free relaxation (15).**  :math:`\max \alpha^\top A u` s.t. :math:`Au \ge 0`,
:math:`\|u\|_2\le 1`, whose value is :math:`\|\Pi_K(A^\top\alpha)\|_2` for the cone
:math:`K = \{u : Au\ge 0\}`; the projection is computed exactly by non-negative least squares
(Moreau: :math:`\Pi_K(c) = c + A^\top\lambda^*`, :math:`\lambda^* = \arg\min_{\lambda\ge0}
\|c + A^\top\lambda\|_2`).  The returned neuron is feasible, so its value is a *lower bound*
on the true maximum; it is exact when :math:`A` is spike-free (Lemma 2.3).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
from ._validation import _as_1d, _as_float_array, _check_finite, check_X, check_bool

__all__ = ["ExtremePoint", "extreme_point"]

#: default budget on the number of enumerated faces of the arrangement
DEFAULT_MAX_FACES = 200_000

_METHODS = ("auto", "exact", "relaxation")


def _scipy_optimize():
    """``scipy.optimize``, imported lazily so that ``import fastconvexrelu`` needs numpy only."""
    try:
        import scipy.optimize
    except ImportError as exc:  # pragma: no cover - scipy is installed with the test extra
        raise ImportError(
            "this function needs SciPy (NNLS / LP solvers): pip install scipy"
        ) from exc
    return scipy.optimize


class _TooManyFaces(Exception):
    """Raised internally when exact enumeration would exceed the face budget."""


# ----------------------------------------------------------------------------- faces
class _Faces:
    r"""Faces of the central arrangement :math:`\{u: a_i^\top u = 0\}` of the rows of ``A``.

    Everything is expressed in an orthonormal basis of the row space of ``A``
    (``u = V z``, ``A u = At z``, ``||u|| = ||z||``; directions orthogonal to the row space
    never change ``(Au)_+``).  ``groups`` is a list of ``(Q, R, B, masks)``: ``Q`` (r, k) an
    orthonormal basis of the subspace :math:`L_Z` of a zero set ``Z``, ``R`` the indices not
    in ``Z``, ``B = At[R] @ Q`` and ``masks`` (m, |R|) booleans, one per face: the rows that
    are positive (the others in ``R`` negative).
    """

    def __init__(self, A, max_faces=DEFAULT_MAX_FACES):
        A = np.asarray(A, dtype=np.float64)
        n, d = A.shape
        self.n, self.d = n, d
        if A.size and np.any(A):
            _, s, Vt = np.linalg.svd(A, full_matrices=False)
            tol = s[0] * max(n, d) * np.finfo(float).eps
            r = int(np.sum(s > tol))
            self.scale = float(s[0])
        else:
            Vt, r, self.scale = np.zeros((0, d)), 0, 0.0
        self.r = r
        self.V = Vt[:r].T.copy()  # (d, r)
        self.At = A @ self.V  # (n, r)
        self._vanish_tol = 1e-10 * max(self.scale, np.finfo(float).tiny)
        self.groups = []
        self.n_faces = 0
        if r == 0:
            return
        brute = sum(math.comb(n, j) * 2 ** (n - j) for j in range(r))
        rays = 2 * math.comb(n, r - 1) * 3 ** (r - 1)
        if min(brute, rays) > max_faces:
            raise _TooManyFaces(min(brute, rays))
        if brute <= rays:
            self._build_brute(max_faces)
        else:
            self._build_from_rays(max_faces)

    # -- helpers
    def _null_basis(self, T):
        """Orthonormal basis (r, k) of {z : At[T] z = 0} and the closure of T."""
        r = self.r
        if len(T) == 0:
            Q = np.eye(r)
        else:
            M = self.At[list(T)]
            _, s, Vt = np.linalg.svd(M, full_matrices=True)
            rank = int(np.sum(s > 1e-10 * max(self.scale, np.finfo(float).tiny)))
            Q = Vt[rank:].T
        if Q.shape[1] == 0:
            return Q, None
        Z = np.flatnonzero(np.max(np.abs(self.At @ Q), axis=1) <= self._vanish_tol)
        return Q, Z

    def _add_group(self, Q, Z, masks):
        R = np.setdiff1d(np.arange(self.n), Z)
        B = self.At[R] @ Q
        masks = np.asarray(masks, dtype=bool).reshape(-1, R.size)
        self.groups.append((Q, R, B, masks))
        self.n_faces += masks.shape[0]

    def _build_brute(self, max_faces):
        """All sign vectors: every zero set (closure of a subset of size < r) x all splits."""
        seen = set()
        for j in range(self.r):
            for T in itertools.combinations(range(self.n), j):
                Q, Z = self._null_basis(T)
                if Z is None:
                    continue
                key = Z.tobytes()
                if key in seen:
                    continue
                seen.add(key)
                m = self.n - Z.size
                if self.n_faces + 2**m > max_faces:
                    raise _TooManyFaces(self.n_faces + 2**m)
                masks = (np.arange(2**m)[:, None] >> np.arange(m)[None, :]) & 1
                self._add_group(Q, Z, masks)

    def _build_from_rays(self, max_faces):
        """Every face of dimension >= 1 has a ray of the arrangement in its closure and
        agrees with it on the rows that do not vanish there: enumerate rays, then all sign
        choices on the rows vanishing at the ray."""
        faces = {}  # zero set bytes -> (Q, Z, set of mask bytes)
        seen_lines = set()
        count = 0
        for T in itertools.combinations(range(self.n), self.r - 1):
            Q, Zr = self._null_basis(T)
            if Zr is None or Q.shape[1] != 1:
                continue
            key = Zr.tobytes()
            if key in seen_lines:
                continue
            seen_lines.add(key)
            rho = Q[:, 0]
            s_rho = self.At @ rho
            for sgn in (1.0, -1.0):
                pos_outside = (sgn * s_rho) > 0  # rows not vanishing at the ray
                for choice in itertools.product((1, 0, -1), repeat=Zr.size):
                    choice = np.asarray(choice, dtype=int)
                    Zsub = Zr[choice == 0]
                    pos = pos_outside.copy()
                    pos[Zr] = False
                    pos[Zr[choice == 1]] = True
                    zkey = Zsub.tobytes()
                    if zkey not in faces:
                        Qz, Zc = self._null_basis(tuple(Zsub))
                        if Zc is None:
                            continue
                        faces[zkey] = (Qz, Zc, set())
                    Qz, Zc, mset = faces[zkey]
                    R = np.setdiff1d(np.arange(self.n), Zc)
                    mb = pos[R].tobytes()
                    if mb not in mset:
                        mset.add(mb)
                        count += 1
                        if count > max_faces:
                            raise _TooManyFaces(count)
        merged = {}
        for Qz, Zc, mset in faces.values():
            k = Zc.tobytes()
            if k in merged:
                merged[k][2].update(mset)
            else:
                merged[k] = (Qz, Zc, set(mset))
        for Qz, Zc, mset in merged.values():
            R_size = self.n - Zc.size
            masks = np.array([np.frombuffer(mb, dtype=bool) for mb in mset]).reshape(-1, R_size)
            self._add_group(Qz, Zc, masks)

    # -- objectives
    def max_linear(self, alpha):
        r"""Exact :math:`\max_{\|z\|\le 1} \alpha^\top (A_t z)_+`; returns (value, z)."""
        alpha = np.asarray(alpha, dtype=np.float64)
        best_val, best_z = 0.0, np.zeros(self.r)
        for Q, R, B, masks in self.groups:
            c = (masks * alpha[R]) @ B  # (m, k): B^T D_P alpha in L-coordinates
            nrm = np.linalg.norm(c, axis=1)
            keep = nrm > 0
            if not np.any(keep):
                continue
            Z = (c[keep] / nrm[keep, None]) @ Q.T  # (m', r) unit candidates
            vals = np.maximum(Z @ self.At.T, 0.0) @ alpha
            i = int(np.argmax(vals))
            if vals[i] > best_val:
                best_val, best_z = float(vals[i]), Z[i]
        return best_val, best_z


# ------------------------------------------------------------------------ relaxation
def _cone_projection_value(G, c):
    r"""Value and maximizer of :math:`\max\{c^\top u : Gu \ge 0, \|u\|\le 1\}`.

    Equals :math:`\|\Pi_K(c)\|` for :math:`K = \{Gu\ge0\}`, with
    :math:`\Pi_K(c) = c + G^\top\lambda^*` and :math:`\lambda^*` from NNLS.
    """
    if G.shape[0] == 0:
        p = c
    else:
        lam, _ = _scipy_optimize().nnls(-G.T, c, maxiter=max(50 * G.shape[0], 1000))
        p = c + G.T @ lam
    nrm = float(np.linalg.norm(p))
    if nrm <= 1e-14 * max(1.0, float(np.linalg.norm(c))):
        return 0.0, np.zeros_like(c)
    return nrm, p / nrm


# ---------------------------------------------------------------------------- result
@dataclass(frozen=True)
class ExtremePoint:
    r"""Extreme point of :math:`\mathcal{Q}_A` along ``alpha`` (see :func:`extreme_point`).

    Attributes
    ----------
    u : ndarray of shape (d,)
        The neuron, :math:`\|u\|_2 = 1` (or ``0`` when the maximum is 0 and only ``u = 0``
        attains it).
    b : float
        Its bias (0 without bias).
    value : float
        :math:`\alpha^\top (Au + b\mathbf 1)_+` evaluated at the returned neuron.
    active : ndarray of bool, shape (n,)
        Activation pattern :math:`S = \{i : a_i^\top u + b > 0\}`.
    exact : bool
        True if ``value`` is the exact maximum over the unit ball (enumeration); False for
        the spike-free relaxation, whose ``value`` is only a lower bound.
    method : str
        How it was computed.
    kink_sample : int or None
        With a bias: the sample ``k`` with :math:`b = -a_k^\top u` (Corollary 2.1).
    """

    u: np.ndarray
    b: float
    value: float
    active: np.ndarray
    exact: bool
    method: str
    kink_sample: Optional[int] = None


def _check_alpha(alpha, n):
    a = _as_1d(alpha, "alpha")
    a = _as_float_array(a, "alpha")
    _check_finite(a, "alpha")
    if a.shape[0] != n:
        raise ValueError(
            f"alpha must have one entry per sample (row of X): expected {n}, got {a.shape[0]}."
        )
    return a


def _check_max_faces(max_faces):
    if (
        isinstance(max_faces, (bool, np.bool_))
        or not isinstance(max_faces, (int, np.integer))
        or max_faces < 1
    ):
        raise ValueError(f"max_faces must be an integer >= 1, got {max_faces!r}.")
    return int(max_faces)


def _exact_nobias(A, alpha, max_faces):
    faces = _Faces(A, max_faces)
    val, z = faces.max_linear(alpha)
    return val, faces.V @ z, faces.n_faces


def extreme_point(X, alpha, *, bias=False, method="auto", max_faces=DEFAULT_MAX_FACES):
    r"""Extreme point of the rectified ellipsoid :math:`\mathcal{Q}_A` along ``alpha``.

    Solves (Lemma 2.8, eq. (9) and (14))

    .. math::

        \max_{\|u\|_2\le 1} \alpha^\top (Au)_+ \quad\text{or, with } ``bias=True``,\quad
        \max_{\|u\|_2\le 1,\ b\in\mathbb R} \alpha^\top (Au + b\mathbf 1)_+ ,

    where ``A = X`` (rows are samples).  By Corollary 2.1 the optimal neuron is a
    normalized combination :math:`\sum_{i\in S}\alpha_i(a_i - a_k)` with the kink
    :math:`b = -a_k^\top u` on a sample.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Data matrix ``A``.
    alpha : array-like of shape (n_samples,)
        Direction in :math:`\mathbb{R}^n` (typically a dual vector ``v``).
    bias : bool, default=False
        Also optimize an (unconstrained) bias ``b``.  The problem is then unbounded if
        :math:`\mathbf 1^\top\alpha > 0` (a ``ValueError`` is raised).
    method : {"auto", "exact", "relaxation"}, default="auto"
        ``"exact"``: enumerate the faces of the hyperplane arrangement (see the module
        docstring; exact up to rounding).  ``"relaxation"``: the spike-free relaxation (15),
        solved exactly by NNLS; its neuron is feasible, so ``value`` is a lower bound (exact
        when ``X`` is spike-free).  ``"auto"``: exact when the enumeration needs at most
        ``max_faces`` faces (per shifted matrix with a bias), else the relaxation.
    max_faces : int, default=200000
        Budget of the enumeration.  ``method="exact"`` raises ``ValueError`` when exceeded.

    Returns
    -------
    ExtremePoint
        ``u``, ``b``, ``value``, ``active``, ``exact`` and a ``method`` string saying what
        was computed.

    Raises
    ------
    ValueError
        Bad ``X``/``alpha`` (NaN/inf, wrong shape, empty), unknown ``method``, an unbounded
        biased problem, or ``method="exact"`` over the face budget.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconvexrelu import extreme_point
    >>> ep = extreme_point(np.eye(2), [1.0, 1.0])
    >>> round(ep.value, 12), ep.exact
    (1.414213562373, True)
    """
    A = check_X(X, name="X")
    n, d = A.shape
    alpha = _check_alpha(alpha, n)
    bias = check_bool(bias, "bias")
    if not isinstance(method, str) or method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}.")
    max_faces = _check_max_faces(max_faces)

    if bias:
        s = float(np.sum(alpha))
        if s > 1e-12 * max(1.0, float(np.sum(np.abs(alpha)))):
            raise ValueError(
                "alpha sums to a positive number (1^T alpha = %.3g > 0): with a free bias the "
                "maximum is +inf (all ReLUs active, b -> +inf). Use bias=False or a direction "
                "with 1^T alpha <= 0 (a dual vector of the biased problem has 1^T v = 0)." % s
            )
        shifts = [A - A[k] for k in range(n)]
    else:
        shifts = [A]

    best = None  # (value, u, k)
    exact = False
    how = None
    if method in ("auto", "exact"):
        try:
            n_faces = 0
            for k, Ak in enumerate(shifts):
                val, u, nf = _exact_nobias(Ak, alpha, max_faces)
                n_faces += nf
                if best is None or val > best[0]:
                    best = (val, u, k)
            exact = True
            how = (
                f"exact: enumeration of {n_faces} faces of the hyperplane arrangement"
                + (f" of the {n} shifted matrices A - 1 a_k^T (Corollary 2.1)" if bias else "")
            )
        except _TooManyFaces as exc:
            if method == "exact":
                raise ValueError(
                    f"exact enumeration needs more than max_faces={max_faces} faces "
                    f"(about {exc.args[0]}); increase max_faces or use method='relaxation'."
                ) from None
            best = None
    if best is None:
        for k, Ak in enumerate(shifts):
            val, u = _cone_projection_value(Ak, Ak.T @ alpha)
            if best is None or val > best[0]:
                best = (val, u, k)
        how = (
            "spike-free relaxation (15): max alpha^T A u s.t. A u >= 0, ||u|| <= 1 "
            "(solved exactly by NNLS); value is a lower bound on the true maximum"
        )
        if method == "auto":
            how += f" (exact enumeration exceeds max_faces={max_faces})"

    _, u, k = best
    b = float(-A[k] @ u) if bias else 0.0
    pre = A @ u + b
    value = float(np.maximum(pre, 0.0) @ alpha)
    return ExtremePoint(
        u=u,
        b=b,
        value=value,
        active=pre > 0,
        exact=exact,
        method=how,
        kink_sample=(k if bias else None),
    )
