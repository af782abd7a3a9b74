r"""Points of the rectified ellipsoid and of its spike-free relaxation (Section 2.2).

For a data matrix :math:`A\in\mathbb R^{n\times d}` (rows are samples):

.. math::

    \mathcal Q_A = \{(Au)_+ : \|u\|_2\le1\} \subseteq \mathbb R^n_+, \qquad
    A\mathcal B_2\cap\mathbb R^n_+ = \{Au : \|u\|_2\le1,\ Au\ge0\} \subseteq \mathcal Q_A .

The second set is the convex *spike-free relaxation*; the two coincide iff :math:`A` is
spike-free (Lemma 2.3).  With ``n = 2`` or ``3`` samples these are the pictures of
Figures 2-5.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._validation import check_X
from .extreme_point import _scipy_optimize

__all__ = ["RectifiedEllipsoid", "rectified_ellipsoid"]


@dataclass(frozen=True)
class RectifiedEllipsoid:
    r"""Sampled points (rows, in :math:`\mathbb R^n`) of :math:`\mathcal Q_A` and its relaxation.

    Attributes
    ----------
    boundary : ndarray of shape (n_samples, n)
        :math:`(Au)_+` for unit vectors ``u`` (evenly spaced angles when ``d = 2``, random
        otherwise): the image of the sphere, which contains the outer boundary and the spikes.
    interior : ndarray of shape (n_samples, n)
        :math:`(Au)_+` for ``u`` uniform in the unit ball.
    relaxation_boundary : ndarray of shape (k, n)
        :math:`Au` for unit ``u`` in the cone :math:`K = \{Au\ge0\}` (the curved part of the
        boundary of :math:`A\mathcal B_2\cap\mathbb R^n_+`); empty if :math:`K = \{0\}`.
    relaxation_interior : ndarray of shape (n_samples, n)
        :math:`Au` for ``u`` = Euclidean projections onto ``K`` of points uniform in the ball
        (points of the relaxation, not uniformly distributed; includes its flat faces).
    """

    boundary: np.ndarray
    interior: np.ndarray
    relaxation_boundary: np.ndarray
    relaxation_interior: np.ndarray


def _project_cone(A, P):
    r"""Rows of ``P`` projected onto :math:`K = \{u : Au\ge0\}` (NNLS, Moreau decomposition)."""
    out = np.empty_like(P)
    M = -A.T
    nnls = _scipy_optimize().nnls
    for i, c in enumerate(P):
        if np.all(A @ c >= 0):
            out[i] = c
            continue
        lam, _ = nnls(M, c, maxiter=max(50 * A.shape[0], 1000))
        out[i] = c + A.T @ lam
    return out


def rectified_ellipsoid(X, n_samples=1000, *, random_state=None):
    r"""Sample the rectified ellipsoid and its spike-free relaxation (Section 2.2).

    The sets are :math:`\mathcal Q_A = \{(Au)_+ : \|u\|\le1\}` and
    :math:`A\mathcal B_2\cap\mathbb R^n_+ = \{Au : \|u\|\le1, Au\ge0\}\subseteq\mathcal Q_A`.

    Parameters
    ----------
    X : array-like of shape (n, d)
        Data matrix ``A``; the sets live in :math:`\mathbb R^n` (use ``n = 2`` or ``3`` for
        pictures).
    n_samples : int, default=1000
    random_state : int, numpy Generator or None

    Returns
    -------
    RectifiedEllipsoid
        ``boundary``, ``interior``, ``relaxation_boundary``, ``relaxation_interior``.

    Raises
    ------
    ValueError
        Bad ``X`` (NaN/inf, not 2-D, empty) or ``n_samples`` not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> from fastconvexrelu import rectified_ellipsoid
    >>> pts = rectified_ellipsoid(np.array([[1.0, 0.0], [-1.0, 0.2]]), 200, random_state=0)
    >>> pts.boundary.shape, bool(np.all(pts.boundary >= 0))
    ((200, 2), True)
    """
    A = check_X(X, name="X")
    if (
        isinstance(n_samples, (bool, np.bool_))
        or not isinstance(n_samples, numbers.Integral)
        or n_samples < 1
    ):
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}.")
    rng = np.random.default_rng(random_state)
    n, d = A.shape
    if d == 2:
        t = np.linspace(0.0, 2 * np.pi, n_samples, endpoint=False)
        S = np.column_stack([np.cos(t), np.sin(t)])
    else:
        S = rng.standard_normal((n_samples, d))
        S /= np.linalg.norm(S, axis=1, keepdims=True)
    B = rng.standard_normal((n_samples, d))
    B *= (rng.random(n_samples) ** (1.0 / d) / np.linalg.norm(B, axis=1))[:, None]

    boundary = np.maximum(S @ A.T, 0.0)
    interior = np.maximum(B @ A.T, 0.0)

    PS = _project_cone(A, S)
    nrm = np.linalg.norm(PS, axis=1)
    good = nrm > 1e-12
    relax_boundary = np.maximum((PS[good] / nrm[good, None]) @ A.T, 0.0)
    relax_interior = np.maximum(_project_cone(A, B) @ A.T, 0.0)  # clip -0 rounding only
    return RectifiedEllipsoid(
        boundary=boundary,
        interior=interior,
        relaxation_boundary=relax_boundary,
        relaxation_interior=relax_interior,
    )
