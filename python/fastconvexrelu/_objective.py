r"""The training objective of a two-layer ReLU network (the one every solver reports).

Network:

.. math::

    f(x) = \sum_{j=1}^m w_j\,(u_j^\top x + b_j)_+ + c .

Objective (``beta > 0``):

.. math::

    J = L(f(X), y) + \beta \sum_{j=1}^m |w_j|\,\|u_j\|_2 ,

with :math:`L = \tfrac12\sum_i (f_i - y_i)^2` (squared),
:math:`\sum_i \max(0, 1 - y_i f_i)` (hinge), :math:`\sum_i \log(1 + e^{-y_i f_i})`
(logistic), the delta-Huber loss or the softmax cross-entropy (see ``_losses``). Biases and
the intercept are not penalized.

Vector outputs (supplementary A.7): ``output_weights`` of shape (m, o) give
:math:`f(x) = \sum_j w_j (u_j^\top x + b_j)_+ + c \in \mathbb{R}^o` and the penalty
:math:`\beta\sum_j \|w_j\|_2\|u_j\|_2` (weight decay, Lemma 1 of A.7; ``penalty="l2"``) or
:math:`\beta\sum_j \|w_j\|_1\|u_j\|_2` (``penalty="l1"``, A.7.3); they coincide for neurons
with a single nonzero output weight (what the arrangement solver returns).

``beta = 0`` is the minimum-norm problem: :math:`J = \sum_j |w_j|\,\|u_j\|_2` subject to
:math:`f(X) = y` (squared) or :math:`y_i f_i \ge 1` (hinge); a network violating the
constraint (beyond ``feasibility_tol``) has :math:`J = +\infty`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["network_objective", "network_output", "_loss_value"]

_LOSSES = ("squared", "hinge", "logistic", "huber", "softmax")


def _loss_value(f, y, loss, huber_delta=1.0, sample_weight=None):
    """Data-fit term ``L(f, y)`` (a Python float).

    Parameters
    ----------
    f, y : array-like of shape (n,) (or (n, o) for squared/huber/softmax)
        Network outputs and targets (``y`` in {-1, +1} for hinge/logistic, one-hot rows for
        softmax).
    loss : {"squared", "hinge", "logistic", "huber", "softmax"}
    huber_delta : float, default=1.0
    sample_weight : array-like of shape (n,), optional
        Row weights of the loss.
    """
    if loss in ("huber", "softmax") or np.ndim(f) == 2 or sample_weight is not None:
        from ._losses import loss_value

        f2 = np.asarray(f, dtype=np.float64)
        y2 = np.asarray(y, dtype=np.float64)
        if f2.size == y2.size and f2.ndim != y2.ndim:
            f2, y2 = f2.reshape(y2.shape[0], -1), y2.reshape(y2.shape[0], -1)
        if f2.shape != y2.shape:
            raise ValueError(f"f and y must have the same shape, got {f2.shape} and {y2.shape}.")
        if loss not in _LOSSES:
            raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}.")
        if f2.ndim == 1:
            f2, y2 = f2[:, None], y2[:, None]
        return loss_value(f2, y2, loss, huber_delta, sample_weight)
    f = np.asarray(f, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    if f.shape != y.shape:
        raise ValueError(f"f and y must have the same length, got {f.shape[0]} and {y.shape[0]}.")
    if loss == "squared":
        r = f - y
        return float(0.5 * np.dot(r, r))
    if loss == "hinge":
        return float(np.sum(np.maximum(0.0, 1.0 - y * f)))
    if loss == "logistic":
        return float(np.sum(np.logaddexp(0.0, -y * f)))
    raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}.")


def network_output(X, hidden_weights, hidden_bias, output_weights, intercept):
    """Evaluate ``f(X) = relu(X U + 1 b^T) w + c``.

    Shape (n,) for ``output_weights`` of shape (m,); (n, o) for ``output_weights`` of shape
    (m, o) (vector outputs; ``intercept`` scalar or of shape (o,)).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    U = np.asarray(hidden_weights, dtype=np.float64)
    W2 = np.asarray(output_weights, dtype=np.float64)
    if W2.ndim == 2:
        return _network_output_matrix(X, U, hidden_bias, W2, intercept)
    w = W2.ravel()
    if U.ndim == 1:
        U = U.reshape(X.shape[1], -1)
    m = w.shape[0]
    if U.shape != (X.shape[1], m):
        raise ValueError(
            f"hidden_weights must have shape (n_features, n_neurons) = ({X.shape[1]}, {m}), "
            f"got {U.shape}."
        )
    b = np.zeros(m) if hidden_bias is None else np.asarray(hidden_bias, dtype=np.float64).ravel()
    if b.shape != (m,):
        raise ValueError(f"hidden_bias must have shape ({m},), got {b.shape}.")
    c = 0.0 if intercept is None else float(intercept)
    if m == 0:
        return np.full(X.shape[0], c)
    # Parallel hidden neurons u_j = s_j a (1-D and rank-one networks): O((n + m) log m) in C++.
    norms = np.linalg.norm(U, axis=0)
    j0 = int(np.argmax(norms))
    if m > 1 and norms[j0] > 0:
        a = U[:, j0] / norms[j0]
        s = a @ U
        if np.array_equal(U, np.outer(a, s)) or np.max(np.abs(U - np.outer(a, s))) <= 1e-14 * norms[j0]:
            from . import _core

            return _core.ramp_network_1d(np.ascontiguousarray(X @ a), s, b, w, c)
    # General networks: rows in chunks, so memory stays bounded (about 32 MB of activations).
    n = X.shape[0]
    out = np.empty(n)
    step = max(1, (1 << 22) // m)
    for start in range(0, n, step):
        stop = min(n, start + step)
        out[start:stop] = np.maximum(X[start:stop] @ U + b, 0.0) @ w + c
    return out


def _network_output_matrix(X, U, hidden_bias, W, intercept):
    m, o = W.shape
    if U.ndim == 1:
        U = U.reshape(X.shape[1], -1)
    if U.shape != (X.shape[1], m):
        raise ValueError(
            f"hidden_weights must have shape (n_features, n_neurons) = ({X.shape[1]}, {m}), got {U.shape}."
        )
    b = np.zeros(m) if hidden_bias is None else np.asarray(hidden_bias, dtype=np.float64).ravel()
    if b.shape != (m,):
        raise ValueError(f"hidden_bias must have shape ({m},), got {b.shape}.")
    c = np.zeros(o) if intercept is None else np.broadcast_to(np.asarray(intercept, dtype=np.float64), (o,))
    n = X.shape[0]
    out = np.empty((n, o))
    step = max(1, (1 << 22) // max(m, 1))
    for start in range(0, n, step):
        stop = min(n, start + step)
        out[start:stop] = np.maximum(X[start:stop] @ U + b, 0.0) @ W + c
    return out


def network_objective(
    X,
    y,
    hidden_weights,
    hidden_bias,
    output_weights,
    intercept,
    beta,
    loss,
    *,
    feasibility_tol=1e-6,
    huber_delta=1.0,
    penalty="l2",
    sample_weight=None,
):
    r"""Objective ``J`` of a two-layer ReLU network, exactly as every solver reports it.

    .. math::

        J = L(f(X), y) + \beta \sum_j |w_j|\,\|u_j\|_2, \qquad
        f(x) = \sum_j w_j (u_j^\top x + b_j)_+ + c .

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Targets; in {-1, +1} for the hinge and logistic losses.
    hidden_weights : array-like of shape (n_features, n_neurons)
        Columns ``u_j``.
    hidden_bias : array-like of shape (n_neurons,) or None
        ``b_j`` (None means 0).
    output_weights : array-like of shape (n_neurons,)
        ``w_j``.
    intercept : float or None
        ``c`` (None means 0).
    beta : float
        Regularization (>= 0). ``beta = 0`` means the minimum-norm problem: ``J`` is
        :math:`\sum_j |w_j|\|u_j\|_2` if the network interpolates (squared:
        :math:`f(X) = y`) or separates with margin (hinge: :math:`y_i f_i \ge 1`), and
        ``inf`` otherwise.
    loss : {"squared", "hinge", "logistic", "huber", "softmax"}
        ``huber`` and ``softmax`` need ``beta > 0``; ``softmax`` takes one-hot ``y`` of shape
        (n, o) and ``output_weights`` of shape (m, o).
    feasibility_tol : float, default=1e-6
        Only for ``beta = 0``: tolerance of the constraint, relative to
        ``max(1, max|y|)`` for the squared loss and absolute for the hinge margin.

    huber_delta : float, default=1.0
        Parameter of the Huber loss.
    penalty : {"l2", "weight_decay", "l1"}, default="l2"
        For ``output_weights`` of shape (m, o): ``||w_j||_2`` (weight decay, A.7 Lemma 1;
        ``"weight_decay"`` is an alias) or ``||w_j||_1`` (A.7.3) times ``||u_j||_2``
        (identical for 1-D output weights).
    sample_weight : array-like of shape (n_samples,), optional
        Weights :math:`s_i \ge 0` of the samples in the loss, :math:`\sum_i s_i\ell_i`
        (``beta > 0`` only).

    Returns
    -------
    J : float
    """
    if loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}.")
    beta = float(beta)
    if not np.isfinite(beta) or beta < 0:
        raise ValueError(f"beta must be a finite number >= 0, got {beta!r}.")
    if loss in ("logistic", "huber", "softmax") and beta == 0:
        raise ValueError(f"beta must be > 0 for the {loss} loss.")
    if penalty == "weight_decay":  # the estimators' name of the l2 (weight-decay) penalty
        penalty = "l2"
    if penalty not in ("l2", "l1"):
        raise ValueError(f"penalty must be 'l2' ('weight_decay') or 'l1', got {penalty!r}.")
    if sample_weight is not None and beta == 0:
        raise ValueError("sample_weight needs beta > 0 (beta = 0 is the hard-constrained problem).")
    W2 = np.asarray(output_weights, dtype=np.float64)
    if W2.ndim == 2:
        Y2 = np.asarray(y, dtype=np.float64)
        Y2 = Y2.reshape(-1, 1) if Y2.ndim == 1 else Y2
        F2 = network_output(X, hidden_weights, hidden_bias, W2, intercept)
        if F2.shape != Y2.shape:
            raise ValueError(f"network outputs {F2.shape} and y {Y2.shape} have inconsistent shapes.")
        U2 = np.asarray(hidden_weights, dtype=np.float64)
        U2 = U2.reshape(-1, W2.shape[0]) if U2.ndim == 1 else U2
        wn = np.linalg.norm(W2, axis=1) if penalty == "l2" else np.abs(W2).sum(axis=1)
        norm2 = float(np.sum(wn * np.linalg.norm(U2, axis=0))) if W2.size else 0.0
        return _loss_value(F2, Y2, loss, huber_delta, sample_weight) + beta * norm2
    y = np.asarray(y, dtype=np.float64).ravel()
    f = network_output(X, hidden_weights, hidden_bias, output_weights, intercept)
    if f.shape != y.shape:
        raise ValueError(f"X and y have inconsistent numbers of samples: {f.shape[0]} and {y.shape[0]}.")
    U = np.asarray(hidden_weights, dtype=np.float64)
    w = np.asarray(output_weights, dtype=np.float64).ravel()
    if U.ndim == 1:
        U = U.reshape(-1, w.shape[0])
    norm = float(np.sum(np.abs(w) * np.linalg.norm(U, axis=0))) if w.size else 0.0
    if beta > 0:
        return _loss_value(f, y, loss, huber_delta, sample_weight) + beta * norm
    # beta == 0: minimum-norm problem with hard constraints
    if loss == "squared":
        scale = max(1.0, float(np.max(np.abs(y)))) if y.size else 1.0
        viol = float(np.max(np.abs(f - y))) if y.size else 0.0
        feasible = viol <= feasibility_tol * scale
    else:  # hinge
        viol = float(np.max(1.0 - y * f)) if y.size else 0.0
        feasible = viol <= feasibility_tol
    return norm if feasible else float("inf")
