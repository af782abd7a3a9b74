r"""Cheap non-convex fits of the two-layer ReLU network, used to seed activation patterns.

The weight-decay training problem (paper eq. (2) with biases, supplementary A.3)

.. math::

    \min_{U, b, w, c}\; L\big((XU + \mathbf 1 b^\top)_+ w + c\mathbf 1,\ y\big)
    + \tfrac{\beta}{2}\big(\|U\|_F^2 + \|w\|_2^2\big)

(hidden biases :math:`b` and intercept :math:`c` unpenalized) is solved *locally* from a few
random initializations by full-batch L-BFGS (``scipy.optimize.minimize``, analytic
gradients).  By the AM-GM inequality the penalty is :math:`\ge \beta\sum_j|w_j|\|u_j\|_2`,
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
import os
from typing import NamedTuple

import numpy as np

from ._objective import network_objective
from ._validation import _is_real, check_X_y

__all__ = ["SeedFit", "fit_nonconvex_seeds", "seed_program_start"]

_SEED_LOSSES = ("squared", "huber", "logistic", "hinge")


class SeedFit(NamedTuple):
    """One locally trained network (rebalanced: :math:`|w_j| = \\|u_j\\|_2`).

    Attributes
    ----------
    hidden_weights : ndarray (d, m)
    hidden_bias : ndarray (m,)
    output_weights : ndarray (m,)
    intercept : float
    objective : float
        :math:`J` of the network (``network_objective``).
    n_iter : int
        L-BFGS iterations.
    seed : int
        The integer seed of this initialization.
    """

    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    intercept: float
    objective: float
    n_iter: int
    seed: int


def _loss_and_grad(f, y, loss, huber_delta):
    """Value and (sub)gradient of the loss in ``f`` (the hinge uses a subgradient)."""
    if loss == "squared":
        r = f - y
        return 0.5 * float(r @ r), r
    if loss == "huber":
        r = f - y
        a = np.abs(r)
        val = np.where(a <= huber_delta, 0.5 * r * r, huber_delta * (a - 0.5 * huber_delta))
        return float(val.sum()), np.clip(r, -huber_delta, huber_delta)
    z = y * f
    if loss == "logistic":
        return float(np.sum(np.logaddexp(0.0, -z))), -y * 0.5 * (1.0 - np.tanh(0.5 * z))
    # hinge
    act = z < 1.0
    return float(np.sum(np.maximum(0.0, 1.0 - z))), np.where(act, -y, 0.0)


def _lbfgs(fun, x, max_iter, history=10, rtol=1e-12):
    """Plain L-BFGS (two-loop recursion, Armijo backtracking) for ``fun -> (value, grad)``.

    (scipy's L-BFGS-B costs ~1 ms per iteration in its bound-handling bookkeeping at a few
    thousand variables, several times the cost of the objective here.)"""
    f, g = fun(x)
    S, Yh, R = [], [], []
    nit = 0
    for nit in range(1, int(max_iter) + 1):
        # two-loop recursion: p = -H g
        q = g.copy()
        alph = []
        for s_, y_, r_ in zip(reversed(S), reversed(Yh), reversed(R)):
            a = r_ * float(s_ @ q)
            alph.append(a)
            q -= a * y_
        if S:
            q *= float(S[-1] @ Yh[-1]) / float(Yh[-1] @ Yh[-1])
        else:
            q /= max(1.0, float(np.linalg.norm(g)))
        for (s_, y_, r_), a in zip(zip(S, Yh, R), reversed(alph)):
            q += (a - r_ * float(y_ @ q)) * s_
        p = -q
        slope = float(g @ p)
        if slope >= 0:  # not a descent direction: restart from the gradient
            S, Yh, R = [], [], []
            p = -g / max(1.0, float(np.linalg.norm(g)))
            slope = float(g @ p)
        t = 1.0
        while True:
            xn = x + t * p
            fn, gn = fun(xn)
            if fn <= f + 1e-4 * t * slope or t < 1e-12:
                break
            t *= 0.5
        if t < 1e-12 and fn > f:
            break
        s_, y_ = xn - x, gn - g
        sy = float(s_ @ y_)
        if sy > 1e-12 * float(np.linalg.norm(s_)) * float(np.linalg.norm(y_)):
            S.append(s_)
            Yh.append(y_)
            R.append(1.0 / sy)
            if len(S) > history:
                S.pop(0), Yh.pop(0), R.pop(0)
        done = f - fn <= rtol * max(abs(f), 1e-300)
        x, f, g = xn, fn, gn
        if done:
            break
    return x, nit


def _adam(fun, x, n_iter, lr=1e-2, scale=1.0, b1=0.9, b2=0.999, eps=1e-8):
    """Full-batch Adam on ``scale * fun`` (its noise-free but sign-based steps move between
    activation regions that L-BFGS alone does not leave); returns the best iterate."""
    mom = np.zeros_like(x)
    vel = np.zeros_like(x)
    best_f, best_x = np.inf, x
    for t in range(1, int(n_iter) + 1):
        f, g = fun(x)
        if f < best_f:
            best_f, best_x = f, x
        g = g * scale
        mom = b1 * mom + (1 - b1) * g
        vel = b2 * vel + (1 - b2) * g * g
        x = x - lr * (mom / (1 - b1 ** t)) / (np.sqrt(vel / (1 - b2 ** t)) + eps)
    f, _ = fun(x)
    return x if f < best_f else best_x

def _fit_one(X, y, beta, loss, m, seed, max_iter, huber_delta, bias, adam_iter=0, adam_lr=1e-2):
    n, d = X.shape
    rng = np.random.default_rng(seed)
    # He initialization (u ~ N(0, 2/d I), small biases, w ~ N(0, 1/m)); measured on the
    # bench data it ends in much better local minima than hyperplanes through data points
    # (synthetic n=500, d=20: J 2.33-2.36 vs 2.40-2.47)
    U0 = rng.standard_normal((d, m)) * np.sqrt(2.0 / d)
    b0 = 0.1 * rng.standard_normal(m) if bias else np.zeros(m)
    w0 = rng.standard_normal(m) / np.sqrt(m)
    c0 = float(np.mean(y)) if (bias and loss in ("squared", "huber")) else 0.0

    def unpack(theta):
        U = theta[: d * m].reshape(d, m)
        b = theta[d * m: d * m + m]
        w = theta[d * m + m: d * m + 2 * m]
        c = theta[-1]
        return U, b, w, c

    grad = np.empty(d * m + 2 * m + 1)
    gU = grad[: d * m].reshape(d, m)

    def fun(theta):
        U, b, w, c = unpack(theta)
        Z = X @ U
        if bias:
            Z += b
        mask = Z > 0
        np.maximum(Z, 0.0, out=Z)  # Z <- H = (XU + b)_+
        f = Z @ w
        if bias:
            f += c
        val, g = _loss_and_grad(f, y, loss, huber_delta)
        val += 0.5 * beta * (float(np.vdot(U, U)) + float(w @ w))
        gw = Z.T @ g + beta * w
        np.multiply(mask, g[:, None], out=Z)  # Z <- dJ/dZ = diag(g) 1[Z > 0] diag(w)
        Z *= w
        np.matmul(X.T, Z, out=gU)
        gU[...] += beta * U
        grad[d * m: d * m + m] = Z.sum(axis=0) if bias else 0.0
        grad[d * m + m: d * m + 2 * m] = gw
        grad[-1] = g.sum() if bias else 0.0
        return val, grad.copy()

    theta0 = np.concatenate([U0.ravel(), b0, w0, [c0]])
    x = theta0
    if adam_iter > 0:
        x = _adam(fun, x, adam_iter, lr=adam_lr, scale=1.0 / n)
    x, nit = _lbfgs(fun, x, max_iter)
    U, b, w, c = unpack(x)
    U, b, w = U.copy(), b.copy(), w.copy()
    # rebalance |w_j| = ||u_j|| (f unchanged, penalty = beta sum |w_j| ||u_j||) and drop
    # neurons that are zero or never active on the data
    nu = np.linalg.norm(U, axis=0)
    active = (nu > 0) & (w != 0) & np.any(X @ U + b > 0, axis=0)
    U, b, w, nu = U[:, active], b[active], w[active], nu[active]
    t = np.sqrt(np.abs(w) / nu)
    U, b, w = U * t, b * t, w / t
    c = float(c) if bias else 0.0
    J = network_objective(X, y, U, b, w, c, beta, loss, huber_delta=huber_delta)
    return SeedFit(U, b, w, c, float(J), int(nit), int(seed))


def _single_thread_blas():
    """One BLAS thread for the many small products of a fit (a multi-threaded BLAS spends
    more time synchronizing than computing at these sizes, several times more on a loaded
    machine); a no-op without ``threadpoolctl``."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def fit_nonconvex_seeds(X, y, *, beta, loss="squared", n_seeds=4, width=None, max_iter=1000,
                        adam_iter=1000, bias=True, random_state=None, huber_delta=1.0):
    r"""Local fits of the weight-decay problem from ``n_seeds`` random initializations.

    Each fit minimizes :math:`L(f(X), y) + \frac{\beta}{2}(\|U\|_F^2 + \|w\|^2)` over
    :math:`f(x) = \sum_{j\le m} w_j(u_j^\top x + b_j)_+ + c` (``width`` :math:`m` hidden
    units; with ``bias=False``, :math:`b = 0, c = 0`) by L-BFGS with analytic gradients
    (a subgradient for the hinge) after ``adam_iter`` full-batch Adam steps (learning rate
    0.01 on the objective divided by :math:`n`) from a He initialization, then rebalances :math:`|w_j| = \|u_j\|` so that the
    penalty equals :math:`\beta\sum_j |w_j|\|u_j\|` and drops dead neurons. The fits run in
    parallel threads (one per core, one BLAS thread each); each is deterministic in its own seed.

    Parameters
    ----------
    X : array-like of shape (n, d)
    y : array-like of shape (n,)
        Real targets (squared, huber) or labels in {-1, +1} (logistic, hinge).
    beta : float > 0
    loss : {"squared", "huber", "logistic", "hinge"}, default="squared"
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

    Returns
    -------
    list of SeedFit
        Sorted by increasing ``objective``.
    """
    X, y = check_X_y(X, y)
    n, d = X.shape
    if not isinstance(loss, str) or loss not in _SEED_LOSSES:
        raise ValueError(f"loss must be one of {_SEED_LOSSES}, got {loss!r}.")
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
    if not isinstance(bias, (bool, np.bool_)):
        raise ValueError(f"bias must be True or False, got {bias!r}.")
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
    args = [(X, y, float(beta), loss, int(width), int(s), int(max_iter), float(huber_delta),
             bool(bias), int(adam_iter)) for s in seeds]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = min(len(args), cores or 1)
    with _single_thread_blas():
        if workers > 1:
            # independent fits, one per core (numpy releases the GIL in its kernels);
            # each fit is deterministic in its own seed, so the result does not depend on it
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=workers) as pool:
                fits = list(pool.map(lambda a: _fit_one(*a), args))
        else:
            fits = [_fit_one(*a) for a in args]
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

