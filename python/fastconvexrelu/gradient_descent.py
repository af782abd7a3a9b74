r"""Plain full-batch gradient descent on the non-convex two-layer ReLU objective (baseline).

Network :math:`f(x) = \sum_{j=1}^m w_j (u_j^\top x + b_j)_+ + c` and the weight-decay
objective of eq. (2) (halved, as in the paper's experiments)

.. math::

    J_{\mathrm{GD}}(U, b, w, c) = L(f(X), y) + \frac{\beta}{2}\big(\|U\|_F^2 + \|w\|_2^2\big),

with :math:`L` the library's losses (:func:`fastconvexrelu.network_objective`); biases and
the intercept are not penalized.  By Lemma 2.1 (:math:`\frac12(\|u\|^2 + w^2) \ge |w|\|u\|`
with equality after rescaling), the library objective
:math:`J = L + \beta\sum_j|w_j|\|u_j\|` satisfies :math:`J \le J_{\mathrm{GD}}`, so every
GD iterate's objective upper-bounds the convex optimum that the exact solvers certify.
GD may stop at a local minimum or saddle (Section 7, Figure 8).
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from ._objective import _loss_value, network_output
from ._validation import ConvergenceWarning, check_X_y, check_bool

__all__ = ["GDResult", "train_gd"]

_LOSSES = ("squared", "hinge", "logistic")


@dataclass(frozen=True)
class GDResult:
    r"""Weights and history returned by :func:`train_gd`.

    Attributes
    ----------
    hidden_weights : ndarray of shape (d, m)
    hidden_bias : ndarray of shape (m,) or None
    output_weights : ndarray of shape (m,)
    intercept : float
    objective_history : ndarray of shape (n_done + 1,)
        :math:`J_{\mathrm{GD}}` before the first step and after every step.
    objective : float
        The library objective :math:`J = L + \beta\sum_j|w_j|\|u_j\|` of the final weights
        (as :func:`fastconvexrelu.network_objective` for ``beta > 0``; :math:`\le` the last
        history entry).
    n_iter : int
        Steps taken (less than requested if the iterates diverged).
    """

    hidden_weights: np.ndarray
    hidden_bias: object
    output_weights: np.ndarray
    intercept: float
    objective_history: np.ndarray
    objective: float
    n_iter: int

    def predict(self, X):
        """Network output :math:`f(X)` of shape (n,)."""
        return network_output(
            X, self.hidden_weights, self.hidden_bias, self.output_weights, self.intercept
        )


def _pos_real(val, name, strict=True):
    if (
        isinstance(val, (bool, np.bool_))
        or not isinstance(val, numbers.Real)
        or not np.isfinite(val)
        or val < 0
        or (strict and val == 0)
    ):
        req = "> 0" if strict else ">= 0"
        raise ValueError(f"{name} must be a finite real number {req}, got {val!r}.")
    return float(val)


def _int(val, name, minimum):
    if isinstance(val, (bool, np.bool_)) or not isinstance(val, numbers.Integral) or val < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {val!r}.")
    return int(val)


def _loss_grad(f, y, loss):
    """dL/df."""
    if loss == "squared":
        return f - y
    if loss == "hinge":
        return np.where(y * f < 1.0, -y, 0.0)
    # logistic: d/df log(1 + exp(-y f)) = -y sigmoid(-y f)
    return -y * np.exp(-np.logaddexp(0.0, y * f))


def train_gd(
    X,
    y,
    m,
    beta,
    init_std,
    lr,
    n_iter,
    loss="squared",
    bias=True,
    random_state=None,
    verbose=False,
):
    r"""Train a two-layer ReLU network by full-batch gradient descent with weight decay.

    Minimizes :math:`L(f(X), y) + \frac{\beta}{2}(\|U\|_F^2 + \|w\|_2^2)` over
    :math:`U\in\mathbb R^{d\times m}, w\in\mathbb R^m` (and unpenalized :math:`b, c` if
    ``bias``) by :math:`\theta \leftarrow \theta - \mathrm{lr}\,\nabla J_{\mathrm{GD}}(\theta)`
    (the ReLU's derivative at 0 is taken as 0).  Initialization: :math:`U, w, b` i.i.d.
    :math:`\mathcal N(0, \mathrm{init\_std}^2)`, :math:`c = 0`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Targets; in {-1, +1} for ``loss="hinge"`` / ``"logistic"``.
    m : int
        Number of hidden neurons (>= 1).
    beta : float
        Weight decay (>= 0).
    init_std : float
        Standard deviation of the initialization (> 0).
    lr : float
        Step size (> 0).
    n_iter : int
        Number of steps (>= 0).
    loss : {"squared", "hinge", "logistic"}, default="squared"
        :math:`\frac12\sum(f_i-y_i)^2`, :math:`\sum(1-y_if_i)_+`, :math:`\sum\log(1+e^{-y_if_i})`.
    bias : bool, default=True
        Train hidden biases ``b`` and the intercept ``c``.
    random_state : int, numpy Generator or None
    verbose : bool, default=False
        Print the objective about ten times.

    Returns
    -------
    GDResult
        Final weights, ``objective_history`` and the library ``objective``.  If the iterates
        diverge (non-finite objective) a :class:`ConvergenceWarning` is issued and training
        stops at the last finite iterate.

    Raises
    ------
    ValueError
        Bad ``X``/``y`` or parameters (e.g. labels not in {-1, +1} for classification losses).
    """
    X, y = check_X_y(X, y)
    m = _int(m, "m", 1)
    beta = _pos_real(beta, "beta", strict=False)
    init_std = _pos_real(init_std, "init_std")
    lr = _pos_real(lr, "lr")
    n_iter = _int(n_iter, "n_iter", 0)
    if not isinstance(loss, str) or loss not in _LOSSES:
        raise ValueError(f"loss must be one of {_LOSSES}, got {loss!r}.")
    bias = check_bool(bias, "bias")
    if loss != "squared" and not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError(f"y must contain only -1 and +1 for the {loss} loss.")
    rng = np.random.default_rng(random_state)
    n, d = X.shape

    U = init_std * rng.standard_normal((d, m))
    w = init_std * rng.standard_normal(m)
    b = init_std * rng.standard_normal(m) if bias else np.zeros(m)
    c = 0.0

    def objective(U, b, w, c):
        f = np.maximum(X @ U + b, 0.0) @ w + c
        return _loss_value(f, y, loss) + 0.5 * beta * (np.sum(U * U) + w @ w)

    history = [objective(U, b, w, c)]
    done = 0
    for it in range(n_iter):
        Z = X @ U + b
        H = np.maximum(Z, 0.0)
        f = H @ w + c
        r = _loss_grad(f, y, loss)
        dH = np.outer(r, w) * (Z > 0)
        gU = X.T @ dH + beta * U
        gw = H.T @ r + beta * w
        U_new, w_new = U - lr * gU, w - lr * gw
        if bias:
            b_new, c_new = b - lr * dH.sum(axis=0), c - lr * float(r.sum())
        else:
            b_new, c_new = b, c
        J = objective(U_new, b_new, w_new, c_new)
        if not np.isfinite(J):
            warnings.warn(
                f"gradient descent diverged at step {it + 1} (objective not finite); stopping. "
                "Reduce lr or init_std.",
                ConvergenceWarning,
                stacklevel=2,
            )
            break
        U, b, w, c = U_new, b_new, w_new, c_new
        history.append(J)
        done = it + 1
        if verbose and (done % max(1, n_iter // 10) == 0 or done == n_iter):
            print(f"[train_gd] step {done}/{n_iter}: objective {J:.6g}")
    hb = b if bias else None
    f = network_output(X, U, hb, w, c)
    J_lib = _loss_value(f, y, loss) + beta * float(np.sum(np.abs(w) * np.linalg.norm(U, axis=0)))
    return GDResult(
        hidden_weights=U,
        hidden_bias=hb,
        output_weights=w,
        intercept=float(c),
        objective_history=np.asarray(history),
        objective=float(J_lib),
        n_iter=done,
    )
