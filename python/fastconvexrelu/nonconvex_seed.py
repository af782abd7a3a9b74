r"""Cheap non-convex fits of the two-layer ReLU network, used to seed activation patterns.

The weight-decay training problem (paper eq. (2) with biases, supplementary A.3)

.. math::

    \min_{U, b, w, c}\; L\big((XU + \mathbf 1 b^\top)_+ w + c\mathbf 1,\ y\big)
    + \tfrac{\beta}{2}\big(\|U\|_F^2 + \|w\|_2^2\big)

(hidden biases :math:`b` and intercept :math:`c` unpenalized) is solved *locally* from a few
random initializations by full-batch Adam then L-BFGS with analytic gradients (C++ kernel
``_core.nonconvex_fit``: two products with X per evaluation, the ReLU, loss and reductions
fused; the fits run in parallel threads).  By the AM-GM inequality the penalty is :math:`\ge \beta\sum_j|w_j|\|u_j\|_2`,
with equality after rebalancing every neuron to :math:`|w_j| = \|u_j\|_2` (which leaves
:math:`f` unchanged by positive homogeneity), so each returned network is scored with the
objective :math:`J` of :func:`fastconvexrelu.network_objective` (Lemma 2.1 / eq. (3)).

These fits are not optimal; they are a cheap source of good activation patterns
:math:`D_j = \mathrm{diag}(1[Xu_j + b_j > 0])` for the exact convex program over patterns
(``solver="arrangements", patterns="seeded"``, issue 3), for which each fitted network is a
feasible point (:func:`seed_program_start`).
"""

from __future__ import annotations

import numbers
from typing import Any, NamedTuple

import numpy as np

from ._objective import network_objective
from ._validation import _is_real, check_X_Y, check_bool
from .hull_neurons import _check_n_jobs  # None -> the cores this process may use

__all__ = ["SeedFit", "fit_nonconvex_seeds", "fit_minibatch_seeds", "refine_network",
           "seed_program_start"]

_SEED_LOSSES = ("squared", "huber", "logistic", "hinge", "softmax")


class SeedFit(NamedTuple):
    """One locally trained network (rebalanced: :math:`|w_j| = \\|u_j\\|_2`).

    Attributes
    ----------
    hidden_weights : ndarray (d, m)
    hidden_bias : ndarray (m,)
    output_weights : ndarray (m,) or (m, o)
    intercept : float or ndarray (o,)
    objective : float
        :math:`J` of the network (``network_objective``; weight-decay penalty for vectors).
    n_iter : int
        L-BFGS iterations.
    seed : int
        The integer seed of this initialization.
    """

    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    intercept: Any
    objective: float
    n_iter: int
    seed: int


def _rebalanced(X, y, U, b, w, c, beta, loss, bias, huber_delta, sample_weight=None):
    """Rebalance :math:`\\|w_j\\| = \\|u_j\\|` (f unchanged, penalty
    :math:`\\beta\\sum_j\\|w_j\\|\\|u_j\\|`), drop neurons that are zero or never active on the
    data; ``(U, b, w, c, J)``.  Scalar outputs: ``w`` (m,), ``c`` float; vector outputs (y of
    shape (n, o)): ``w`` (m, o) (rows :math:`w_j`), ``c`` (o,)."""
    U, b = np.array(U, dtype=np.float64), np.array(b, dtype=np.float64)
    w = np.array(w, dtype=np.float64)
    vector = y.ndim == 2
    if w.ndim == 2 and not vector:
        w = w[:, 0]
    c = np.asarray(c, dtype=np.float64).ravel()
    if not bias:
        b = np.zeros_like(b)
        c = np.zeros_like(c)
    nu = np.linalg.norm(U, axis=0)
    nw = np.linalg.norm(w, axis=1) if vector else np.abs(w)
    active = (nu > 0) & (nw > 0) & np.any(X @ U + b > 0, axis=0)
    U, b, w, nu, nw = U[:, active], b[active], w[active], nu[active], nw[active]
    t = np.sqrt(nw / nu)
    U, b = U * t, b * t
    w = w / (t[:, None] if vector else t)
    c = c.copy() if vector else float(c[0])
    J = network_objective(X, y, U, b, w, c, beta, loss, huber_delta=huber_delta,
                          penalty="weight_decay", sample_weight=sample_weight)
    return U, b, w, c, float(J)


def _he_start(rng, d, m, y, loss, bias):
    # He initialization (u ~ N(0, 2/d I), small biases, w ~ N(0, 1/m)); measured on the
    # bench data it ends in much better local minima than hyperplanes through data points
    # (synthetic n=500, d=20: J 2.33-2.36 vs 2.40-2.47)
    o = y.shape[1] if y.ndim == 2 else 1
    U0 = rng.standard_normal((d, m)) * np.sqrt(2.0 / d)
    b0 = 0.1 * rng.standard_normal(m) if bias else np.zeros(m)
    w0 = rng.standard_normal((m, o)) / np.sqrt(m)
    c0 = (np.mean(y.reshape(len(y), o), axis=0) if (bias and loss in ("squared", "huber"))
          else np.zeros(o))
    return U0, b0, w0, np.ascontiguousarray(c0, dtype=np.float64)


