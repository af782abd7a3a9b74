r"""Neural Tangent Kernel of a one-dimensional two-layer ReLU network (Section 7, eq. (20)).

Network in the NTK parameterization, width :math:`m\to\infty`, trainable parameters
:math:`\theta = (\tilde u_j, \tilde b_j, \tilde w_j)_{j\le m}` (and optionally :math:`c`),
all i.i.d. :math:`\mathcal N(0, 1)` at initialization:

.. math::

    f_\theta(x) = \frac{\sigma_w}{\sqrt m}\sum_{j=1}^m \tilde w_j\,
    (\sigma_u \tilde u_j x + \sigma_b \tilde b_j)_+ \;[+\, c].

The NTK :math:`\Theta(x, x') = \lim_m \nabla_\theta f(x)^\top\nabla_\theta f(x')` is, with
:math:`z = \sigma_u u x + \sigma_b b`, :math:`z' = \sigma_u u x' + \sigma_b b`
(:math:`u, b\sim\mathcal N(0,1)`) jointly Gaussian,

.. math::

    \Theta(x,x') = \sigma_w^2\Big(\underbrace{\mathbb E[(z)_+(z')_+]}_{\partial/\partial
    \tilde w} + \underbrace{\mathbb E[\mathbf 1_{z>0}\mathbf 1_{z'>0}]\,
    (\sigma_u^2 xx' + \sigma_b^2)}_{\partial/\partial\tilde u,\ \partial/\partial\tilde b}
    \Big) \;[+\,1],

and with :math:`s = \sqrt{(\sigma_u^2x^2+\sigma_b^2)(\sigma_u^2x'^2+\sigma_b^2)}`,
:math:`\cos\phi = (\sigma_u^2 xx' + \sigma_b^2)/s` (arc-cosine kernels of degree 1 and 0),

.. math::

    \mathbb E[(z)_+(z')_+] = \frac{s}{2\pi}\big(\sin\phi + (\pi-\phi)\cos\phi\big),\qquad
    \mathbb E[\mathbf 1_{z>0}\mathbf 1_{z'>0}] = \frac{\pi-\phi}{2\pi}.

Without bias (:math:`\sigma_b = 0`) and :math:`\sigma_u = 1`, :math:`\sigma_w^2 = 2` this is
the paper's kernel :math:`|a_i||a_j|\kappa(\operatorname{sign}(a_ia_j))`,
:math:`\kappa(t) = t\kappa_0(t) + \kappa_1(t)` (Section 7).  The NTK predictor is the
minimum-norm interpolant :math:`\min\|\mathbf w\|_2` s.t. :math:`K\mathbf w = y` (eq. (20)),
:math:`f(x) = \sum_i w_i\Theta(x, x_i)` — also the minimum-RKHS-norm interpolant.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ._validation import _as_1d, _as_float_array, _check_finite, check_bool

__all__ = ["NTKFit", "ntk_1d", "ntk_fit"]


def _check_1d(x, name):
    arr = _as_float_array(_as_1d(x, name), name)
    _check_finite(arr, name)
    return arr


def _check_scale(val, name, allow_zero=True):
    if (
        isinstance(val, (bool, np.bool_))
        or not isinstance(val, numbers.Real)
        or not np.isfinite(val)
        or val < 0
        or (val == 0 and not allow_zero)
    ):
        req = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite real number {req}, got {val!r}.")
    return float(val)


def ntk_1d(x, x2=None, *, bias=True, intercept=False, sigma_u=1.0, sigma_b=1.0, sigma_w=1.0):
    r"""NTK Gram matrix :math:`\Theta(x_i, x'_j)` of a 1-D two-layer ReLU network.

    .. math::

        \Theta(x, x') = \sigma_w^2\Big(\frac{s}{2\pi}\big(\sin\phi + (\pi-\phi)\cos\phi\big)
        + \frac{\pi-\phi}{2\pi}\,(\sigma_u^2 xx' + \sigma_b^2)\Big) \;[+\,1],

    :math:`s = \sqrt{(\sigma_u^2x^2+\sigma_b^2)(\sigma_u^2x'^2+\sigma_b^2)}`,
    :math:`\phi = \arccos\big((\sigma_u^2xx'+\sigma_b^2)/s\big)` (see the module docstring for
    the network and the derivation; the ``+1`` is the intercept's gradient).  Where ``s = 0``
    (``x = 0`` without bias) the neuron is identically zero and so is the kernel.

    Parameters
    ----------
    x : array-like of shape (n,)
    x2 : array-like of shape (p,) or None
        Second set of points (``None``: ``x`` itself, a symmetric PSD matrix).
    bias : bool, default=True
        Hidden biases (``False`` sets :math:`\sigma_b = 0`; then ``sigma_w = sqrt(2)``
        gives the paper's kernel of Section 7).
    intercept : bool, default=False
        Add a trainable output intercept ``c`` (kernel ``+1``).
    sigma_u, sigma_b, sigma_w : float, default=1.0
        Initialization scales (standard deviations) of the input weight, bias and output
        weight.

    Returns
    -------
    K : ndarray of shape (n, p)

    Raises
    ------
    ValueError
        Non-finite or non-1-D inputs, empty inputs, negative scales.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconvexrelu import ntk_1d
    >>> K = ntk_1d([1.0, -1.0], bias=False, sigma_w=np.sqrt(2))
    >>> np.round(K, 12).tolist()      # 2|x x'| for equal signs, 0 for opposite signs
    [[2.0, 0.0], [0.0, 2.0]]
    """
    x = _check_1d(x, "x")
    x2 = x if x2 is None else _check_1d(x2, "x2")
    bias = check_bool(bias, "bias")
    intercept = check_bool(intercept, "intercept")
    su = _check_scale(sigma_u, "sigma_u")
    sb = _check_scale(sigma_b, "sigma_b") if bias else 0.0
    sw = _check_scale(sigma_w, "sigma_w")
    xx = x[:, None] * x2[None, :]
    n1 = su**2 * x**2 + sb**2
    n2 = su**2 * x2**2 + sb**2
    s = np.sqrt(n1[:, None] * n2[None, :])
    cross = su**2 * xx + sb**2
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(s > 0, cross / np.where(s > 0, s, 1.0), 1.0)
    cos = np.clip(cos, -1.0, 1.0)
    phi = np.arccos(cos)
    k1 = s / (2 * np.pi) * (np.sqrt(1.0 - cos**2) + (np.pi - phi) * cos)
    k0 = np.where(s > 0, (np.pi - phi) / (2 * np.pi), 0.0)
    K = sw**2 * (k1 + k0 * cross)
    if intercept:
        K = K + 1.0
    return K


@dataclass(frozen=True)
class NTKFit:
    r"""Minimum-norm NTK interpolant / kernel ridge fit (see :func:`ntk_fit`).

    Attributes
    ----------
    x_train : ndarray of shape (n,)
    coef : ndarray of shape (n,)
        :math:`\mathbf w` with :math:`f(x) = \sum_i w_i\Theta(x, x_i)`.
    fitted : ndarray of shape (n,)
        :math:`K\mathbf w` at the training points.
    predictions : ndarray of shape (p,) or None
        :math:`f` at ``x_test`` (if given).
    rkhs_norm : float
        :math:`\sqrt{\mathbf w^\top K\mathbf w}`.
    max_abs_residual : float
        :math:`\max_i|f(x_i) - y_i|` (0 up to rounding when interpolating).
    ridge : float
    kernel_params : dict
        Keyword arguments of :func:`ntk_1d` used.
    """

    x_train: np.ndarray
    coef: np.ndarray
    fitted: np.ndarray
    predictions: Optional[np.ndarray]
    rkhs_norm: float
    max_abs_residual: float
    ridge: float
    kernel_params: dict

    def predict(self, x):
        """NTK predictor :math:`f(x) = \\sum_i w_i \\Theta(x, x_i)` at the points ``x``."""
        return ntk_1d(x, self.x_train, **self.kernel_params) @ self.coef


def ntk_fit(x, y, x_test=None, *, ridge=0.0, rcond=1e-12, **kernel_params):
    r"""NTK regression in 1-D: minimum-norm interpolant (eq. (20)) or kernel ridge.

    ``ridge = 0``: :math:`\mathbf w = K^\dagger y`, the minimum-norm solution of
    :math:`\min\|\mathbf w\|_2^2` s.t. :math:`K\mathbf w = y` (eq. (20)); it is also the
    minimum-RKHS-norm interpolant :math:`f = \sum_i w_i \Theta(\cdot, x_i)`.  If ``y`` is not
    in the range of ``K`` (e.g. repeated ``x`` with different ``y``, or no bias with more than
    two samples on one side of 0), this is the least-squares fit (see
    ``max_abs_residual``).  ``ridge > 0``: :math:`\mathbf w = (K + \lambda I)^{-1}y`.

    Parameters
    ----------
    x, y : array-like of shape (n,)
    x_test : array-like of shape (p,) or None
    ridge : float, default=0.0
        :math:`\lambda \ge 0`.
    rcond : float, default=1e-12
        Relative eigenvalue cut-off of the pseudo-inverse (``ridge = 0``).
    **kernel_params
        ``bias``, ``intercept``, ``sigma_u``, ``sigma_b``, ``sigma_w`` of :func:`ntk_1d`.

    Returns
    -------
    NTKFit

    Raises
    ------
    ValueError
        Bad inputs (NaN/inf, shapes, empty, mismatched lengths) or parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconvexrelu import ntk_fit
    >>> fit = ntk_fit([-1.0, 0.0, 2.0], [1.0, -1.0, 0.5])
    >>> bool(fit.max_abs_residual < 1e-9)
    True
    """
    allowed = {"bias", "intercept", "sigma_u", "sigma_b", "sigma_w"}
    unknown = set(kernel_params) - allowed
    if unknown:
        raise ValueError(
            f"unknown kernel parameter(s) {sorted(unknown)}; allowed: {sorted(allowed)}."
        )
    x = _check_1d(x, "x")
    y = _check_1d(y, "y")
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"x and y have inconsistent numbers of samples: x has {x.shape[0]}, y has {y.shape[0]}."
        )
    ridge = _check_scale(ridge, "ridge")
    rcond = _check_scale(rcond, "rcond")
    K = ntk_1d(x, **kernel_params)
    if ridge > 0:
        coef = np.linalg.solve(K + ridge * np.eye(K.shape[0]), y)
    else:
        lam, Q = np.linalg.eigh(K)
        keep = lam > rcond * max(float(lam[-1]), 0.0)
        coef = Q[:, keep] @ ((Q[:, keep].T @ y) / lam[keep])
    fitted = K @ coef
    preds = None
    if x_test is not None:
        preds = ntk_1d(_check_1d(x_test, "x_test"), x, **kernel_params) @ coef
    return NTKFit(
        x_train=x,
        coef=coef,
        fitted=fitted,
        predictions=preds,
        rkhs_norm=float(np.sqrt(max(float(coef @ K @ coef), 0.0))),
        max_abs_residual=float(np.max(np.abs(fitted - y))),
        ridge=ridge,
        kernel_params=dict(kernel_params),
    )
