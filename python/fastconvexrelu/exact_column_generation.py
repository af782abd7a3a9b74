r"""Column generation with the exact dual oracle (Algorithm 1 with the branch and bound of
:mod:`fastconvexrelu.network_certificate` as its oracle; issue 17, item 4).

For scalar outputs the optimum of

.. math::

    \min\; L(f(X), y) + \beta\sum_j |w_j|\,\|u_j\|_2, \qquad
    f(x) = \sum_j w_j (u_j^\top x + b_j)_+ + c,

over all widths is reached when no neuron violates the dual constraint:
:math:`\sigma(g) = \max_{\|u\|\le1, b}|g^\top(Xu + b\mathbf 1)_+| \le \beta` at
:math:`g = -\nabla L(f(X))`.  Each round certifies the current network
(:func:`certify_network`: a true gap, ``inf`` never claimed), and while the gap is above
``tol * J`` adds the most violated neuron found by the oracle, re-solves the convex lasso
master over the unit neurons (``_core.lasso_master``, exact restricted optimum) and, every
third round, moves the neurons by local descent (:func:`refine_network`, which never raises
J).  J never increases from round to round; the gap returned is that of the returned network.

The oracle is exact where the branch and bound converges, i.e. for few features (measured:
d <= 3 at n <= 500 in about a second per round); for larger d the rounds end at the time limit
with the (true, larger) gap of the best network.
"""
from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np

from ._deadline import remaining
from .network_certificate import NetworkCertificate, certify_network
from .nonconvex_seed import refine_network

__all__ = ["ColumnGenerationResult", "exact_column_generation"]

_MASTER_LOSSES = ("squared", "logistic")


class ColumnGenerationResult(NamedTuple):
    """Result of :func:`exact_column_generation`: the network (unit-norm hidden weights
    rebalanced back to :math:`|w_j| = \\|u_j\\|`), its certificate and the rounds' history
    ``(J, gap, n_neurons, seconds)``."""

    hidden_weights: np.ndarray
    hidden_bias: np.ndarray
    output_weights: np.ndarray
    intercept: float
    certificate: NetworkCertificate
    n_rounds: int
    history: list


def _unit(U, b, w):
    nu = np.linalg.norm(U, axis=0)
    keep = (nu > 0) & (w != 0)
    U, b, w, nu = U[:, keep], b[keep], w[keep], nu[keep]
    return U / nu, b / nu, w * nu


def _balanced(U, b, w):
    t = np.sqrt(np.abs(w))
    return U * t, b * t, np.sign(w) * t


def exact_column_generation(X, y, hidden_weights, hidden_bias, output_weights, intercept, *,
                            beta, loss="squared", bias=True, tol=1e-4, time_limit=60.0,
                            max_rounds=1000, n_threads=0, verbose=False):
    r"""Drive a network towards the global optimum with the exact oracle until its certified
    gap is at most ``tol * J`` (module docstring).

    Parameters
    ----------
    X : ndarray (n, d), validated float64
    y : ndarray (n,)
        Targets (labels in {-1, +1} for ``loss="logistic"``).
    hidden_weights, hidden_bias, output_weights, intercept
        The start (e.g. a fitted estimator's network), shapes (d, m), (m,), (m,), float.
    beta : float > 0
    loss : {"squared", "logistic"}
    bias : bool
    tol : float
        Relative certified gap at which to stop.
    time_limit : float
        Seconds for all rounds (each certificate gets what is left, at most a third of it
        beyond the first round); the last certificate is always computed.
    max_rounds : int
    n_threads : int
    verbose : bool

    Returns
    -------
    ColumnGenerationResult
    """
    from . import _core

    if loss not in _MASTER_LOSSES:
        raise ValueError(f"loss must be one of {_MASTER_LOSSES} for the column generation, got "
                         f"{loss!r}.")
    if not (isinstance(time_limit, (int, float)) and time_limit > 0 and math.isfinite(time_limit)):
        raise ValueError(f"time_limit must be a finite number > 0, got {time_limit!r}.")
    t0 = time.perf_counter()
    end = t0 + min(float(time_limit), remaining())
    U, b, w = _unit(np.asarray(hidden_weights, float).reshape(X.shape[1], -1),
                    np.asarray(hidden_bias, float).ravel(), np.asarray(output_weights, float).ravel())
    c = float(intercept) if bias else 0.0
    if not bias:
        b = np.zeros_like(b)
    history = []

    def cert_of(U, b, w, c, share):
        left = max(end - time.perf_counter(), 0.05)
        return certify_network(X, y, *_balanced(U, b, w), c, beta=beta, loss=loss, bias=bias,
                               time_limit=max(0.05, left * share), n_threads=n_threads)

    cert = cert_of(U, b, w, c, 1.0 / 3.0)
    best = (U, b, w, c, cert)
    rounds = 0
    accurate = False  # whether the last master was solved to 1e-13
    while rounds < max_rounds:
        J, gap = cert.objective, cert.duality_gap
        history.append((J, gap, U.shape[1], time.perf_counter() - t0))
        if verbose:
            print(f"[exact_column_generation] round {rounds}: J = {J:.8g}, certified gap "
                  f"{gap:.3e} ({gap / max(J, 1e-300):.2e} J), {U.shape[1]} neurons, sigma found "
                  f"{cert.sigma_lower / beta:.4f} beta ({time.perf_counter() - t0:.1f}s)",
                  flush=True)
        if gap <= tol * max(J, 0.0) or time.perf_counter() >= end:
            break
        violated = cert.sigma_lower > beta * (1.0 + 1e-9) and cert.hidden_weight is not None
        if not violated and accurate:
            break  # no violating neuron and the master solved accurately: nothing to add
        rounds += 1
        if violated:  # the violating neuron (unit u, b) enters with weight 0
            U2 = np.column_stack([U, np.asarray(cert.hidden_weight, float)])
            b2 = np.append(b, float(cert.hidden_bias) if bias else 0.0)
            w2 = np.append(w, 0.0)
        else:  # no neuron to add: the gap is the master's inaccuracy, solve it tightly
            U2, b2, w2 = U, b, w
        accurate = not violated
        Phi = np.asfortranarray(np.maximum(X @ U2 + b2, 0.0))
        ms = _core.lasso_master(Phi, y, loss, float(beta), 1e-13 if accurate else 1e-10,
                                20000 if accurate else 3000, w2, bool(bias), c)
        U2, b2, w2 = _unit(U2, b2, np.asarray(ms["w"], float))
        c2 = float(ms["intercept"]) if bias else 0.0
        if rounds % 3 == 0 and U2.shape[1] > 0 and not accurate:
            r = refine_network(X, y, *_balanced(U2, b2, w2), c2, beta=beta, loss=loss,
                               bias=bias, max_iter=300)
            if r.hidden_weights.shape[1] > 0:
                U2, b2, w2 = _unit(r.hidden_weights, r.hidden_bias, np.asarray(r.output_weights))
                c2 = float(r.intercept) if bias else 0.0
        cert2 = cert_of(U2, b2, w2, c2, 1.0 / 3.0)
        U, b, w, c, cert = U2, b2, w2, c2, cert2
        if cert.duality_gap < best[4].duality_gap or (
                cert.duality_gap == best[4].duality_gap and cert.objective < best[4].objective):
            best = (U, b, w, c, cert)
    U, b, w, c, cert = best
    Ub, bb, wb = _balanced(U, b, w)
    return ColumnGenerationResult(Ub, bb, wb, float(c), cert, rounds, history)