def refine_network(X, y, U, b, w, c, *, beta, loss="squared", bias=True, huber_delta=1.0,
                   max_iter=500, adam_iter=0, sample_weight=None):
    r"""Local descent (L-BFGS, after ``adam_iter`` Adam steps) on the weight-decay problem from
    a given network; returns the rebalanced result as a :class:`SeedFit` (``seed = -1``).

    The start is rebalanced first (:math:`|w_j| = \|u_j\|`, where the weight-decay penalty
    equals :math:`\beta\sum_j|w_j|\|u_j\|`), and L-BFGS never increases the objective, so the
    returned :math:`J` is at most the start's.  X, y must be validated float64 arrays;
    ``sample_weight`` (n,), validated, weights the loss.
    """
    from . import _core

    U, b, w, c, _ = _rebalanced(X, y, U, b, w, c, beta, loss, bias, huber_delta, sample_weight)
    if U.shape[1] == 0:
        raise ValueError("refine_network needs a network with at least one active neuron.")
    r = _core.nonconvex_fit(np.asfortranarray(X), y, [U], [b], [np.atleast_1d(w)], [np.atleast_1d(c)],
                            loss=loss, beta=float(beta), bias=bool(bias), huber_delta=float(huber_delta),
                            adam_iter=int(adam_iter), lbfgs_iter=int(max_iter), n_threads=_check_n_jobs(None),
                            sample_weight=_f64_weights(sample_weight))[0]
    U2, b2, w2, c2, J = _rebalanced(X, y, r["U"], r["b"], r["w"], r["c"], beta, loss, bias, huber_delta,
                                    sample_weight)
    return SeedFit(U2, b2, w2, c2, J, int(r["n_iter"]), -1)


def _f64_weights(sample_weight):
    return np.zeros(0) if sample_weight is None else np.ascontiguousarray(sample_weight, dtype=np.float64)


