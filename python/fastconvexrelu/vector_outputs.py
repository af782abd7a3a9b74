r"""Vector outputs with the weight-decay penalty (supplementary A.7, Lemma 1, (48)-(50)).

Network :math:`F = \sum_j (Xu_j + b_j\mathbf 1)_+ w_j^\top + \mathbf 1 c^\top`
(:math:`w_j, c \in \mathbb R^o`; :math:`b_j = 0`, :math:`c = 0` without a bias) and objective

.. math::

    J = L(F, Y) + \beta \sum_j \|u_j\|_2 \|w_j\|_2 ,

the squared weight decay :math:`\tfrac\beta2\sum_j(\|u_j\|^2 + \|w_j\|^2)` after the rescaling
of Lemma 1. With :math:`\|u_j\| = 1` this is a group lasso over the (infinite) dictionary of
ReLU features, (48); its dual (49) is

.. math::

    \max_G\ -L^*(G)\quad\text{s.t.}\quad \rho(G) = \sup_{\|u\|\le 1, b}
    \|G^\top (Xu + b\mathbf 1)_+\|_2 \le \beta ,\qquad \mathbf 1^\top G = 0\ (\text{intercept}).

:func:`fit_weight_decay` is a column-generation (cutting-plane) method on this pair:

* **master** (:func:`group_lasso_master`): the group lasso over the current neurons
  :math:`\Phi_j = (Xu_j + b_j)_+`, :math:`\min_{W, c} L(\Phi W + \mathbf 1c^\top, Y) +
  \beta\sum_j\|w_j\|_2`, by block coordinate descent in C++ (``_core.group_lasso``), warm
  started, with the exact duality gap of this restricted problem;
* **oracle** (50), relaxed as in (15) to the activation-pattern cones: for
  :math:`G = \nabla L(F)` (made dual-domain feasible with :math:`\mathbf 1^\top G = 0`),
  neurons maximizing :math:`\|G^\top(Xu + b)_+\|_2`, from the branch and bound over output
  directions :math:`a` of :func:`fastconvexrelu.certificates.weight_decay_dual_norm` (the
  exact scalar pattern oracle applied to :math:`Ga`) over all patterns when the arrangement
  is small, else over sampled ones, followed by a local ascent on :math:`(u, b)`; neurons
  with value :math:`> \beta` violate the dual constraint and enter the master;
* **certificate**: with all patterns the same branch and bound gives a true upper bound on
  :math:`\rho(G)`, so :func:`fastconvexrelu.certificates.certified_gap`
  (``penalty="weight_decay"``) reports a finite ``duality_gap`` that bounds :math:`J - J^\star`
  over networks of any width; with sampled patterns ``duality_gap = inf`` and
  ``relaxation_gap`` is the gap against the neurons the oracle could find.

For one-dimensional data (A.7.1, Corollary 1, Theorem 1) the pattern cones are intervals and
the optimum uses only the breakpoint neurons :math:`u = \pm1`, :math:`b = -u a_i`.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from . import _core
from ._deadline import expired
from ._losses import loss_gradient
from ._validation import ConvergenceWarning, check_bool

__all__ = ["MasterResult", "WeightDecayFit", "group_lasso_master", "fit_weight_decay",
           "WEIGHT_DECAY_LOSSES"]

# losses of the weight-decay solver (smooth; "logistic" for one output)
WEIGHT_DECAY_LOSSES = ("squared", "huber", "softmax", "logistic")


class MasterResult(NamedTuple):
    """Result of :func:`group_lasso_master`.

    Attributes
    ----------
    output_weights : ndarray (m, o)
    intercept : ndarray (o,)
    outputs : ndarray (n, o)
        :math:`\\Phi W + \\mathbf 1 c^\\top`.
    objective : float
        :math:`L + \\beta\\sum_j\\|w_j\\|_2`.
    gap : float
        Duality gap of the restricted problem (true bound on its suboptimality).
    dual : ndarray (n, o) or None
        The feasible dual point giving ``gap``.
    kkt : float
        Relative KKT residual.
    n_epochs : int
    converged : bool
    """

    output_weights: np.ndarray
    intercept: np.ndarray
    outputs: np.ndarray
    objective: float
    gap: float
    dual: Any
    kkt: float
    n_epochs: int
    converged: bool


class WeightDecayFit(NamedTuple):
    """Result of :func:`fit_weight_decay` (fields as the other solvers' results)."""

    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    intercept: np.ndarray
    objective: float
    duality_gap: float
    relaxation_gap: float
    restricted_gap: float
    dual_coef: Any
    n_iter: int
    converged: bool
    message: str
    n_patterns: int
    patterns_exact: bool
    history_gap: list


def _relu_features(X, U, b):
    return np.asfortranarray(np.maximum(X @ U + b, 0.0))


def group_lasso_master(Phi, Y, *, loss="squared", beta, intercept=True, huber_delta=1.0,
                       tol=1e-10, max_epochs=20000, W0=None, c0=None, method="bcd",
                       sample_weight=None):
    r"""Group lasso over fixed features (the master of (48)):

    .. math::

        \min_{W, c}\ L(\Phi W + \mathbf 1 c^\top, Y) + \beta \sum_j \|w_j\|_2

    (:math:`c = 0` when ``intercept=False``), by block coordinate descent in C++ with
    active-set sweeps and Newton steps on the active blocks, stopped at relative KKT residual
    ``tol`` (``method="bcd"``), or by accelerated proximal gradient (``method="fista"``: FISTA
    with backtracking and function-value restarts, two matrix products per iteration, stopped
    when the duality gap below is at most ``tol * max(1, objective)``), which scales to many
    neurons and samples where the Newton steps (a dense system of order
    :math:`|S| o`) do not.

    The reported ``gap`` is exact for this restricted problem: :math:`G = \nabla L(F)` is
    moved into the domain of :math:`L^*` with :math:`\mathbf 1^\top G = 0`, scaled by
    :math:`s \le \beta / \max_j\|\Phi_j^\top G\|_2` and ``gap = objective - max_s (-L^*(sG))``.

    Parameters
    ----------
    Phi : ndarray (n, m)
    Y : ndarray (n, o)
        Targets as the loss sees them (one-hot rows for ``"softmax"``).
    loss : {"squared", "huber", "softmax", "logistic"}
    beta : float > 0
    intercept : bool, default=True
    huber_delta : float, default=1.0
    tol : float, default=1e-10
    max_epochs : int, default=20000
    W0 : ndarray (m, o), optional
    c0 : ndarray (o,), optional
        Warm start.
    method : {"bcd", "fista"}, default="bcd"
    sample_weight : ndarray (n,), optional
        Row weights :math:`s_i \ge 0` of the loss, :math:`L = \sum_i s_i\ell(F_i, Y_i)`
        (``method="fista"`` only).

    Returns
    -------
    MasterResult
    """

    Phi = np.asfortranarray(Phi, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    W0 = np.zeros((0, 0)) if W0 is None else np.asfortranarray(W0, dtype=np.float64)
    c0 = np.zeros(0) if c0 is None else np.asarray(c0, dtype=np.float64)
    if sample_weight is not None:
        sample_weight = np.ascontiguousarray(sample_weight, dtype=np.float64)
    if method == "fista":
        return _group_lasso_fista(Phi, Y, loss, float(beta), bool(intercept), float(huber_delta),
                                  float(tol), int(max_epochs), W0, c0, sample_weight)
    if method != "bcd":
        raise ValueError(f"method must be 'bcd' or 'fista', got {method!r}.")
    if sample_weight is not None:
        raise ValueError("sample_weight needs method='fista' (the block coordinate descent "
                         "master is unweighted).")
    r = _core.group_lasso(Phi, Y, loss, float(beta), bool(intercept), float(tol),
                          int(max_epochs), float(huber_delta), W0, c0)
    W = np.asarray(r["W"]).reshape(Phi.shape[1], Y.shape[1])
    J = float(r["primal"])
    gap, dual = _master_gap(Phi, Y, r["grad"], J, loss, beta, intercept, huber_delta)
    return MasterResult(W, np.asarray(r["c"]), np.asarray(r["F"]), J, float(gap), dual,
                        float(r["kkt"]), int(r["n_epochs"]), bool(r["converged"]))


def _master_gap(Phi, Y, grad, J, loss, beta, intercept, huber_delta, sample_weight=None):
    """The restricted problem's duality gap (see group_lasso_master) from the loss gradient
    ``grad`` at the outputs (rows scaled by the sample weights), and the dual point."""
    from .certificates import _make_feasible, scaled_dual_gap

    G = _make_feasible(loss, grad, Y, intercept, huber_delta, sample_weight)
    if G is None or not np.all(np.isfinite(G)):
        return math.inf, None
    rho = float(np.max(np.linalg.norm(Phi.T @ G, axis=1))) if Phi.shape[1] else 0.0
    return scaled_dual_gap(loss, G, Y, rho * (1.0 + 1e-12), beta, J, huber_delta, sample_weight)


#: n * m from which the FISTA master iterates on float32 features (when tol >= 1e-4)
_FLOAT32_ENTRIES = 2_000_000


def _group_lasso_fista(Phi, Y, loss, beta, intercept, huber_delta, tol, max_iter, W0, c0,
                       sample_weight=None):
    r"""FISTA on the group lasso master (C++ ``_core.group_lasso_fista``): gradient step on
    :math:`L`, group soft-thresholding :math:`w_j \leftarrow (1 - \tfrac{\beta/L}{\|w_j\|})_+ w_j`
    (the prox of :math:`\tfrac\beta L\sum_j\|w_j\|`), unpenalized intercept; step :math:`1/L`
    by backtracking on the quadratic upper bound (L may also shrink by 10% per step), momentum
    restarted whenever the objective goes up.  The outputs of the extrapolated point are
    extrapolated too, so an iteration costs one product with :math:`\Phi` and one with
    :math:`\Phi^\top` (row blocks in parallel threads); the duality gap is checked here every
    25 iterations.

    With an intercept the iterations run on the centred features :math:`\Phi - \mathbf 1
    \mu^\top` (:math:`\mu` the (weighted) column means; intercept :math:`c + W^\top\mu`),
    the same problem in better-conditioned coordinates: the ReLU features' common mean no
    longer dominates the Lipschitz constant (digits, 512 neurons: restricted gap 0.35 instead
    of 6.7 after 300 iterations).  The dual is unchanged (:math:`\mathbf 1^\top G = 0`, so
    :math:`(\Phi - \mathbf 1\mu^\top)^\top G = \Phi^\top G`) and so is the gap."""
    from .hull_neurons import _check_n_jobs

    n, m = Phi.shape
    o = Y.shape[1]
    mu = None
    if intercept and m:
        mu = (np.average(Phi, axis=0, weights=sample_weight) if sample_weight is not None
              else Phi.mean(axis=0))
        Phi = np.asfortranarray(Phi - mu)
    state = {}
    if W0.shape == (m, o):
        state["W"] = W0
    if intercept and c0.shape == (o,):
        state["c"] = c0 if (mu is None or W0.shape != (m, o)) else c0 + W0.T @ mu
    nt = _check_n_jobs(None)
    sw = np.zeros(0) if sample_weight is None else sample_weight

    def gap_at(state):
        F = np.asarray(state["F"])
        return _master_gap(Phi, Y, loss_gradient(F, Y, loss, huber_delta, sample_weight),
                           float(state["objective"]), loss, beta, intercept, huber_delta,
                           sample_weight)

    # large masters at tol >= 1e-4 iterate on float32 features (the products are memory
    # bound: ~1.6x faster per iteration at n = 60 000, m = 512); the returned W, c are then
    # re-evaluated in float64, so objective, gap and converged are those of the result
    Phi_it = Phi
    if n * m >= _FLOAT32_ENTRIES and tol >= 1e-4 and max_iter > 0:
        Phi_it = np.asfortranarray(Phi, dtype=np.float32)
    gap, dual, it, converged = math.inf, None, 0, False
    while it < max_iter:
        k = min(25, max_iter - it)
        state = _core.group_lasso_fista(Phi_it, Y, loss, beta, bool(intercept), int(k),
                                        huber_delta=huber_delta, n_threads=nt, state=state,
                                        sample_weight=sw)
        it += k
        gap, dual = gap_at(state)
        if gap <= tol * max(1.0, abs(float(state["objective"]))):
            converged = True
            break
        if expired():  # max_time: the current iterate (not converged)
            break
    if Phi_it is not Phi and "F" in state:  # the float64 values of the float32 iterate
        state = {"W": state["W"], "c": state["c"]} if intercept else {"W": state["W"]}
    if "F" not in state:  # max_iter = 0: the start itself
        state = _core.group_lasso_fista(Phi, Y, loss, beta, bool(intercept), 0,
                                        huber_delta=huber_delta, n_threads=nt, state=state,
                                        sample_weight=sw)
        gap, dual = gap_at(state)
        converged = gap <= tol * max(1.0, abs(float(state["objective"])))
    J = float(state["objective"])
    W = np.asarray(state["W"])
    c = np.asarray(state["c"]) if intercept else np.zeros(o)
    if mu is not None:
        c = c - W.T @ mu  # back to the uncentred features
    return MasterResult(W, c, np.asarray(state["F"]), J, float(gap), dual,
                        math.nan, int(it), bool(converged))


def _ascend_best(X, G, cu, cb, cv, bias):
    """Local ascent from the three best candidate neurons; improved neurons are added and the
    candidates re-sorted by value (best first)."""
    extra_u, extra_b, extra_v = [], [], []
    for k in range(min(3, cu.shape[1])):
        u2, b2, v2 = _local_ascent(X, G, cu[:, k].copy(), float(cb[k]), bias)
        if v2 > cv[k] * (1.0 + 1e-9):
            extra_u.append(u2)
            extra_b.append(b2)
            extra_v.append(v2)
    if extra_u:
        cu = np.hstack([np.array(extra_u).T, cu])
        cb = np.concatenate([extra_b, cb])
        cv = np.concatenate([extra_v, cv])
        order = np.argsort(-cv)
        cu, cb, cv = cu[:, order], cb[order], cv[order]
    return cu, cb, cv


def _local_ascent(X, G, u, b, bias, iters=40):
    r"""Heuristic ascent of :math:`\|G^\top(Xu + b)_+\|_2^2` over :math:`\|u\| = 1` (and
    :math:`b`): gradient steps with backtracking, renormalizing :math:`(u, b)` by
    :math:`\|u\|`. Only used to FIND neurons (the value is recomputed exactly)."""

    def val(u, b):
        return float(np.sum((G.T @ np.maximum(X @ u + b, 0.0)) ** 2))

    f = val(u, b)
    step = 1.0 / max(1e-12, float(np.linalg.norm(G, 2) * (np.linalg.norm(X, 2) + 1.0)) ** 2)
    for _ in range(iters):
        z = X @ u + b
        act = z > 0
        r = (G @ (G.T @ np.maximum(z, 0.0))) * act
        gu, gb = 2.0 * (X.T @ r), 2.0 * float(np.sum(r)) if bias else 0.0
        gu = gu - (gu @ u) * u  # tangent to the sphere
        improved = False
        for _ in range(20):
            u2, b2 = u + step * gu, b + step * gb
            nu = float(np.linalg.norm(u2))
            if nu == 0:
                step *= 0.5
                continue
            u2, b2 = u2 / nu, b2 / nu
            f2 = val(u2, b2)
            if f2 > f * (1.0 + 1e-12):
                u, b, f, improved = u2, b2, f2, True
                step *= 2.0
                break
            step *= 0.5
        if not improved:
            break
    return u, b, math.sqrt(f)


def fit_weight_decay(X, Y, *, loss="squared", beta, bias=True, tol=1e-8, max_iter=100,
                     n_patterns=None, random_state=None, huber_delta=1.0, verbose=False,
                     max_new=None, oracle_evals=60, certificate_evals=1000, n_seeds=0,
                     oracle="auto"):
    r"""Train a vector-output ReLU network with the weight-decay penalty (A.7, Lemma 1);
    see the module docstring for the method.

    .. math::

        \min\ L\Big(\sum_j (Xu_j + b_j\mathbf 1)_+ w_j^\top + \mathbf 1 c^\top, Y\Big)
        + \beta\sum_j\|u_j\|_2\|w_j\|_2 .

    Parameters
    ----------
    X : ndarray (n, d)
    Y : ndarray (n, o)
        Targets as the loss sees them (one-hot rows for ``"softmax"``).
    loss : {"squared", "huber", "softmax", "logistic"}
        ``"logistic"`` needs one column of +-1 labels.
    beta : float > 0
    bias : bool, default=True
        Free hidden biases and output intercept (else both 0).
    tol : float, default=1e-8
        Relative tolerance: stop when the oracle finds no neuron with
        :math:`\|G^\top\phi\| > \beta(1 + tol)`; ``converged`` needs the final gap (certified
        with all patterns, else the relaxation gap) at most ``tol * max(1, J)``.
    max_iter : int, default=100
        Column-generation rounds.
    n_patterns, random_state
        Patterns of the oracle: all when the arrangement is small (``n_patterns=None``:
        at most ~1000 cells), else ``n_patterns`` (default 200) sampled ones, see
        :func:`fastconvexrelu._solver_arrangements.choose_patterns`.
    huber_delta : float, default=1.0
    verbose : bool, default=False
    max_new : int or None, default=None
        Neurons added per round at most (None: 8 with the pattern oracle, 64 with the ascent).
    oracle_evals, certificate_evals : int
        Oracle passes of the branch and bound in each round / for the final certificate.
    n_seeds : int >= 0, default=0
        Start the column generation from the neurons of the best of ``n_seeds`` cheap
        non-convex fits (:func:`fastconvexrelu.fit_nonconvex_seeds`, width 200, 250 Adam +
        250 L-BFGS steps, in parallel), polished by local descent
        (:func:`fastconvexrelu.nonconvex_seed.refine_network`); the first master is then the
        group-lasso combination of those neurons.  Off by default: measured (n = 500, d = 10,
        o = 3, beta = 1, sampled patterns) the start reaches J = 34.83 in 0.7 s where 100
        column-generation rounds from scratch reach 37.0, but the following masters over its
        ~200 neurons take ~15 s per round (block coordinate descent on many correlated
        groups), so it is opt-in until the master scales.

    Returns
    -------
    WeightDecayFit
        ``duality_gap`` finite only with all patterns (a true bound on :math:`J - J^\star`);
        ``relaxation_gap`` is the gap against the best neuron found (not certified);
        ``restricted_gap`` the master's gap over the final neurons.
    """
    from ._objective import network_objective
    from ._solver_arrangements import choose_patterns
    from .certificates import _make_feasible, certified_gap, scaled_dual_gap

    from ._losses import check_targets
    from ._validation import _is_real, check_X_Y

    if not isinstance(loss, str) or loss not in WEIGHT_DECAY_LOSSES:
        raise ValueError(
            f"loss must be one of {WEIGHT_DECAY_LOSSES} for the weight-decay penalty, got {loss!r}."
        )
    if not _is_real(beta) or not np.isfinite(beta) or not beta > 0:
        raise ValueError(f"beta must be a finite number > 0 for the weight-decay solver, got {beta!r}.")
    if not _is_real(tol) or not (0 <= tol < 1):
        raise ValueError(f"tol must be a real number in [0, 1), got {tol!r}.")
    if isinstance(max_iter, (bool, np.bool_)) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}.")
    bias = check_bool(bias, "bias")
    X, Y = check_X_Y(X, Y)
    Y = check_targets(Y, loss, "Y")
    n, d = X.shape
    o = Y.shape[1]
    if not isinstance(oracle, str) or oracle not in ("auto", "patterns", "ascent"):
        raise ValueError(f"oracle must be 'auto', 'patterns' or 'ascent', got {oracle!r}.")
    if max_new is not None and (isinstance(max_new, (bool, np.bool_))
                                or not isinstance(max_new, (int, np.integer)) or max_new < 1):
        raise ValueError(f"max_new must be None or an integer >= 1, got {max_new!r}.")
    pats = choose_patterns(X, bias, n_patterns, random_state)
    if oracle == "auto":
        oracle = "patterns" if (pats.exact or d <= 50) else "ascent"
    if max_new is None:
        max_new = 8 if oracle == "patterns" else 64
    if verbose:
        print(
            f"[weight_decay] column generation, {pats.count} "
            f"{'enumerated (all)' if pats.exact else 'sampled'} patterns, n={n} d={d} o={o} "
            f"loss={loss} beta={beta:g} oracle={oracle}"
        )
    U = np.zeros((d, 0))
    b = np.zeros(0)
    W = np.zeros((0, o))
    rng = np.random.default_rng(0 if random_state is None else random_state)
    c = None
    if isinstance(n_seeds, (bool, np.bool_)) or not isinstance(n_seeds, (int, np.integer)) or n_seeds < 0:
        raise ValueError(f"n_seeds must be None or an integer >= 0, got {n_seeds!r}.")
    if n_seeds > 0:
        U, b, W, c = _seeded_start(X, Y, loss, beta, bias, huber_delta, int(n_seeds), rng, verbose)
    history = []
    relax_gap = math.inf
    found_violation = True
    timed_out = False
    ms = None
    it = 0
    thresh = beta * (1.0 + max(tol, 1e-9))
    # the master is solved loosely while the oracle still finds large violations
    # (the first-order master of the ascent oracle's many neurons: tolerances on its relative
    # gap, at most 200 iterations per round while the oracle finds large violations, 2000
    # once it is re-solved accurately)
    fista = oracle == "ascent"
    Xf = X.astype(np.float32) if fista else None  # the ascent's working copy, made once
    master_tol, final_master_tol = (1e-3, max(0.1 * tol, 1e-7)) if fista else (1e-6, min(1e-9, tol))
    for it in range(1, max_iter + 1):
        if it > 1 and expired():  # max_time: the network of the last master
            timed_out = True
            break
        ms = group_lasso_master(_relu_features(X, U, b), Y, loss=loss, beta=beta,
                                intercept=bias, huber_delta=huber_delta,
                                tol=master_tol, W0=W, c0=c, method="fista" if fista else "bcd",
                                max_epochs=(200 if master_tol > final_master_tol else 2000)
                                if fista else 20000)
        W, c = ms.output_weights, ms.intercept
        G = _make_feasible(loss, loss_gradient(ms.outputs, Y, loss, huber_delta), Y, bias, huber_delta)
        if G is None:
            found_violation = False
            break
        dn = None
        if oracle == "ascent":
            cu, cb, cv = _oracle_ascent(X, Xf, G, U, b, bias, rng,
                                        min(n, max(64, 4 * max_new)))
        elif pats.exact:
            cu, cb, cv, dn = _oracle(X, G, pats.patterns, bias, 1e-4, oracle_evals)
        else:
            cu, cb, cv = _oracle_sampled(X, G, pats, bias, U, b, rng)
        if (cv[0] if cv.size else 0.0) <= 1.01 * beta and master_tol > final_master_tol:
            # near the end: re-solve the master accurately before trusting the oracle
            master_tol = final_master_tol
            continue
        if dn is not None and not (cv.size and cv[0] > thresh) and dn.upper > thresh:
            # nothing found by the cheap pass but not excluded: the full branch and bound
            cu, cb, cv, dn = _oracle(X, G, pats.patterns, bias, 0.1 * tol, certificate_evals,
                                     floor=beta, stop_above=beta * (1.0 + 10.0 * tol))
        best = float(cv[0]) if cv.size else 0.0
        # gap against the best neuron found (a certificate only if that were the maximum)
        rho_m = float(np.max(np.linalg.norm(_relu_features(X, U, b).T @ G, axis=1))) if U.shape[1] else 0.0
        relax_gap, _ = scaled_dual_gap(loss, G, Y, max(best, rho_m), beta, ms.objective,
                                       huber_delta)
        history.append(relax_gap)
        if verbose:
            print(
                f"  round {it:3d}  neurons={int(np.count_nonzero(np.any(W != 0, axis=1))):4d}  "
                f"J={ms.objective:.10g}  master_gap={ms.gap:.2e} ({ms.n_epochs} ep, kkt {ms.kkt:.1e})  oracle={best / beta:.6f} beta  "
                f"relaxation_gap={relax_gap:.3e}"
            )
        add = [k for k in range(cv.size) if cv[k] > thresh]
        if not add:
            found_violation = False
            break
        # keep the active neurons and the new ones (distinct (u, b))
        keep = np.any(W != 0, axis=1)
        U, b, W = U[:, keep], b[keep], W[keep]
        newU, newb = [], []
        for k in add:
            cand = np.append(cu[:, k], cb[k])
            dup = any(np.max(np.abs(cand - np.append(U[:, j], b[j]))) <= 1e-10
                      for j in range(U.shape[1]))
            dup = dup or any(np.max(np.abs(cand - np.append(x, y))) <= 1e-10
                             for x, y in zip(newU, newb))
            if not dup:
                newU.append(cu[:, k])
                newb.append(cb[k])
            if len(newU) >= max_new:
                break
        if not newU:
            found_violation = False
            break
        U = np.hstack([U, np.array(newU).T])
        b = np.concatenate([b, newb])
        W = np.vstack([W, np.zeros((len(newU), o))])
    # final network: drop the inactive neurons
    keep = np.any(W != 0, axis=1)
    U, b, W = U[:, keep], b[keep], W[keep]
    if not bias:
        b = np.zeros(U.shape[1])
    c_out = np.asarray(c if (c is not None and bias) else np.zeros(o), dtype=np.float64)
    J = network_objective(X, Y, U, b, W, c_out, beta, loss, huber_delta=huber_delta,
                          penalty="l2")
    restricted = float(ms.gap) if ms is not None else math.inf
    gap, dual = math.inf, None
    if pats.exact:
        F = ms.outputs
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gap, dual = certified_gap(
                X, Y, F, J, loss=loss, beta=beta, bias=bias, patterns=pats.patterns,
                huber_delta=huber_delta, dual_candidates=[] if ms.dual is None else [ms.dual],
                penalty="weight_decay", rel_tol=0.1 * tol, max_evals=certificate_evals,
            )
    scale = max(1.0, abs(J))
    final = gap if pats.exact else relax_gap
    converged = (not found_violation) and final <= tol * scale
    if found_violation:
        message = ("time limit (max_time) reached" if timed_out else
                   f"max_iter={max_iter} rounds reached") + " with violated dual constraints"
    elif not converged:
        message = f"gap {final:.3e} above tol * max(1, J) = {tol * scale:.3e}"
    else:
        message = "converged"
    return WeightDecayFit(
        hidden_weights=U, hidden_bias=b, output_weights=W, intercept=c_out, objective=float(J),
        duality_gap=float(gap), relaxation_gap=float(relax_gap), restricted_gap=restricted,
        dual_coef=dual if dual is not None else (None if ms is None else ms.dual),
        n_iter=int(it), converged=bool(converged), message=message,
        n_patterns=int(pats.count), patterns_exact=bool(pats.exact), history_gap=history,
    )


def _seeded_start(X, Y, loss, beta, bias, huber_delta, n_seeds, rng, verbose):
    """Unit neurons (U, b), output weights W and intercept c of a seeded start: the best of
    ``n_seeds`` non-convex fits, polished by local descent (never increases J).  (The union of
    all fits' neurons is not combined here, unlike the scalar route: the group-lasso master's
    Newton steps on supports of ~10^3 neurons x o outputs are too slow.)"""
    import time

    from .nonconvex_seed import fit_nonconvex_seeds, refine_network

    t0 = time.perf_counter()
    o = Y.shape[1]
    Yf = Y[:, 0] if o == 1 else Y  # one output: the scalar problem (same penalty)
    fits = fit_nonconvex_seeds(X, Yf, beta=beta, loss=loss, n_seeds=n_seeds, max_iter=250,
                               adam_iter=250, bias=bias, random_state=rng, huber_delta=huber_delta)
    best = fits[0]
    if best.hidden_weights.shape[1]:
        best = refine_network(X, Yf, best.hidden_weights, best.hidden_bias, best.output_weights,
                              best.intercept, beta=beta, loss=loss, bias=bias,
                              huber_delta=huber_delta, max_iter=500)
    nr = np.linalg.norm(best.hidden_weights, axis=0)
    U, b = best.hidden_weights / nr, best.hidden_bias / nr
    W = best.output_weights.reshape(len(nr), o) * nr[:, None]
    c = np.atleast_1d(np.asarray(best.intercept, dtype=np.float64))
    if verbose:
        print(f"[weight_decay] seeded start: {len(fits)} fits (best J {fits[0].objective:.6g}), "
              f"after local descent J {best.objective:.6g}, {U.shape[1]} neurons "
              f"({time.perf_counter() - t0:.2f}s)")
    return U, b, W, (c if bias else None)


def _oracle(X, G, patterns, bias, rel_tol, max_evals, floor=0.0, stop_above=math.inf):
    """Candidate neurons for the dual point ``G`` (best first): the branch and bound of
    :func:`~fastconvexrelu.certificates.weight_decay_dual_norm` over ``patterns``, then a local
    ascent from the best three. Returns ``(U, b, values, DualNorm)``."""
    from .certificates import weight_decay_dual_norm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dn = weight_decay_dual_norm(X, G, patterns, bias=bias, rel_tol=rel_tol,
                                    max_evals=max_evals, floor=floor, stop_above=stop_above)
    cu, cb, cv = dn.hidden_weights, dn.hidden_bias, dn.values
    cu, cb, cv = _ascend_best(X, G, cu, cb, cv, bias)
    return cu, cb, cv, dn


def _oracle_ascent(X, Xf, G, U, b, bias, rng, n_starts, steps=25):
    r"""Candidate neurons for high-dimensional data (a heuristic: it FINDS neurons, it
    certifies nothing): projected gradient ascent of :math:`\tfrac12\|G^\top(Xu + b)_+\|_2^2`
    over :math:`\|u\| = 1` (and :math:`b`), run for ``n_starts`` starts at once with matrix
    products in float32 -- hyperplanes through the mean facing random samples, and
    perturbations of the current neurons.  Steps are normalized gradient steps of decreasing
    length, each followed by the rescaling :math:`(u, b)/\|u\|` (the value is positively
    homogeneous).  Returns ``(U, b, values)``, best first, values recomputed in float64;
    near-duplicates (:math:`|\cos| > 0.95` between the :math:`(u, b)` of two candidates) are
    dropped. ``Xf`` is ``X`` in float32."""
    n, d = X.shape
    xm = X.mean(axis=0)
    k_data = max(1, n_starts - min(U.shape[1], n_starts // 4))
    C = (X[rng.integers(0, n, k_data)] - xm).T
    if U.shape[1]:
        pick = rng.choice(U.shape[1], min(U.shape[1], n_starts - k_data), replace=False)
        C = np.hstack([C, U[:, pick] + 0.1 * rng.standard_normal((d, pick.size))])
    nc = np.linalg.norm(C, axis=0)
    C = C[:, nc > 0] / nc[nc > 0]
    cb = -(xm @ C) if bias else np.zeros(C.shape[1])
    Gf = G.astype(np.float32)
    T = np.vstack([C, cb[None, :]]).astype(np.float32)  # columns (u, b)
    eta = 0.3
    for _ in range(steps):
        Z = Xf @ T[:d] + T[d]
        R = (Z > 0) * (Gf @ (Gf.T @ np.maximum(Z, 0)))
        g = np.vstack([Xf.T @ R, R.sum(axis=0)[None, :] if bias else np.zeros((1, T.shape[1]),
                                                                             np.float32)])
        g[:d] -= T[:d] * np.sum(T[:d] * g[:d], axis=0)  # tangent to the sphere in u
        T = T + eta * np.linalg.norm(T, axis=0) * g / (np.linalg.norm(g, axis=0) + 1e-30)
        nu = np.linalg.norm(T[:d], axis=0)
        T = T[:, nu > 0] / nu[nu > 0]
        eta *= 0.92
    cu, cbias = T[:d].astype(np.float64), T[d].astype(np.float64)
    nu = np.linalg.norm(cu, axis=0)
    cu, cbias = cu / nu, cbias / nu
    cv = np.linalg.norm(G.T @ np.maximum(X @ cu + cbias, 0.0), axis=0)
    order = np.argsort(-cv)
    E = np.vstack([cu, cbias[None, :]])[:, order]
    E /= np.linalg.norm(E, axis=0)
    keep = []
    for j in range(order.size):
        if not keep or np.max(np.abs(E[:, keep].T @ E[:, j])) <= 0.95:
            keep.append(j)
    order = order[keep]
    return cu[:, order], cbias[order], cv[order]


def _oracle_sampled(X, G, pats, bias, U, b, rng, n_random=200):
    r"""Candidate neurons when the arrangement is too large to enumerate (a heuristic: it
    FINDS neurons, it certifies nothing): the generators of the sampled patterns, random
    neurons through the samples, and perturbations of the current neurons, scored by
    :math:`\|G^\top(Xu + b)_+\|_2`; then the exact scalar pattern oracle over the sampled
    patterns for :math:`v = Ga` with :math:`a` the output direction of the best candidate, and
    a local ascent from the best three. Returns ``(U, b, values)``, best first."""
    from .certificates import _oracle_max

    n, d = X.shape
    Us = [pats.hidden_weights]
    bs = [pats.hidden_bias]
    R = rng.standard_normal((d, n_random))
    R /= np.linalg.norm(R, axis=0)
    Us.append(R)
    bs.append(-(np.einsum("ij,ji->i", X[rng.integers(0, n, n_random)], R)) if bias
              else np.zeros(n_random))
    if U.shape[1]:
        P = U + 0.05 * rng.standard_normal(U.shape)
        nP = np.linalg.norm(P, axis=0)
        Us.append(P / nP)
        bs.append((b + 0.05 * rng.standard_normal(b.shape)) / nP if bias else np.zeros(U.shape[1]))
    cu = np.hstack(Us)
    cb = np.concatenate(bs)
    nu = np.linalg.norm(cu, axis=0)
    ok = nu > 0
    cu, cb = cu[:, ok] / nu[ok], cb[ok] / nu[ok]
    S = G.T @ np.maximum(X @ cu + cb, 0.0)  # (o, K)
    cv = np.linalg.norm(S, axis=0)
    if cv.size and cv.max() > 0:
        a = S[:, int(np.argmax(cv))] / cv.max()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            vals, orc = _oracle_max(X, G @ a, pats.patterns, bias, 0.0)
        if vals is not None and vals.size:
            raw = np.where(np.isfinite(orc.values), orc.values, -np.inf)
            top = np.argsort(-raw, axis=None)[:6]
            eu = [orc.hidden_weights[np.unravel_index(t, raw.shape)] for t in top]
            eb = [orc.hidden_bias[np.unravel_index(t, raw.shape)] for t in top]
            eu = np.array(eu).T.reshape(d, -1)
            eb = np.array(eb, dtype=float) if bias else np.zeros(eu.shape[1])
            ne = np.linalg.norm(eu, axis=0)
            keep = ne > 0
            eu, eb = eu[:, keep] / ne[keep], eb[keep] / ne[keep]
            cu = np.hstack([cu, eu])
            cb = np.concatenate([cb, eb])
            cv = np.concatenate([cv, np.linalg.norm(G.T @ np.maximum(X @ eu + eb, 0.0), axis=0)])
    order = np.argsort(-cv)
    cu, cb, cv = cu[:, order], cb[order], cv[order]
    cu, cb, cv = _ascend_best(X, G, cu, cb, cv, bias)
    return cu[:, :50], cb[:50], cv[:50]
