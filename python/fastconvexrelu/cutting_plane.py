r"""Cutting-plane training of bias-free two-layer ReLU networks (Section 3.5, Algorithm 1).

Problem (bias-free network :math:`f(x) = \sum_j w_j (u_j^\top x)_+`, :math:`\|u_j\|_2 = 1`):

.. math::

    P^* = \min_{m,\,U,\,w}\ L\big((XU)_+ w,\ y\big) + \beta\,\|w\|_1
    \qquad(\beta = 0:\ \min \|w\|_1 \text{ s.t. } (XU)_+ w = y,\ \text{eq. (4)}),

which is :math:`J = L + \beta\sum_j |w_j|\,\|u_j\|` of :func:`network_objective` with
``bias=False``.  Its dual (Theorem 3.1, Theorem 4.1, Theorem 5.1, Theorem 6.1), written with
the multiplier :math:`\lambda` of :math:`z = (XU)_+ w` (so that :math:`\lambda = \nabla L(f)`
at the optimum), is

.. math::

    D^* = \max_\lambda\ -L^*(\lambda)\quad\text{s.t.}\quad
    |\lambda^\top (Xu)_+| \le \beta \quad \forall\,\|u\|_2\le 1 ,\qquad P^* \ge D^*,

with (``beta = 0``: the constraint bound is 1 and the objective is :math:`\lambda^\top y`)

* squared, :math:`L = \tfrac12\|f - y\|^2`: :math:`-L^*(\lambda) = -\tfrac12\|\lambda\|^2 -
  \lambda^\top y`, optimal :math:`\lambda = f - y` (the residual; the paper's
  :math:`v = y - f = -\lambda` gives its form :math:`-\tfrac12\|v - y\|^2 + \tfrac12\|y\|^2`);
* hinge, :math:`L = \sum_i\max(0, 1 - y_i f_i)`: :math:`-L^*(\lambda) = \sum_i a_i` with
  :math:`a = -y\circ\lambda\in[0, 1]^n` (Theorem 5.1 with :math:`v = -\lambda`);
* logistic: :math:`-L^*(\lambda) = \sum_i H(a_i)`, :math:`a = -y\circ\lambda\in[0,1]^n`, binary
  entropy :math:`H(a) = -a\log a - (1-a)\log(1-a)`.

**Algorithm 1.**  Start with no neurons (:math:`\lambda = \nabla L(0)`, i.e. :math:`-y` for
the squared loss).  Each round: (i) the oracle (15) ``spike_free_oracle(X, lambda)`` gives
:math:`\hat u_1 = \operatorname{argmax}_{Xu\ge0,\|u\|\le1}\lambda^\top Xu` and
:math:`\hat u_2 = \operatorname{argmin}`; each whose absolute value exceeds
:math:`\max(\beta, \|\Phi^\top\lambda\|_\infty)(1 + \mathrm{tol})` (:math:`\beta\to1` for
``beta = 0``; the current columns' own value accounts for the finite accuracy of the master) is
added to ``U``; (ii) the master problem over the current activations :math:`\Phi = (XU)_+` is
solved, warm-started (:func:`solve_master`; squared/logistic: coordinate descent + Newton in
C++, ``_core.lasso_master``, to a restricted duality gap of ``master_tol``; hinge and
``beta = 0``: a linear program solved by HiGHS), giving the new :math:`\lambda`
(``beta = 0``: the minimum-norm optimal LP dual, the limit of :math:`\lambda/\beta` as
:math:`\beta\to0`; the LP's own dual vertex is arbitrary and adds useless neurons).  Stop
when no neuron violates the relaxed constraint.  The neurons are never re-optimized, so the
convergence is that of column generation: finite on whitened data (the first neurons are
optimal), asymptotic (a slow tail) in general.  For ``beta = 0`` rounds whose restricted problem
:math:`\Phi w = y` is infeasible use the Farkas direction :math:`r = y - \Phi\Phi^\dagger y`
(:math:`\Phi^\top r = 0`, :math:`r^\top y = \|r\|^2 > 0`) instead of :math:`\lambda`: a neuron
with :math:`r^\top(Xu)_+\ne0` increases the rank of :math:`\Phi`; when none exists
:math:`r\perp\mathcal Q_X` proves that no network interpolates (``ValueError``).

**Certificates (never a false finite gap).**  The oracle checks only the spike-free
relaxation :math:`\max_{Xu\ge0,\|u\|\le1}|\lambda^\top Xu| =: M_{\rm rel}(\lambda)`, a *lower*
bound of :math:`M(\lambda) = \max_{\|u\|\le1}|\lambda^\top(Xu)_+|`.  A certified dual point
:math:`s\lambda` needs an *upper* bound :math:`\bar M\ge M(\lambda)`
(:math:`s\le\beta/\bar M`); it is taken from whichever of these applies:

(a) full row rank (``n <= d``): for any :math:`u`, :math:`z = X^\dagger(Xu)_+` has
    :math:`Xz = (Xu)_+\ge0` and :math:`\|z\|\le\rho(X)\|u\|` with the spike-free ratio
    :math:`\rho(X) = \max_{\|u\|\le1}\|X^\dagger(Xu)_+\|\le\sigma_{\max}/\sigma_{\min}`
    (Lemma 2.3, proof of Lemma 2.4), hence :math:`M\le\rho M_{\rm rel}`.  Whitened data
    (:math:`XX^\top = I`) have :math:`\rho = 1` (Lemma 2.4): the relaxation is exact and the
    gap tight; :math:`\rho` is computed exactly by :func:`spike_free_ratio` for ``n <= 10``,
    else bounded by the condition number (a true but possibly loose gap);
(b) small problems (rank <= 3 and ``n <= 60`` for ``exact_check="auto"``): :math:`M` itself,
    by enumerating the activation patterns (faces of the arrangement
    :math:`\{x_i^\top u = 0\}`; on each, :math:`\lambda^\top(Xu)_+` is linear and is maximized
    over the ball in closed form, as in :func:`extreme_point`);
(c) otherwise nothing: ``duality_gap = inf``; the gap with respect to the relaxed
    constraint is reported separately as ``relaxation_gap`` (it is the true gap when ``X`` is
    spike-free, Proposition 3.2, but that cannot be checked then).

A relative safety margin of 1e-9 (plus an absolute 1e-11 :math:`\sum_i|\lambda_i|\|x_i\|`)
is added to every bound to absorb rounding.  The gap is ``objective - dual_value`` with the
objective recomputed by :func:`network_objective` on the returned network.

With ``oracle="exact"`` (or ``"auto"`` once the relaxation finds no violation) the oracle (14)
itself is solved by the same enumeration, so the method converges to the global optimum on
small problems even when ``X`` is not spike-free.

**Biases (Algorithm 3, supplementary A.3).**  ``cutting_plane(..., bias=True)`` calls
:func:`cutting_plane_bias`: neurons :math:`(u_j, b_j)`, an unpenalized intercept (so the dual
has :math:`\mathbf 1^\top\lambda = 0`), and an oracle that searches activation patterns with
the exact per-pattern oracle of :mod:`fastconvexrelu.arrangement` (sampled patterns, Lemma 2.7
hull neurons, local ascent over adjacent cells; all patterns when the arrangement is small
enough to enumerate); squared, hinge and logistic losses (the logistic master has the
unpenalized intercept of ``_core.lasso_master(..., intercept=True)``).  For the smooth losses
the used neurons are also re-optimized locally between masters (``refine_steps``, a heuristic
for the slow tail that never increases :math:`J` and does not affect the certificate).  Its ``duality_gap`` is finite only when the dual constraint was checked
over all patterns of the enumerated arrangement; otherwise ``inf`` (the heuristic oracle can
stop at a non-optimal network: ``relaxation_gap`` is then relative to the searched patterns
only).
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from dataclasses import dataclass, field
from typing import List

import numpy as np

from . import _core
from ._deadline import expired
from ._objective import _loss_value, network_objective, network_output
from ._validation import ConvergenceWarning, check_nonneg_real, check_X_y, check_bool
from ._solver_arrangements import arrangement_is_small
from .certificates import _make_feasible, certified_gap, dual_objective
from .spike_free_oracle import spike_free_oracle

__all__ = ["CuttingPlaneResult", "MasterResult", "cutting_plane", "cutting_plane_bias", "solve_master"]

_LOSSES = ("squared", "hinge", "logistic")
_ORACLES = ("relaxation", "exact", "auto")
_SAFETY_REL = 1e-9
_SAFETY_ABS = 1e-11
_AUTO_EXACT_MAX_RANK = 3
_AUTO_EXACT_MAX_N = 60
_RATIO_MAX_N = 10


@dataclass(frozen=True)
class CuttingPlaneResult:
    r"""Result of :func:`cutting_plane`.

    Attributes
    ----------
    hidden_weights : ndarray of shape (d, m)
        Unit-norm neurons :math:`u_j` (columns), only those with nonzero output weight;
        neurons sharing an activation pattern and the sign of :math:`w_j` are merged
        (:math:`\sum_j |w_j| u_j`, same outputs, never a larger objective).
    output_weights : ndarray of shape (m,)
    objective : float
        :math:`J` of the returned network (:func:`network_objective`, ``bias=False``).
    dual_coef : ndarray of shape (n,)
        The dual point :math:`s\lambda` (sign convention :math:`\lambda = \nabla L(f)`,
        squared loss: :math:`f - y`).  Globally feasible when ``duality_gap`` is finite,
        else feasible for the relaxed constraint.
    dual_value : float
        :math:`-L^*(s\lambda)` (``beta = 0``: :math:`s\lambda^\top y`) when certified, else
        ``-inf``.
    duality_gap : float
        ``objective - dual_value``: a true upper bound on ``objective`` minus the global
        optimum over networks of any width, or ``inf`` when the dual constraint could not be
        checked.
    relaxation_gap : float
        The same with the relaxed dual constraint (spike-free relaxation (15)); a true gap
        only when ``X`` is spike-free.
    certificate : str
        How the dual constraint was bounded (or why it was not).
    n_iter : int
        Rounds of Algorithm 1 (oracle calls).
    n_neurons_total : int
        Columns of the final master problem.
    converged : bool
        The oracle found no violating neuron (``status == "converged"``).
    status : str
        ``"converged"`` or ``"max_iter"``.
    message : str
    history : list of dict
        Per round: ``round``, ``n_neurons``, ``objective`` (master), ``violation``
        (largest relaxed :math:`|\lambda^\top Xu|` / bound), ``oracle``.
    """

    hidden_weights: np.ndarray
    output_weights: np.ndarray
    objective: float
    dual_coef: np.ndarray
    dual_value: float
    duality_gap: float
    relaxation_gap: float
    certificate: str
    n_iter: int
    n_neurons_total: int
    converged: bool
    status: str
    message: str
    history: List[dict] = field(default_factory=list)

    @property
    def hidden_bias(self) -> np.ndarray:
        return np.zeros(self.output_weights.shape[0])

    def predict(self, X) -> np.ndarray:
        """Network output :math:`(XU)_+ w`."""
        X = np.asarray(X, dtype=float)
        return np.maximum(X @ self.hidden_weights, 0.0) @ self.output_weights


# ---------------------------------------------------------------------------- validation
def _check_int(x, name):
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Integral) or x < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {x!r}.")
    return int(x)


def _check_inputs(X, y, loss, beta, tol, master_tol, max_iter, exact_check, bias):
    """The checks shared by :func:`cutting_plane` and :func:`cutting_plane_bias`; returns
    ``(X, y, beta, tol, master_tol, max_iter)`` normalized (``ValueError`` naming the
    argument otherwise)."""
    if not isinstance(loss, str) or loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}.")
    X, y = check_X_y(X, y)
    beta = check_nonneg_real(beta, "beta")
    tol = check_nonneg_real(tol, "tol")
    master_tol = check_nonneg_real(master_tol, "master_tol")
    max_iter = _check_int(max_iter, "max_iter")
    if not (exact_check is True or exact_check is False or exact_check == "auto"):
        raise ValueError(f"exact_check must be 'auto', True or False, got {exact_check!r}.")
    if loss in ("hinge", "logistic") and not np.all((y == 1.0) | (y == -1.0)):
        raise ValueError(f"loss={loss!r} needs labels y in {{-1, +1}}.")
    if beta == 0:
        if loss == "logistic":
            raise ValueError("beta must be > 0 for the logistic loss (no minimizer otherwise).")
        if bias:
            raise ValueError("beta must be > 0 with bias=True (cutting_plane_bias).")
        if loss == "hinge":
            raise ValueError(
                f"beta = 0 with loss={loss!r} is not available in the cutting-plane solver "
                "(use beta > 0)."
            )
    if bias and loss == "logistic" and np.all(y == y[0]):
        raise ValueError(
            "y: the logistic loss with an intercept (bias=True) needs labels of both classes "
            "(no minimizer otherwise: the intercept diverges)."
        )
    return X, y, beta, tol, master_tol, max_iter


def _scipy_linprog():
    try:
        from scipy.optimize import linprog
    except ImportError as exc:  # pragma: no cover - scipy is a test dependency
        raise ImportError(
            "the cutting-plane method needs SciPy (HiGHS) for the hinge loss and for beta = 0: "
            "pip install scipy"
        ) from exc
    return linprog


# ----------------------------------------------------------------------- dual checking
class _DualBound:
    r"""Upper bounds :math:`\bar M(\lambda)\ge\max_{\|u\|\le1}|\lambda^\top(Xu)_+|` (see module doc)."""

    def __init__(self, X, exact_check, max_faces):
        self.X = X
        n, d = X.shape
        self.row_norms = np.linalg.norm(X, axis=1)
        s = np.linalg.svd(X, compute_uv=False)
        tol = (s[0] if s.size else 0.0) * max(n, d) * np.finfo(float).eps
        rank = int(np.sum(s > tol)) if s.size and s[0] > 0 else 0
        self.rank = rank
        self.rho = None
        self.rho_how = ""
        if rank == n and rank > 0:  # full row rank: M <= rho * M_rel
            self.rho = float(s[0] / s[rank - 1])
            self.rho_how = f"condition number {self.rho:.6g} (full row rank)"
            if np.max(np.abs(X @ X.T - np.eye(n))) <= 1e-12:
                self.rho_how = f"whitened data, X X^T = I (Lemma 2.4), rho = {self.rho:.16g}"
            elif n <= _RATIO_MAX_N:
                from .spike_free import spike_free_ratio

                try:
                    r = spike_free_ratio(X, method="exact", max_faces=max_faces)
                except ValueError:
                    r = None
                if r is not None and r.exact and r.full_row_rank and r.value < self.rho:
                    self.rho = float(max(r.value, 1.0))
                    self.rho_how = f"exact spike-free ratio rho = {self.rho:.12g} (Lemma 2.3)"
        self.faces = None
        if exact_check is not False and rank > 0:
            allowed = exact_check is True or (
                rank <= _AUTO_EXACT_MAX_RANK and n <= _AUTO_EXACT_MAX_N
            )
            if allowed:
                from .extreme_point import _Faces, _TooManyFaces

                try:
                    self.faces = _Faces(X, max_faces)
                except _TooManyFaces as exc:
                    if exact_check is True:
                        raise ValueError(
                            f"exact_check=True: the enumeration of activation patterns needs "
                            f"more than max_faces={max_faces} faces (about {exc.args[0]}); "
                            "increase max_faces or use exact_check='auto'."
                        ) from None

    @property
    def exact_available(self):
        return self.faces is not None

    def exact_max(self, lam):
        """(max, argmax u, min, argmin u) of lam^T (Xu)_+ over the unit ball, by enumeration."""
        F = self.faces
        v1, z1 = F.max_linear(lam)
        v2, z2 = F.max_linear(-lam)
        return v1, F.V @ z1, -v2, F.V @ z2

    def _safe(self, M, lam):
        return M * (1.0 + _SAFETY_REL) + _SAFETY_ABS * float(np.abs(lam) @ self.row_norms)

    def bound(self, lam, M_rel):
        """Certified upper bound on M(lam) (or inf) and a description."""
        if self.rank == 0:
            return 0.0, "X = 0: every neuron is zero"
        best, how = math.inf, (
            "none: X is not of full row rank and the exact pattern enumeration is not "
            "available (set exact_check=True for small problems)"
        )
        if self.rho is not None:
            best, how = self._safe(self.rho * M_rel, lam), "relaxation x " + self.rho_how
        if self.faces is not None:
            v1, _, v2, _ = self.exact_max(lam)
            Mx = self._safe(max(v1, -v2), lam)
            if Mx < best:
                best = Mx
                how = (
                    f"exact enumeration of {self.faces.n_faces} activation patterns "
                    "(faces of the arrangement)"
                )
        return best, how


# --------------------------------------------------------------------------- duals
def _entropy(a):
    a = np.clip(a, 0.0, 1.0)
    out = np.zeros_like(a)
    m = (a > 0) & (a < 1)
    out[m] = -a[m] * np.log(a[m]) - (1 - a[m]) * np.log1p(-a[m])
    return out


def _dual_value(loss, lam, y, beta, M):
    r"""Best dual value over the segment :math:`s\lambda`, :math:`s\ge0`, with
    :math:`|s\lambda^\top(Xu)_+|\le\beta` for all u given :math:`M\ge\max|\lambda^\top(Xu)_+|`.

    Returns (D, s).  ``beta = 0`` (interpolation / hard margin): the constraint bound is 1.
    """
    if not math.isfinite(M):
        return -math.inf, 0.0
    b = beta if beta > 0 else 1.0
    s_max = b / M if M > 0 else math.inf
    if loss == "squared":
        if beta == 0:  # D = s lam^T y; v = 0 (D = 0) is always feasible
            ly = float(lam @ y)
            if ly <= 0 or not math.isfinite(s_max):
                return 0.0, 0.0
            return s_max * ly, s_max
        ll, ly = float(lam @ lam), float(lam @ y)
        s = min(max(-ly / ll, 0.0), s_max) if ll > 0 else 0.0
        return -0.5 * s * s * ll - s * ly, s
    a = -y * lam  # in [0, 1]
    amax = float(np.max(a)) if a.size else 0.0
    if loss == "hinge":
        if beta > 0:
            s = min(1.0, s_max, 1.0 / amax if amax > 0 else math.inf)
        else:  # (not reachable: hinge with beta = 0 is rejected)
            s = s_max
            if not math.isfinite(s):
                return 0.0, 0.0
        return s * float(np.sum(a)), s
    # logistic: maximize sum H(s a) on [0, s_max'] (concave)
    s_hi = min(s_max, 1.0 / amax if amax > 0 else math.inf)

    def dphi(s):
        sa = s * a[a > 0]
        if np.any(sa >= 1):
            return -math.inf
        return float(np.sum(a[a > 0] * (np.log1p(-sa) - np.log(sa))))

    if dphi(s_hi) >= 0:
        s = s_hi
    else:
        lo, hi = 0.0, s_hi
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if dphi(mid) >= 0:
                lo = mid
            else:
                hi = mid
            if hi - lo <= 1e-16 * s_hi:
                break
        s = lo
    return float(np.sum(_entropy(s * a))), s


def _grad(loss, f, y):
    if loss == "squared":
        return f - y
    if loss == "logistic":
        return -y * np.exp(-np.logaddexp(0.0, y * f))  # -y_i / (1 + exp(y_i f_i))
    raise AssertionError(loss)


# --------------------------------------------------------------------------- masters
class _Infeasible(Exception):
    pass


def _lp_interpolate(Phi, y, linprog):
    r"""min ||w||_1 s.t. Phi w = y (HiGHS dual simplex).  Returns (w, lambda) with
    lambda^T y = ||w||_1 and ||Phi^T lambda||_inf <= 1; raises _Infeasible."""
    n, m = Phi.shape
    res = linprog(
        np.ones(2 * m),
        A_eq=np.hstack([Phi, -Phi]),
        b_eq=y,
        bounds=(0, None),
        method="highs-ds",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.status == 2:
        raise _Infeasible(res.message)
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the interpolation LP: {res.message}")
    w = res.x[:m] - res.x[m:]
    lam = np.asarray(res.eqlin.marginals, dtype=float)
    # polish the primal on its support (a basis: independent columns) for exact interpolation
    S = np.flatnonzero(np.abs(w) > 1e-12 * max(1.0, np.max(np.abs(w))))
    if S.size:
        wS, *_ = np.linalg.lstsq(Phi[:, S], y, rcond=None)
        if np.all(np.sign(wS) == np.sign(w[S])) and np.linalg.norm(
            Phi[:, S] @ wS - y
        ) <= np.linalg.norm(Phi @ w - y):
            w = np.zeros(m)
            w[S] = wS
    return w, lam


def _min_norm_dual(Phi, w, lam_lp):
    r"""The minimum-norm optimal dual of min ||w||_1 s.t. Phi w = y.

    The optimal duals are :math:`\{\mu: \Phi_S^\top\mu = \mathrm{sign}(w_S),\
    |\Phi_{S^c}^\top\mu|\le 1\}` (S = support of an optimal w).  The LP's own dual is an
    arbitrary vertex of this (usually large) set; the minimum-norm point is the limit of the
    unique duals :math:`\lambda/\beta` of the squared loss as :math:`\beta\to0` and it
    avoids adding useless neurons (in the whitened case it is globally optimal at once).
    Computed exactly: :math:`\mu = \mu_0 + Nz` with :math:`\mu_0 = (\Phi_S^\top)^\dagger s`,
    N an orthonormal basis of :math:`\ker\Phi_S^\top`, and z the least-distance program
    :math:`\min\|z\|` s.t. :math:`Gz\ge h` solved by NNLS (Lawson & Hanson, Ch. 23).
    Falls back to ``lam_lp`` if anything is inconsistent.
    """
    S = np.flatnonzero(w != 0)
    if S.size == 0:
        return lam_lp
    sgn = np.sign(w[S])
    PS = Phi[:, S]
    Uu, sv, Vt = np.linalg.svd(PS, full_matrices=True)
    rank = int(np.sum(sv > sv[0] * max(PS.shape) * np.finfo(float).eps)) if sv.size else 0
    if rank == 0:
        return lam_lp
    # min-norm solution of PS^T mu = sgn:  PS^T = V S U^T  ->  mu0 = U_r S_r^-1 V_r^T sgn
    mu0 = Uu[:, :rank] @ ((Vt[:rank] @ sgn) / sv[:rank])
    if np.max(np.abs(PS.T @ mu0 - sgn)) > 1e-9:
        return lam_lp
    Sc = np.setdiff1d(np.arange(Phi.shape[1]), S)
    if Sc.size == 0:
        return mu0
    Pc = Phi[:, Sc]
    c0 = Pc.T @ mu0
    if np.max(np.abs(c0)) <= 1.0:
        return mu0
    N = Uu[:, rank:]
    if N.shape[1] == 0:
        return lam_lp
    from scipy.optimize import nnls

    B = Pc.T @ N  # (k, p)
    G = np.vstack([-B, B])
    h = np.concatenate([c0 - 1.0, -1.0 - c0])
    E = np.vstack([G.T, h[None, :]])
    f = np.zeros(E.shape[0])
    f[-1] = 1.0
    u, _ = nnls(E, f, maxiter=50 * E.shape[1] + 1000)
    r = E @ u - f
    if not abs(r[-1]) > 1e-14:
        return lam_lp
    mu = mu0 + N @ (-r[:-1] / r[-1])
    if np.max(np.abs(Phi.T @ mu)) > 1.0 + 1e-9 or np.max(np.abs(PS.T @ mu - sgn)) > 1e-9:
        return lam_lp
    return mu


def _lp_hinge(Phi, y, beta, linprog):
    r"""min sum_i (1 - y_i (Phi w)_i)_+ + beta ||w||_1 (HiGHS).  Returns (w, lambda),
    lambda = -y * mu with mu in [0, 1] the LP multipliers of the margin constraints."""
    n, m = Phi.shape
    YP = y[:, None] * Phi
    c = np.concatenate([np.full(2 * m, beta), np.ones(n)])
    A = np.hstack([-YP, YP, -np.eye(n)])
    res = linprog(
        c,
        A_ub=A,
        b_ub=-np.ones(n),
        bounds=(0, None),
        method="highs-ds",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the hinge master LP: {res.message}")
    w = res.x[:m] - res.x[m : 2 * m]
    mu = np.clip(-np.asarray(res.ineqlin.marginals, dtype=float), 0.0, 1.0)
    return w, -y * mu


@dataclass(frozen=True)
class MasterResult:
    r"""Result of :func:`solve_master` (the restricted problem over fixed neurons).

    ``w`` the output weights, ``dual`` a point :math:`v` with
    :math:`\|\Phi^\top v\|_\infty\le\beta` (1 for ``beta = 0``), ``primal``
    :math:`L(\Phi w, y) + \beta\|w\|_1` (``beta = 0``: :math:`\|w\|_1`), ``dual_value``
    :math:`-L^*(v)` (``beta = 0``: :math:`v^\top y`) and ``gap = primal - dual_value``.
    """

    w: np.ndarray
    dual: np.ndarray
    primal: float
    dual_value: float
    gap: float
    converged: bool
    message: str


def solve_master(Phi, y, *, loss="squared", beta=1e-3, tol=1e-10):
    r"""The master problem of Algorithm 1 on its own: :math:`\min_w L(\Phi w, y) + \beta\|w\|_1`.

    Squared / logistic loss with ``beta > 0``: coordinate descent + Newton in C++
    (``_core.lasso_master``) to the relative restricted gap ``tol``.  Hinge loss: an LP
    (HiGHS).  ``beta = 0`` (squared loss): :math:`\min\|w\|_1` s.t. :math:`\Phi w = y`, an LP
    solved exactly by HiGHS' dual simplex (support polished by least squares), with the
    minimum-norm optimal dual; a ``ValueError`` saying ``infeasible`` when
    :math:`\Phi w = y` has no solution.

    Parameters
    ----------
    Phi : array-like of shape (n, m)
        Activations :math:`(XU)_+` of the current neurons (any real matrix is accepted).
    y : array-like of shape (n,)
    loss : {"squared", "hinge", "logistic"}
    beta : float >= 0
    tol : float

    Returns
    -------
    MasterResult
    """
    if not isinstance(loss, str) or loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}.")
    Phi, y = check_X_y(Phi, y)
    beta = check_nonneg_real(beta, "beta")
    tol = check_nonneg_real(tol, "tol")
    if loss != "squared" and not np.all((y == 1.0) | (y == -1.0)):
        raise ValueError(f"loss={loss!r} needs labels y in {{-1, +1}}.")
    if beta == 0:
        if loss != "squared":
            raise ValueError("solve_master: beta = 0 is available for the squared loss only.")
        try:
            w, lam = _lp_interpolate(Phi, y, _scipy_linprog())
        except _Infeasible:
            raise ValueError(
                "solve_master: beta = 0 and the interpolation problem Phi w = y is infeasible "
                "(y is not in the span of the columns of Phi)."
            ) from None
        lam = _min_norm_dual(Phi, w, lam)
        M = float(np.max(np.abs(Phi.T @ lam))) if Phi.shape[1] else 0.0
        D = float(lam @ y) / M if M > 0 else 0.0
        P = float(np.sum(np.abs(w)))
        return MasterResult(w, lam / M if M > 0 else lam, P, D, max(P - D, 0.0),
                            True, "HiGHS dual simplex")
    if loss == "hinge":
        w, lam = _lp_hinge(Phi, y, beta, _scipy_linprog())
        f = Phi @ w
        P = float(np.sum(np.maximum(0, 1 - y * f)) + beta * np.sum(np.abs(w)))
        M = float(np.max(np.abs(Phi.T @ lam))) if Phi.shape[1] else 0.0
        D, s = _dual_value("hinge", lam, y, beta, M)
        return MasterResult(w, s * lam, P, D, max(P - D, 0.0), True, "HiGHS dual simplex")
    r = _core.lasso_master(np.asfortranarray(Phi), y, loss, beta, tol, 100000)
    return MasterResult(np.asarray(r["w"]), np.asarray(r["dual"]), float(r["primal"]),
                        float(r["dual_value"]), float(r["gap"]), bool(r["converged"]),
                        str(r["message"]))


# --------------------------------------------------------------------------- network
def _merge(X, U, w, pattern_tol=0.0):
    """Drop zero weights; merge neurons with the same activation pattern and sign of w.

    For neurons u_j with one pattern D (x_i^T u_j > 0 exactly on D) and c_j > 0,
    sum_j c_j (X u_j)_+ = (X sum_j c_j u_j)_+ and ||sum_j c_j u_j|| <= sum_j c_j: the merged
    neuron has the same outputs and a cost that is never larger.  ``pattern_tol`` treats
    |x_i^T u| <= pattern_tol ||x_i|| as zero (rounding of the relaxed oracle's tight rows).
    """
    keep = np.flatnonzero(w != 0)
    U, w = U[:, keep], w[keep]
    if w.size == 0:
        return U, w
    P = X @ U > pattern_tol * np.linalg.norm(X, axis=1)[:, None]
    groups = {}
    for j in range(w.size):
        key = (bool(w[j] > 0), P[:, j].tobytes())
        groups.setdefault(key, []).append(j)
    Um, wm = [], []
    for (pos, _), idx in groups.items():
        c = np.abs(w[idx])
        u = U[:, idx] @ c
        nu = float(np.linalg.norm(u))
        if nu == 0:
            continue
        Um.append(u / nu)
        wm.append(nu if pos else -nu)
    if not wm:
        return np.zeros((X.shape[1], 0)), np.zeros(0)
    return np.column_stack(Um), np.asarray(wm)


# ------------------------------------------------------------------------------ main
def cutting_plane(
    X,
    y,
    *,
    loss="squared",
    beta=1e-3,
    tol=1e-8,
    max_iter=200,
    oracle="relaxation",
    exact_check="auto",
    max_faces=200_000,
    master_tol=1e-10,
    verbose=False,
    bias=False,
    n_patterns=256,
    random_state=0,
    refine_steps=300,
):
    r"""Train a two-layer ReLU network by the cutting-plane method (Algorithm 1; Algorithm 3
    with ``bias=True``).

    See the module docstring for the problem, its dual, the algorithm and the certificates.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Targets; labels in {-1, +1} for the hinge and logistic losses.
    loss : {"squared", "hinge", "logistic"}, default="squared"
    beta : float, default=1e-3
        Regularization (>= 0).  ``beta = 0`` is minimum-norm interpolation (squared loss only;
        hinge with ``beta = 0`` and logistic with ``beta = 0`` raise ``ValueError``).
    tol : float, default=1e-8
        A neuron violates the dual constraint when its (relaxed or exact) value exceeds
        :math:`\beta(1 + \mathrm{tol})` (``beta = 0``: :math:`1 + \mathrm{tol}`).
    max_iter : int, default=200
        Maximum number of rounds.
    oracle : {"relaxation", "exact", "auto"}, default="relaxation"
        ``"relaxation"``: the spike-free relaxation (15) (Algorithm 1 of the paper).
        ``"exact"``: the exact oracle (14) by enumeration of activation patterns (small
        problems only, see ``exact_check``).  ``"auto"``: the relaxation, then the exact
        oracle once the relaxation finds no violation and the enumeration is available.
    exact_check : {"auto", True, False}, default="auto"
        Whether the enumeration of activation patterns may be used (certificate (b) and the
        exact oracle): ``"auto"`` when the rank of ``X`` is <= 3 and ``n <= 60``; ``True``
        whenever it fits in ``max_faces`` (``ValueError`` otherwise); ``False`` never.
    max_faces : int, default=200000
        Budget of the enumeration.
    master_tol : float, default=1e-10
        Relative restricted duality gap of the master problems.
    verbose : bool, default=False
        Print one line per round.
    bias : bool, default=False
        ``True``: Algorithm 3 (supplementary A.3), neurons :math:`(u_j, b_j)` and an
        unpenalized intercept, solved by :func:`cutting_plane_bias` (see there; squared,
        hinge and logistic losses, ``beta > 0``; ``oracle`` and ``max_faces`` are then not used, the
        enumeration budget is ``exact_check``).
    n_patterns, random_state
        ``bias=True`` only: size and seed of the sampled pattern pool of the oracle.
    refine_steps : int, default=300
        ``bias=True`` only: local re-optimization steps of the used neurons per round (see
        :func:`cutting_plane_bias`; 0 disables).

    Returns
    -------
    CuttingPlaneResult

    Raises
    ------
    ValueError
        Invalid input (NaN/inf, shapes, labels, parameters); ``beta = 0`` when no network
        interpolates the data (the message says ``infeasible``, and whether infeasibility
        is proven); ``oracle="exact"`` when the enumeration is not available.
    """
    bias = check_bool(bias, "bias")
    if bias:
        return cutting_plane_bias(
            X, y, loss=loss, beta=beta, tol=tol, max_iter=max_iter, exact_check=exact_check,
            master_tol=master_tol, n_patterns=n_patterns, random_state=random_state,
            verbose=verbose, refine_steps=refine_steps,
        )
    X, y, beta, tol, master_tol, max_iter = _check_inputs(
        X, y, loss, beta, tol, master_tol, max_iter, exact_check, bias=False)
    max_faces = _check_int(max_faces, "max_faces")
    if not isinstance(oracle, str) or oracle not in _ORACLES:
        raise ValueError(f"oracle must be one of {_ORACLES}, got {oracle!r}.")
    if oracle == "exact" and exact_check is False:
        raise ValueError("oracle='exact' needs the pattern enumeration (exact_check must not be False).")

    n, d = X.shape
    checker = _DualBound(X, True if oracle == "exact" else exact_check, max_faces)
    if oracle == "exact" and not checker.exact_available:
        raise ValueError("oracle='exact': the pattern enumeration is not available (X = 0?).")
    linprog = _scipy_linprog() if (loss == "hinge" or beta == 0) else None
    bnd = beta if beta > 0 else 1.0
    Phi = np.zeros((n, 0), order="F")

    U = np.zeros((d, 0))
    w = np.zeros(0)
    history = []
    warm = None
    status = "max_iter"
    phase1 = False  # beta = 0: restricted interpolation infeasible
    M_rel = math.nan
    f = np.zeros(n)
    if beta > 0:
        lam = _grad(loss, f, y) if loss != "hinge" else -y.copy()
    else:
        lam, phase1 = y.copy(), True  # Farkas direction of the empty model
        if not np.any(y):
            lam, phase1 = np.zeros(n), False
    P_master = math.nan
    rounds = 0
    for it in range(1, max_iter + 1):
        if it > 1 and expired():  # max_time: the network of the last master
            status = "max_time"
            break
        rounds = it
        # ---- oracle
        orc = spike_free_oracle(X, lam, warm_start=warm)
        warm = orc
        v1, v2 = float(orc.value1), float(orc.value2)
        M_rel = max(v1, -v2, 0.0)
        if phase1:
            thresh = 1e-10 * float(np.abs(lam) @ checker.row_norms)
        else:
            # a neuron is new only if it beats the current columns too: the master is solved
            # to a finite accuracy, so max_j |phi_j^T lam| may itself exceed the bound slightly
            thresh = max(bnd, float(np.max(np.abs(Phi.T @ lam))) if U.shape[1] else 0.0)
            thresh *= 1.0 + tol
        new = [u for u, val in ((orc.u1, v1), (orc.u2, -v2)) if val > thresh]
        used = "relaxation"
        if oracle == "exact" or (oracle == "auto" and not new and checker.exact_available):
            e1, eu1, e2, eu2 = checker.exact_max(lam)
            used = "exact"
            new = [u for u, val in ((eu1, e1), (eu2, -e2)) if val > thresh]
        viol = M_rel / bnd if not phase1 else M_rel
        history.append(
            dict(round=it, n_neurons=U.shape[1], objective=P_master, violation=viol, oracle=used,
                 phase="infeasible" if phase1 else "")
        )
        if verbose:
            print(
                f"[cutting_plane] round {it:3d}  neurons {U.shape[1]:4d}  "
                + (
                    f"restricted interpolation infeasible, |r^T X u| max {M_rel:.3e}"
                    if phase1
                    else f"master objective {P_master:.10g}  relaxed violation {viol:.6f}"
                )
                + f"  oracle={used}  new={len(new)}"
            )
        if not new:
            if phase1:
                _raise_infeasible(checker, lam, M_rel)
            status = "converged"
            break
        U = np.column_stack([U] + [np.asarray(u, float) / np.linalg.norm(u) for u in new])
        w = np.concatenate([w, np.zeros(len(new))])
        # ---- master
        Phi = np.asfortranarray(np.maximum(X @ U, 0.0))
        if beta == 0:
            w_ls, *_ = np.linalg.lstsq(Phi, y, rcond=None)
            r = y - Phi @ w_ls
            phase1 = float(np.linalg.norm(r)) > 1e-9 * float(np.linalg.norm(y))
            if not phase1:
                try:
                    w, lam = _lp_interpolate(Phi, y, linprog)
                    lam = _min_norm_dual(Phi, w, lam)
                    P_master = float(np.sum(np.abs(w)))
                except _Infeasible:
                    phase1 = True
            if phase1:
                lam = r
                if not np.any(r):
                    raise RuntimeError("interpolation LP reported infeasible at a zero residual")
        elif loss == "hinge":
            w, lam = _lp_hinge(Phi, y, beta, linprog)
            P_master = float(np.sum(np.maximum(0, 1 - y * (Phi @ w))) + beta * np.sum(np.abs(w)))
        else:
            r = _core.lasso_master(Phi, y, loss, beta, master_tol, 100000, w)
            w = np.asarray(r["w"])
            lam = np.asarray(r["grad"])
            P_master = float(r["primal"])
            if not r["converged"]:
                warnings.warn(f"cutting_plane: master problem {r['message']}", ConvergenceWarning,
                              stacklevel=2)

    if phase1:  # beta = 0 and still no interpolating network after max_iter rounds
        raise ValueError(
            f"beta = 0: no interpolating network found within max_iter={max_iter} rounds "
            "(restricted interpolation still infeasible); increase max_iter."
        )

    # ---- final network, objective and certificates
    Uf, wf = _merge(X, U, w)
    J = network_objective(X, y, Uf, None, wf, None, beta, loss)
    if U.shape[1]:
        J_raw = network_objective(X, y, U, None, w, None, beta, loss)
        if not J <= J_raw:  # merging never increases J (up to rounding): keep the raw network
            keep = np.flatnonzero(w != 0)
            Uf, wf, J = U[:, keep], w[keep], J_raw
    # final dual direction: from the master of the last round
    if status != "converged":
        orc = spike_free_oracle(X, lam, warm_start=warm)
        M_rel = max(float(orc.value1), -float(orc.value2), 0.0)
    M_rel_safe = checker._safe(M_rel, lam)
    D_rel, s_rel = _dual_value(loss, lam, y, beta, M_rel_safe)
    M_bar, how = checker.bound(lam, M_rel)
    D_cert, s_cert = _dual_value(loss, lam, y, beta, M_bar)
    gap = J - D_cert if math.isfinite(D_cert) else math.inf
    relax_gap = J - D_rel if math.isfinite(D_rel) else math.inf
    if gap < 0:  # rounding only (D_cert <= optimum <= J)
        gap = 0.0
    relax_gap = max(relax_gap, 0.0)
    dual_coef = (s_cert if math.isfinite(D_cert) else s_rel) * lam
    msg = (
        f"{status}: {rounds} rounds, {U.shape[1]} neurons tried, {wf.size} in the network; "
        f"duality gap {gap:.3e} (certificate: {how}); relaxation gap {relax_gap:.3e}"
    )
    if verbose:
        print(f"[cutting_plane] {msg}")
    if status != "converged":
        warnings.warn(f"cutting_plane: {msg}", ConvergenceWarning, stacklevel=2)
    return CuttingPlaneResult(
        hidden_weights=np.ascontiguousarray(Uf),
        output_weights=np.ascontiguousarray(wf),
        objective=float(J),
        dual_coef=np.ascontiguousarray(dual_coef),
        dual_value=float(D_cert) if math.isfinite(D_cert) else -math.inf,
        duality_gap=float(gap),
        relaxation_gap=float(relax_gap),
        certificate=how,
        n_iter=rounds,
        n_neurons_total=int(U.shape[1]),
        converged=status == "converged",
        status=status,
        message=msg,
        history=history,
    )


def _raise_infeasible(checker, r, M_rel):
    """beta = 0, restricted interpolation infeasible and the oracle finds no new direction."""
    proven = None
    if checker.exact_available:
        e1, _, e2, _ = checker.exact_max(r)
        tiny = 1e-9 * float(np.abs(r) @ checker.row_norms)
        if max(e1, -e2) <= tiny:
            proven = "exact enumeration of the activation patterns"
        else:
            raise ValueError(
                "beta = 0: the spike-free relaxation (oracle='relaxation') cannot find an "
                "interpolating network: X is not spike-free and the relaxed oracle finds no "
                "neuron that reduces the interpolation residual, although such neurons exist "
                "(exact enumeration); the problem is not shown infeasible. Use oracle='auto' "
                "or oracle='exact'."
            )
    if proven is None and checker.rho is not None:
        proven = "full-row-rank bound"  # M <= rho * M_rel = 0
    if proven is not None:
        raise ValueError(
            "beta = 0: the interpolation problem is infeasible: no two-layer ReLU network "
            "without biases satisfies f(X) = y (proven by "
            + proven
            + ": the residual r of y on the span of the found neurons is orthogonal to "
            "(X u)_+ for every u, while r^T y > 0). Use beta > 0."
        )
    raise ValueError(
        "beta = 0: no interpolating network found: the spike-free relaxation finds no neuron "
        "that reduces the interpolation residual, and X cannot be checked (not of full row "
        "rank, pattern enumeration not enabled), so the problem is not shown infeasible. Try "
        "oracle='auto' with exact_check=True on small problems, or beta > 0."
    )


# =============================================================================================
# Algorithm 3: cutting plane with biases (supplementary A.3)
# =============================================================================================
# exact_check="auto": enumerate the arrangement when the general-position bound on the number
# of patterns (cell_count_bound of the distinct rows of [X, 1]) is at most this (enumeration + one exact oracle pass stay
# well under a second: n = 60, d = 2 gives 3541 patterns in 0.02 s, oracle pass ~0.1 s; see
# bench/RESULTS.md)
_BIAS_AUTO_MAX_PATTERNS = 5000
_ASCENT_STARTS = 8
_ASCENT_STEPS = 10
_NEW_PER_ROUND = 10
# master sweeps cap (nearly collinear columns can make coordinate descent crawl; an inexact
# master only slows the column generation, the certificate never depends on it)
_BIAS_MASTER_EPOCHS = 3000
_SCREEN = 200  # pool patterns passed to the exact oracle per round (after screening)
_DROP_AFTER = 3  # rounds a neuron may keep a zero output weight before it is dropped
_BIAS_EXACT_ROUNDS_MAX = 1000  # patterns: exact oracle in every round up to this count


@dataclass(frozen=True)
class CuttingPlaneBiasResult:
    r"""Result of :func:`cutting_plane_bias` (Algorithm 3).

    Same fields as :class:`CuttingPlaneResult` (``history`` entries also have ``time``, the
    seconds since the start of the call, and ``master_converged``), plus ``hidden_bias`` (m,), ``intercept`` and
    ``n_patterns`` (number of activation patterns when the arrangement was enumerated, else
    0).  ``duality_gap`` is finite only when the dual constraint was checked exactly over all
    patterns (enumeration); ``relaxation_gap`` is the gap with respect to the patterns the
    oracle searched (a lower bound of the constraint: not a certificate).
    """

    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    intercept: float
    objective: float
    dual_coef: np.ndarray
    dual_value: float
    duality_gap: float
    relaxation_gap: float
    certificate: str
    n_iter: int
    n_neurons_total: int
    n_patterns: int
    converged: bool
    status: str
    message: str
    history: List[dict] = field(default_factory=list)

    def predict(self, X) -> np.ndarray:
        """Network output :math:`(XU + \\mathbf 1 b^\\top)_+ w + c`."""
        X = np.asarray(X, dtype=float)
        return np.maximum(X @ self.hidden_weights + self.hidden_bias, 0.0) @ self.output_weights + self.intercept


def _lp_hinge_bias(Phi, y, beta, linprog):
    r"""min sum_i (1 - y_i ((Phi w)_i + c))_+ + beta ||w||_1, c free (HiGHS).
    Returns (w, c, lambda) with lambda = -y * mu, mu in [0, 1] the margin multipliers
    (1^T lambda = 0: the stationarity of the free intercept)."""
    n, m = Phi.shape
    YP = y[:, None] * Phi
    cost = np.concatenate([np.full(2 * m, beta), np.ones(n), [0.0]])
    A = np.hstack([-YP, YP, -np.eye(n), -y[:, None]])
    res = linprog(
        cost, A_ub=A, b_ub=-np.ones(n),
        bounds=[(0, None)] * (2 * m + n) + [(None, None)],
        method="highs-ds",
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on the hinge master LP: {res.message}")
    w = res.x[:m] - res.x[m: 2 * m]
    mu = np.clip(-np.asarray(res.ineqlin.marginals, dtype=float), 0.0, 1.0)
    return w, float(res.x[-1]), -y * mu


def _center_dual(loss, lam, y):
    r"""A dual point with :math:`\mathbf 1^\top\lambda = 0` (the intercept's constraint) in
    the domain of :math:`L^*`, close to ``lam``: the shift-and-clip of
    :mod:`fastconvexrelu.certificates` (squared: subtract the mean; hinge / logistic:
    :math:`\mathrm{clip}(\lambda - t\mathbf 1)` to the box :math:`-y\circ\lambda\in[0,1]^n`)."""
    out = _make_feasible(loss, lam[:, None], y[:, None], True)
    if out is None:  # (not reachable: 0 is in every box) -- the zero dual point is feasible
        return np.zeros_like(lam)
    return out[:, 0]


def _master_bias(Phi, y, loss, beta, master_tol, w0, c0, linprog):
    """Restricted problem over the current neurons with an unpenalized intercept.

    Squared: the intercept is eliminated exactly by centering (c = mean(y - Phi w)), the
    centered l1 problem is solved by ``_core.lasso_master``.  Logistic: ``_core.lasso_master``
    with its unpenalized intercept (``intercept=True``, warm start ``c0``).  Hinge: one LP.
    Returns ``(w, c, lambda = grad L(Phi w + c), P, converged, message)``."""
    n, m = Phi.shape
    if loss == "logistic":
        r = _core.lasso_master(np.asfortranarray(Phi), y, "logistic", beta, master_tol,
                               _BIAS_MASTER_EPOCHS, w0, intercept=True, c0=float(c0))
        return (np.asarray(r["w"]), float(r["intercept"]), np.asarray(r["grad"]),
                float(r["primal"]), bool(r["converged"]), str(r["message"]))
    if loss == "squared":
        mphi = Phi.mean(axis=0) if m else np.zeros(0)
        my = float(y.mean())
        if m:
            r = _core.lasso_master(np.asfortranarray(Phi - mphi), y - my, "squared", beta,
                                   master_tol, _BIAS_MASTER_EPOCHS, w0)
            w = np.asarray(r["w"])
            ok, msg = bool(r["converged"]), str(r["message"])
        else:
            w, ok, msg = np.zeros(0), True, ""
        c = my - float(mphi @ w) if m else my
        f = Phi @ w + c
        lam = f - y
        P = 0.5 * float(lam @ lam) + beta * float(np.sum(np.abs(w)))
        return w, c, lam, P, ok, msg
    w, c, lam = _lp_hinge_bias(Phi, y, beta, linprog)
    f = Phi @ w + c
    P = float(np.sum(np.maximum(0.0, 1.0 - y * f)) + beta * np.sum(np.abs(w)))
    return w, c, lam, P, True, ""


def _refine_network(X, y, U, B, w, c, loss, beta, steps):
    r"""Local re-optimization of the current neurons (Algorithm 3 tail): ``steps`` monotone
    L-BFGS iterations (Armijo backtracking) on the smooth weight-decay form of the objective

    .. math::

        J_{\mathrm{GD}}(U, b, w, c) = L\big((XU + \mathbf 1b^\top)_+ w + c\big)
        + \tfrac{\beta}{2}\big(\|U\|_F^2 + \|w\|_2^2\big)

    started at the balanced rescaling :math:`(\sqrt{|w_j|}\,(u_j, b_j),\ \mathrm{sign}(w_j)
    \sqrt{|w_j|})` of the unit neurons, where :math:`J_{\mathrm{GD}} = J`; since
    :math:`J\le J_{\mathrm{GD}}` everywhere (Lemma 2.1), the returned unit-norm network has
    ``J_new <= J_GD(final) <= J(start)``.  (ReLU kinks: the subgradient with
    :math:`\mathbf 1[z > 0]`; the monotone line search keeps the decrease.)

    Returns ``(U, B, w, c, J_new)`` (unit columns; zero neurons dropped) or ``None`` when no
    decrease was found.  Squared and logistic losses only.
    """
    n, d = X.shape
    m = w.size
    s = np.sqrt(np.abs(w))
    theta = np.concatenate([(U * s).ravel(), B * s, np.sign(w) * s, [c]])
    iU, iB, iW = d * m, d * m + m, d * m + 2 * m

    def fg(th):
        Uq = th[:iU].reshape(d, m)
        Bq, Wq, cq = th[iU:iB], th[iB:iW], th[iW]
        Z = X @ Uq + Bq
        A = np.maximum(Z, 0.0)
        f = A @ Wq + cq
        val = _loss_value(f, y, loss) + 0.5 * beta * (float(np.sum(Uq * Uq)) + float(Wq @ Wq))
        g = _grad(loss, f, y)
        G = (Z > 0) * g[:, None] * Wq[None, :]
        grad = np.concatenate([(X.T @ G + beta * Uq).ravel(), G.sum(axis=0),
                               A.T @ g + beta * Wq, [g.sum()]])
        return val, grad

    f0, g0 = fg(theta)
    fx, gx, x = f0, g0, theta
    S, Yv = [], []
    for it in range(steps):
        # two-loop recursion (L-BFGS, memory 10)
        q = -gx
        alphas = []
        for s_, y_ in reversed(list(zip(S, Yv))):
            a_ = float(s_ @ q) / float(y_ @ s_)
            alphas.append(a_)
            q = q - a_ * y_
        if S:
            q = q * (float(S[-1] @ Yv[-1]) / float(Yv[-1] @ Yv[-1]))
        else:
            q = q / max(float(np.linalg.norm(gx)), 1e-300)
        for (s_, y_), a_ in zip(zip(S, Yv), reversed(alphas)):
            q = q + (a_ - float(y_ @ q) / float(y_ @ s_)) * s_
        slope = float(gx @ q)
        if not slope < 0:
            q, slope = -gx, -float(gx @ gx)
            if not slope < 0:
                break
        t, ok = 1.0, False
        for _ in range(30):
            xn = x + t * q
            fn, gn = fg(xn)
            if fn <= fx + 1e-4 * t * slope:
                ok = True
                break
            t *= 0.5
        if not ok:
            break
        stalled = fx - fn <= 1e-14 * abs(fx)
        sv, yv = xn - x, gn - gx
        if float(sv @ yv) > 1e-12 * float(np.linalg.norm(sv)) * float(np.linalg.norm(yv)):
            S.append(sv)
            Yv.append(yv)
            if len(S) > 10:
                S.pop(0)
                Yv.pop(0)
        x, fx, gx = xn, fn, gn
        if stalled:
            break
    if not fx < f0:
        return None
    Uq = x[:iU].reshape(d, m)
    Bq, Wq, cq = x[iU:iB], x[iB:iW], float(x[iW])
    nu = np.linalg.norm(Uq, axis=0)
    keep = (nu > 0) & (Wq != 0)
    Un, Bn, Wn = Uq[:, keep] / nu[keep], Bq[keep] / nu[keep], Wq[keep] * nu[keep]
    Jn = network_objective(X, y, Un, Bn, Wn, cq, beta, loss)
    J0 = network_objective(X, y, U, B, w, c, beta, loss)
    if not Jn < J0:
        return None
    return Un, Bn, Wn, cq, Jn


def _pattern_key(col):
    return np.packbits(col).tobytes()


def cutting_plane_bias(
    X,
    y,
    *,
    loss="squared",
    beta=1e-3,
    tol=1e-8,
    max_iter=200,
    exact_check="auto",
    max_patterns=200_000,
    master_tol=1e-10,
    n_patterns=256,
    random_state=0,
    verbose=False,
    refine_steps=300,
):
    r"""Cutting-plane training with biases (Algorithm 3, supplementary A.3).

    Problem: :math:`\min J = L(f) + \beta\sum_j|w_j|\|u_j\|_2` over networks
    :math:`f(x) = \sum_j w_j(u_j^\top x + b_j)_+ + c` of any width (bias and intercept not
    penalized).  Dual (Theorem 4.1 / 6.1 with the intercept):

    .. math::

        D^* = \max_\lambda -L^*(\lambda)\quad\text{s.t.}\quad \mathbf 1^\top\lambda = 0,\quad
        |\lambda^\top(Xu + b\mathbf 1)_+|\le\beta\ \ \forall\,\|u\|_2\le 1,\ b\in\mathbb R.

    The constraint is, pattern by pattern, :math:`\max_{i,s} g_i(s)\le\beta` with the exact
    pattern oracle :math:`g_i(s)` of :func:`fastconvexrelu.arrangement.pattern_oracle`
    (the spike-free relaxation of A.3 is useless here: once :math:`\mathbf 1^\top\lambda = 0`
    its maximizer is the all-active, linear neuron).

    **Algorithm.**  Seed with the Lemma 2.7 hull neurons (:func:`hull_neurons`, as the paper
    did).  Each round: (i) master problem over the current activations
    :math:`\Phi = (XU + \mathbf 1b^\top)_+` with a free intercept (squared: centering +
    ``_core.lasso_master``; logistic: ``_core.lasso_master`` with its unpenalized intercept,
    ``intercept=True``; hinge: one LP), giving :math:`\lambda = \nabla L(f)`, made exactly
    feasible for :math:`\mathbf 1^\top\lambda = 0` and the domain of :math:`L^*` (logistic,
    hinge: :math:`-y\circ\lambda\in[0,1]^n`) by the shift-and-clip of
    :mod:`fastconvexrelu.certificates`; (ii) oracle: the exact pattern oracle over a pool of
    candidate patterns -- all patterns when the arrangement is enumerated and small, else
    ``n_patterns`` sampled patterns (:func:`sample_patterns`), the hull neurons' patterns and
    those found by local ascent: from the best ``8`` candidates, repeatedly flip the rows
    that are tight at the pattern's maximizer to the side that increases
    :math:`s\lambda_i(x_i^\top u + b)` and re-solve (moves to adjacent cells).  When the
    heuristic pool has no violation and the enumeration is available, all patterns are
    checked.  Up to 10 violating neurons :math:`(u, b)` (value above
    :math:`\max(\beta, \|\Phi^\top\lambda\|_\infty)(1 + \mathrm{tol})`) are added per round.
    (iii) Squared / logistic loss with ``refine_steps > 0``, before the oracle: the neurons
    with :math:`w_j\ne0` are re-optimized jointly with :math:`w` and :math:`c` by
    ``refine_steps`` monotone L-BFGS steps on the smooth weight-decay form of :math:`J`
    (Lemma 2.1: never a larger :math:`J`), they replace their originals and the master is
    solved again, so :math:`\lambda` is that of the refined columns.  This is a heuristic for
    the slow tail of column generation (the neurons of Algorithm 3 are otherwise never
    moved); it changes neither the stopping rule (no violating neuron for the master's
    :math:`\lambda`) nor the certificate, which is computed for the returned network.
    Measured (``bench/bench_cutting_plane_bias.py``, squared loss, 2 shared cores): synthetic
    n = 500, d = 20, beta = 0.5: J = 7.33 in 37 s (100 rounds, not converged) without,
    2.58 in 7.1 s with 300 steps (2.63 in 1.1 s with 100); Boston (beta = 0.405): 9.72 in
    15 s -> 6.87 in 8.6 s (7.17 in 2.6 s with 100).

    **Certificate.**  When the arrangement is enumerated (``exact_check``: ``"auto"`` when
    the general-position cell bound of the distinct rows of :math:`[X, \mathbf 1]`
    (:func:`~fastconvexrelu._solver_arrangements.arrangement_is_small`) is at most 5000,
    ``True`` up to ``max_patterns``, ``False`` never), the certificate is
    :func:`fastconvexrelu.certificates.certified_gap` over all patterns: the loss gradient
    at the returned network (hinge: also the master LP's multipliers) made feasible for
    :math:`\mathbf 1^\top\lambda=0` and the domain of :math:`L^*`, then scaled by
    :math:`s\le\beta/M(\lambda)`, :math:`M(\lambda) = \max_{u,b}|\lambda^\top(Xu+b)_+|`
    computed exactly over all patterns (with a relative safety margin), :math:`s` maximizing
    :math:`D(s\lambda)`; ``duality_gap = J - D`` is then a true bound.  Otherwise
    ``duality_gap = inf`` and ``relaxation_gap`` uses the largest value the oracle found (not
    a bound).

    Parameters
    ----------
    X : array-like of shape (n, d)
    y : array-like of shape (n,)
    loss : {"squared", "hinge", "logistic"}
        Hinge and logistic: labels in {-1, +1}; logistic: both classes present (otherwise
        the intercept diverges and there is no minimizer, ``ValueError``).
    beta : float > 0
    tol, max_iter, master_tol, verbose
        As in :func:`cutting_plane`.
    exact_check : {"auto", True, False}
    max_patterns : int
        Enumeration budget for ``exact_check=True``.
    n_patterns : int
        Size of the sampled pattern pool.
    random_state : None, int or numpy.random.Generator
        Seed of the sampled pool (the result is deterministic for a fixed seed).
    refine_steps : int >= 0, default=300
        L-BFGS steps of the per-round local re-optimization (iii); 0: plain Algorithm 3.
        Not used for the hinge loss.

    Returns
    -------
    CuttingPlaneBiasResult
    """
    from .arrangement import enumerate_patterns, pattern_oracle, sample_patterns
    from .hull_neurons import hull_neurons

    X, y, beta, tol, master_tol, max_iter = _check_inputs(
        X, y, loss, beta, tol, master_tol, max_iter, exact_check, bias=True)
    t_start = time.perf_counter()
    max_patterns = _check_int(max_patterns, "max_patterns")
    n_patterns = _check_int(n_patterns, "n_patterns")
    if (isinstance(refine_steps, (bool, np.bool_)) or not isinstance(refine_steps, numbers.Integral)
            or refine_steps < 0):
        raise ValueError(f"refine_steps must be an integer >= 0, got {refine_steps!r}.")
    refine_steps = int(refine_steps)
    n, d = X.shape
    linprog = _scipy_linprog() if loss == "hinge" else None
    row_scale = np.linalg.norm(X, axis=1) + 1.0

    # ---- exact enumeration (oracle of last resort and certificate)
    E = None
    enum_note = "enumeration not attempted (exact_check=False)"
    if exact_check is not False:
        if exact_check is True or arrangement_is_small(X, True, _BIAS_AUTO_MAX_PATTERNS):
            try:
                E = enumerate_patterns(X, bias=True, max_patterns=max_patterns)
            except ValueError as exc:
                if exact_check is True:
                    raise ValueError(f"exact_check=True: {exc}") from None
                enum_note = f"enumeration too large ({exc})"
        else:
            enum_note = (
                "enumeration not attempted: the general-position bound on the number of "
                f"patterns exceeds {_BIAS_AUTO_MAX_PATTERNS} (exact_check='auto'; pass "
                "exact_check=True)"
            )
    exact_rounds = E is not None and E.count <= _BIAS_EXACT_ROUNDS_MAX

    # ---- candidate pool: sampled patterns + hull-neuron patterns
    # each pool entry: a pattern and the activations (X u + b)_+ of a representative neuron,
    # used for screening (cached as the columns of Zc)
    pool, pool_keys = [], set()
    Zc = [np.zeros((n, 0))]

    def add_to_pool(cols, Ur, br):
        new_idx = []
        for j in range(cols.shape[1]):
            col = cols[:, j]
            if not col.any():
                continue
            k = _pattern_key(col)
            if k not in pool_keys:
                pool_keys.add(k)
                pool.append(col)
                new_idx.append(j)
        if new_idx:
            Zc[0] = np.hstack([Zc[0], np.maximum(X @ Ur[:, new_idx] + br[new_idx], 0.0)])

    U = np.zeros((d, 0))
    B = np.zeros(0)
    if n >= 2:
        Uh, bh, dist = hull_neurons(X)
        ok = dist > 0
        U, B = Uh[:, ok], bh[ok]
        add_to_pool(X @ U + B > 0, U, B)
    if not exact_rounds:
        S = sample_patterns(X, n_patterns, bias=True, random_state=random_state)
        add_to_pool(S.patterns, S.hidden_weights, S.hidden_bias)

    def screened_pool(lam_c):
        """The _SCREEN pool patterns whose representative neuron has the largest
        |lam^T (X u + b)_+| (a cheap lower bound of the pattern's value)."""
        if not pool:
            return np.zeros((n, 0), dtype=bool), np.zeros(0, dtype=int)
        score = lam_c @ Zc[0]
        idx = np.argsort(-np.abs(score))[:_SCREEN]
        return np.column_stack([pool[i] for i in idx]), np.where(score[idx] >= 0, 1, -1)

    def oracle_on(pats, lam_c, signs=None):
        return pattern_oracle(X, lam_c, pats, bias=True, signs=signs)

    def local_ascent(res, pats, lam_c):
        """Flip the tight rows of the best candidates to their favourable side."""
        vals = np.where(np.isfinite(res.values), res.values, -np.inf)
        order = np.argsort(-vals.ravel())[:_ASCENT_STARTS]
        best_v = vals.ravel()[order]
        cur = [(int(i // 2), int(i % 2)) for i in order]
        states = [(pats[:, p].copy(), res.hidden_weights[p, c], res.hidden_bias[p, c], c)
                  for p, c in cur]
        found_v, found_u, found_b = [], [], []
        for _ in range(_ASCENT_STEPS):
            newD, meta = [], []
            for t, (D, u, b, c) in enumerate(states):
                s = 1.0 if c == 0 else -1.0
                z = X @ u + b
                tight = np.abs(z) <= 1e-9 * row_scale * (1.0 + abs(b))
                if not tight.any():
                    continue
                D2 = D.copy()
                D2[tight] = s * lam_c[tight] > 0
                if np.array_equal(D2, D) or not D2.any():
                    continue
                newD.append(D2)
                meta.append((t, c))
            if not newD:
                break
            P2 = np.column_stack(newD)
            r2 = oracle_on(P2, lam_c, signs=np.array([1 if c == 0 else -1 for _, c in meta]))
            add_to_pool(P2, np.column_stack([r2.hidden_weights[j, c] for j, (_, c) in enumerate(meta)]),
                        np.array([r2.hidden_bias[j, c] for j, (_, c) in enumerate(meta)]))
            moved = False
            for j, (t, c) in enumerate(meta):
                v = r2.values[j, c]
                if np.isfinite(v) and v > best_v[t] * (1 + 1e-12):
                    best_v[t] = v
                    states[t] = (P2[:, j], r2.hidden_weights[j, c], r2.hidden_bias[j, c], c)
                    found_v.append(v)
                    found_u.append(r2.hidden_weights[j, c])
                    found_b.append(r2.hidden_bias[j, c])
                    moved = True
            if not moved:
                break
        return found_v, found_u, found_b

    def best_neurons(res, thresh):
        vals = np.where(np.isfinite(res.values), res.values, -np.inf)
        flat = np.argsort(-vals.ravel())
        out = []
        for i in flat[: 4 * _NEW_PER_ROUND]:
            p, c = int(i // 2), int(i % 2)
            if vals[p, c] > thresh and len(out) < _NEW_PER_ROUND:
                out.append((float(vals[p, c]), res.hidden_weights[p, c], float(res.hidden_bias[p, c])))
        return out

    history = []
    status = "max_iter"
    w = np.zeros(U.shape[1])
    c = 0.0
    zero_age = np.zeros(U.shape[1], dtype=int)
    rounds = 0
    n_tried = U.shape[1]
    M_found = math.nan
    lam_c = None
    for it in range(1, max_iter + 1):
        if it > 1 and expired():  # max_time: the network of the last master
            status = "max_time"
            break
        rounds = it
        Phi = np.maximum(X @ U + B, 0.0)
        w, c, lam, P_master, ok, msg = _master_bias(Phi, y, loss, beta, master_tol,
                                                     np.zeros(U.shape[1]) if w.size != U.shape[1] else w,
                                                     c, linprog)
        lam_c = _center_dual(loss, lam, y)
        # column dropping: neurons unused for _DROP_AFTER masters leave the master
        zero_age = np.where(w == 0, zero_age + 1, 0)
        keep_cols = zero_age < _DROP_AFTER
        if not np.all(keep_cols):
            U, B, w, zero_age, Phi = (U[:, keep_cols], B[keep_cols], w[keep_cols],
                                      zero_age[keep_cols], Phi[:, keep_cols])
        if refine_steps and loss != "hinge" and np.any(w != 0):
            # local re-optimization of the used neurons (u_j, b_j, w_j, c) on J, then the
            # master again over the refined columns (never a larger J: see _refine_network)
            act = w != 0
            out = _refine_network(X, y, U[:, act], B[act], w[act], c, loss, beta, refine_steps)
            if out is not None:
                Ur, Br, wr, cr, _ = out
                U = np.column_stack([U[:, ~act], Ur])
                B = np.concatenate([B[~act], Br])
                zero_age = np.concatenate([zero_age[~act], np.zeros(wr.size, dtype=int)])
                Phi = np.maximum(X @ U + B, 0.0)
                w, c, lam, P_master, ok, msg = _master_bias(
                    Phi, y, loss, beta, master_tol, np.concatenate([np.zeros(int(np.sum(~act))), wr]),
                    cr, linprog)
                lam_c = _center_dual(loss, lam, y)
        thresh = max(beta, float(np.max(np.abs(Phi.T @ lam_c))) if U.shape[1] else 0.0)
        thresh *= 1.0 + tol
        # ---- oracle
        used = "exact (all patterns)" if exact_rounds else "pool + local ascent"
        if exact_rounds:
            res = oracle_on(E.patterns, lam_c)
            new = best_neurons(res, thresh)
            M_found = float(np.max(res.values)) if res.values.size else 0.0
        else:
            pats, sg = screened_pool(lam_c)
            res = oracle_on(pats, lam_c, signs=sg)
            new = best_neurons(res, thresh)
            fv, fu, fb = local_ascent(res, pats, lam_c) if pats.shape[1] else ([], [], [])
            cand = new + [(v, u, b) for v, u, b in zip(fv, fu, fb) if v > thresh]
            cand.sort(key=lambda t: -t[0])
            new = cand[:_NEW_PER_ROUND]
            M_found = max([float(np.nanmax(res.values)) if res.values.size else 0.0] + fv)
            if not new and E is not None:
                used = "exact (all patterns, heuristics found none)"
                res = oracle_on(E.patterns, lam_c)
                new = best_neurons(res, thresh)
                M_found = float(np.max(res.values))
        history.append(dict(round=it, n_neurons=U.shape[1], objective=P_master,
                            violation=M_found / beta, oracle=used, master_converged=ok,
                            time=time.perf_counter() - t_start))
        if verbose:
            print(f"[cutting_plane_bias] round {it:3d}  neurons {U.shape[1]:4d}  master "
                  f"{P_master:.10g}  max |lam^T (Xu+b)_+|/beta {M_found / beta:.6f}  "
                  f"oracle={used}  new={len(new)}")
        if not new:
            status = "converged"
            break
        U = np.column_stack([U] + [u for _, u, _ in new])
        B = np.concatenate([B, [b for _, _, b in new]])
        w = np.concatenate([w, np.zeros(len(new))])
        zero_age = np.concatenate([zero_age, np.zeros(len(new), dtype=int)])
        n_tried += len(new)
    if status != "converged":  # the last round added neurons: re-solve the master
        Phi = np.maximum(X @ U + B, 0.0)
        w, c, lam, P_master, ok, msg = _master_bias(Phi, y, loss, beta, master_tol, w, c, linprog)
        lam_c = _center_dual(loss, lam, y)

    # ---- network and objective
    keep = np.flatnonzero(w != 0)
    Uf, Bf, wf = U[:, keep], B[keep], w[keep]
    J = network_objective(X, y, Uf, Bf, wf, c, beta, loss)

    # ---- certificates
    safe = lambda M: M * (1.0 + _SAFETY_REL) + _SAFETY_ABS * float(np.abs(lam_c) @ row_scale)
    if status != "converged" and not exact_rounds:
        pats, _ = screened_pool(lam_c)
        r_ = oracle_on(pats, lam_c)
        M_found = float(np.nanmax(r_.values)) if r_.values.size else 0.0
    D_rel, s_rel = _dual_value(loss, lam_c, y, beta, safe(M_found))
    relax_gap = max(J - D_rel, 0.0) if math.isfinite(D_rel) else math.inf
    D_cert, G_cert, gap = -math.inf, None, math.inf
    how = "none: " + enum_note
    if E is not None:
        # certified_gap: the gradient of the loss at the network's outputs made feasible
        # (shift-and-clip into 1^T lambda = 0 and the domain of L^*), plus the master's own
        # dual for the hinge loss (its LP multipliers; the loss has no gradient), each scaled
        # into the exact constraint over all patterns (golden section on D(s lambda))
        F = network_output(X, Uf, Bf, wf, c)
        gap_, G_ = certified_gap(X, y, F, J, loss=loss, beta=beta, bias=True,
                                 patterns=E.patterns, margin=_SAFETY_REL,
                                 dual_candidates=(lam,) if loss == "hinge" else ())
        if math.isfinite(gap_):
            gap, G_cert = gap_, G_[:, 0]
            D_cert = float(dual_objective(loss, G_cert[:, None], y[:, None]))
            how = f"exact pattern oracle over all {E.count} activation patterns (enumeration)"
        else:
            how = ("none: the exact pattern oracle did not converge on every pattern (or no "
                   "feasible dual point)")
    dual_coef = G_cert if G_cert is not None else s_rel * lam_c
    msg = (f"{status}: {rounds} rounds, {n_tried} neurons tried, {wf.size} in the network; "
           f"duality gap {gap:.3e} (certificate: {how}); searched-pattern gap {relax_gap:.3e}")
    if verbose:
        print(f"[cutting_plane_bias] {msg}")
    if status != "converged":
        warnings.warn(f"cutting_plane_bias: {msg}", ConvergenceWarning, stacklevel=2)
    return CuttingPlaneBiasResult(
        hidden_weights=np.ascontiguousarray(Uf),
        hidden_bias=np.ascontiguousarray(Bf),
        output_weights=np.ascontiguousarray(wf),
        intercept=float(c),
        objective=float(J),
        dual_coef=np.ascontiguousarray(dual_coef),
        dual_value=float(D_cert) if math.isfinite(D_cert) else -math.inf,
        duality_gap=float(gap),
        relaxation_gap=float(relax_gap),
        certificate=how,
        n_iter=rounds,
        n_neurons_total=int(n_tried),
        n_patterns=int(E.count) if E is not None else 0,
        converged=status == "converged",
        status=status,
        message=msg,
        history=history,
    )