def fit_nonconvex_seeds(X, y, *, beta, loss="squared", n_seeds=4, width=None, max_iter=1000,
                        adam_iter=1000, bias=True, random_state=None, huber_delta=1.0,
                        sample_weight=None):
    r"""Local fits of the weight-decay problem from ``n_seeds`` random initializations.

    Each fit minimizes :math:`L(f(X), y) + \frac{\beta}{2}(\|U\|_F^2 + \|w\|^2)` over
    :math:`f(x) = \sum_{j\le m} w_j(u_j^\top x + b_j)_+ + c` (``width`` :math:`m` hidden
    units; with ``bias=False``, :math:`b = 0, c = 0`) by L-BFGS with analytic gradients
    (a subgradient for the hinge) after ``adam_iter`` full-batch Adam steps (learning rate
    0.01 on the objective divided by :math:`n`) from a He initialization, then rebalances :math:`|w_j| = \|u_j\|` so that the
    penalty equals :math:`\beta\sum_j |w_j|\|u_j\|` and drops dead neurons. The fits run in
    parallel C++ threads (one per core); each is deterministic in its own seed.

    Parameters
    ----------
    X : array-like of shape (n, d)
    y : array-like of shape (n,) or (n, o)
        Real targets (squared, huber; vector outputs: the weight-decay penalty of A.7,
        :math:`\beta\sum_j\|u_j\|\|w_j\|` after rebalancing), labels in {-1, +1} (logistic,
        hinge) or one-hot rows (softmax).
    beta : float > 0
    loss : {"squared", "huber", "logistic", "hinge", "softmax"}, default="squared"
    n_seeds : int >= 1, default=4
    width : int >= 1 or None, default=None
        Hidden units per fit; None: ``min(200, max(20, 2 n))``.
    max_iter : int >= 1, default=1000
        L-BFGS iterations per fit.
    adam_iter : int >= 0, default=1000
        Adam steps before L-BFGS.
    bias : bool, default=True
    random_state : None, int or numpy Generator
        The seeds of the fits are drawn from it (deterministic for a fixed int).
    huber_delta : float > 0, default=1.0
    sample_weight : array-like of shape (n,), optional
        Weights :math:`s_i \ge 0` of the loss :math:`\sum_i s_i\ell_i` (not for the hinge).

    Returns
    -------
    list of SeedFit
        Sorted by increasing ``objective``.
    """
    X, y = check_X_Y(X, y)
    from ._losses import check_sample_weight

    sample_weight = check_sample_weight(sample_weight, X.shape[0])
    if sample_weight is not None and loss == "hinge":
        raise ValueError("sample_weight is not supported with loss='hinge'.")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    n, d = X.shape
    if not isinstance(loss, str) or loss not in _SEED_LOSSES:
        raise ValueError(f"loss must be one of {_SEED_LOSSES}, got {loss!r}.")
    if y.ndim == 2 and loss in ("logistic", "hinge"):
        raise ValueError(f"loss={loss!r} needs scalar labels y of shape (n,).")
    if y.ndim == 1 and loss == "softmax":
        raise ValueError("loss='softmax' needs one-hot targets y of shape (n, o), o >= 2.")
    if loss == "softmax":
        from ._losses import check_targets

        y = check_targets(y, "softmax", "y")
    if not _is_real(beta) or not np.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta must be a finite real number > 0, got {beta!r}.")
    for name, val in (("n_seeds", n_seeds), ("max_iter", max_iter)):
        if isinstance(val, (bool, np.bool_)) or not isinstance(val, numbers.Integral) or val < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {val!r}.")
    if isinstance(adam_iter, (bool, np.bool_)) or not isinstance(adam_iter, numbers.Integral) or adam_iter < 0:
        raise ValueError(f"adam_iter must be an integer >= 0, got {adam_iter!r}.")
    if width is None:
        width = int(min(200, max(20, 2 * n)))
    elif isinstance(width, (bool, np.bool_)) or not isinstance(width, numbers.Integral) or width < 1:
        raise ValueError(f"width must be None or an integer >= 1, got {width!r}.")
    bias = check_bool(bias, "bias")
    if not _is_real(huber_delta) or not np.isfinite(huber_delta) or huber_delta <= 0:
        raise ValueError(f"huber_delta must be a finite real number > 0, got {huber_delta!r}.")
    if loss in ("logistic", "hinge") and not np.all((y == 1.0) | (y == -1.0)):
        raise ValueError(f"loss={loss!r} needs labels y in {{-1, +1}}.")
    if isinstance(random_state, np.random.Generator):
        rng = random_state
    elif random_state is None or (isinstance(random_state, numbers.Integral)
                                  and not isinstance(random_state, (bool, np.bool_))):
        rng = np.random.default_rng(random_state)
    elif isinstance(random_state, np.random.RandomState):
        rng = np.random.default_rng(random_state.randint(0, 2**31 - 1))
    else:
        raise ValueError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}.")
    seeds = rng.integers(0, 2**31 - 1, int(n_seeds))
    starts = [_he_start(np.random.default_rng(int(s)), d, int(width), y, loss, bool(bias)) for s in seeds]
    if sample_weight is not None and bias and loss in ("squared", "huber"):
        # the start's intercept is the weighted mean target (a zero-weight row is ignored)
        cw = np.atleast_1d(np.average(y.reshape(n, -1), axis=0, weights=sample_weight))
        starts = [(U0, b0, w0, cw.copy()) for U0, b0, w0, _ in starts]
    from . import _core

    # the fits run in parallel C++ threads (cores left over work inside the fits); each is
    # deterministic in its seed, whatever the number of threads
    res = _core.nonconvex_fit(np.asfortranarray(X), y, [s[0] for s in starts], [s[1] for s in starts],
                              [s[2] for s in starts], [s[3] for s in starts], loss=loss,
                              beta=float(beta), bias=bool(bias), huber_delta=float(huber_delta),
                              adam_iter=int(adam_iter), adam_lr=1e-2, lbfgs_iter=int(max_iter),
                              n_threads=_check_n_jobs(None), sample_weight=_f64_weights(sample_weight))
    fits = []
    for s, r in zip(seeds, res):
        U, b, w, c, J = _rebalanced(X, y, r["U"], r["b"], r["w"], r["c"], beta, loss, bias, huber_delta,
                                    sample_weight)
        fits.append(SeedFit(U, b, w, c, J, int(r["n_iter"]), int(s)))
    fits.sort(key=lambda f: f.objective)
    return fits


def seed_program_start(X, fit, bias=True):
    r"""A seed network as a feasible point of the convex program over its own patterns.

    Neuron :math:`j` with pattern :math:`D_j = \mathrm{diag}(1[Xu_j + b_j > 0])` becomes the
    block :math:`v_j = |w_j|\,(u_j, b_j)` of sign :math:`\mathrm{sign}(w_j)`:
    :math:`D_j\tilde Xv_j = |w_j|(Xu_j + b_j)_+` and :math:`(2D_j - I)\tilde Xv_j\ge0` (the
    cone of :math:`D_j`), with penalty :math:`\beta\|v_j[{:}d]\| = \beta|w_j|\|u_j\|`.
    Neurons with the same pattern and sign are summed (the cone is convex; the penalty can
    only decrease), so the convex objective at this point is :math:`\le J` of the network.

    Returns
    -------
    patterns : ndarray (n, P) of 0/1, distinct columns
    theta : ndarray (dp, 2 P)
        Blocks in the layout of :func:`fastconvexrelu.arrangement_program.network_from_blocks`
        (column ``s P + i``, ``s = 0`` for ``w_j > 0``).
    intercept : float
    """
    U, b, w = fit.hidden_weights, fit.hidden_bias, fit.output_weights
    n, d = X.shape
    Z = X @ U + (b if bias else 0.0)
    pats = Z > 0
    keys = {}
    cols = []
    idx = np.empty(U.shape[1], dtype=np.int64)
    for j in range(U.shape[1]):
        k = pats[:, j].tobytes()
        if k not in keys:
            keys[k] = len(cols)
            cols.append(pats[:, j])
        idx[j] = keys[k]
    P = len(cols)
    D = np.column_stack(cols).astype(np.float64) if P else np.zeros((n, 0))
    dp = d + (1 if bias else 0)
    theta = np.zeros((dp, 2 * P))
    for j in range(U.shape[1]):
        col = idx[j] + (0 if w[j] > 0 else P)
        theta[:d, col] += abs(w[j]) * U[:, j]
        if bias:
            theta[d, col] += abs(w[j]) * b[j]
    return D, theta, float(fit.intercept)



def fit_minibatch_seeds(X, Y, *, beta, loss="softmax", n_seeds=2, width=256, epochs=10,
                        batch_size=128, lr=1e-3, lr_final=0.01, bias=True, random_state=None,
                        starts=None, sample_weight=None):
    r"""Mini-batch fits of the weight-decay cross-entropy problem (classification seeds).

    Each fit minimizes :math:`\sum_i \ell(f(x_i), y_i) + \frac{\beta}{2}(\|U\|_F^2 +
    \|W\|_F^2)` (softmax cross-entropy for one-hot ``Y`` with :math:`o \ge 2` columns, the
    logistic loss for one column of :math:`\pm 1` labels) by Adam on mini-batches in float32
    (C++ kernel ``_core.minibatch_fit``; the fits run in parallel threads, one per core), from
    a He initialization, for ``epochs`` passes over the data with a cosine-decayed learning
    rate; then rebalances :math:`\|w_j\| = \|u_j\|` and drops dead neurons (as
    :func:`fit_nonconvex_seeds`). X, Y must be validated float64 arrays (Y as the loss sees
    it, shape (n, o)).

    ``starts``: optional list of ``(U, b, W, c)`` networks to continue from (local descent),
    instead of ``n_seeds`` random initializations. ``sample_weight`` (n,): weights
    :math:`s_i \ge 0` of the samples in the loss, :math:`\sum_i s_i\ell_i`.

    Returns
    -------
    list of SeedFit
        Sorted by increasing ``objective``.
    """
    from . import _core

    n, d = X.shape
    o = Y.shape[1]
    labels = (np.argmax(Y, axis=1) if loss == "softmax" else (Y[:, 0] > 0)).astype(np.int32)
    rng = random_state if isinstance(random_state, np.random.Generator) else \
        np.random.default_rng(random_state)
    if starts is None:
        seeds = rng.integers(0, 2**31 - 1, int(n_seeds))
        starts = []
        for s in seeds:
            U0, b0, W0, c0 = _he_start(np.random.default_rng(int(s)), d, int(width), Y, loss, bias)
            starts.append((U0, b0, W0, c0))
    else:
        seeds = rng.integers(0, 2**31 - 1, len(starts))
    f32 = [[np.asarray(a, dtype=np.float32).reshape(shape) for a, shape in
            zip(s, ((d, -1), (-1,), (-1, o), (o,)))] for s in starts]
    Xf = np.ascontiguousarray(X, dtype=np.float32)
    sw = np.zeros(0, np.float32) if sample_weight is None else \
        np.ascontiguousarray(sample_weight, dtype=np.float32)
    res = _core.minibatch_fit(Xf, labels, sw, [s[0] for s in f32],
                              [s[1] for s in f32], [s[2] for s in f32], [s[3] for s in f32],
                              [int(s) for s in seeds], loss=loss, beta=float(beta), bias=bool(bias),
                              epochs=int(epochs), batch_size=int(batch_size), lr=float(lr),
                              lr_final=float(lr_final), n_threads=_check_n_jobs(None))
    Yl = Y if loss == "softmax" else Y[:, 0]
    fits = []
    for s, r in zip(seeds, res):
        U, b, w, c, J = _rebalanced(X, Yl, r["U"], r["b"], r["w"], r["c"], beta, loss, bias, 1.0,
                                    sample_weight)
        fits.append(SeedFit(U, b, w, c, J, int(r["n_steps"]), int(s)))
    fits.sort(key=lambda f: f.objective)
    return fits
