r"""Regularization path: the globally optimal network for a sequence of :math:`\beta`.

For each :math:`\beta` (taken from the largest to the smallest, the usual continuation order:
sparse solutions first) the estimator is refitted; with ``solver="arrangements"`` (and
``"auto"`` on general data) the activation patterns are chosen once and every program is
warm-started from the previous solution.
"""

from __future__ import annotations

from typing import List, NamedTuple

import numpy as np

from ._validation import _as_float_array, _check_finite

__all__ = ["RegularizationPath", "regularization_path"]


class RegularizationPath(NamedTuple):
    """Result of :func:`regularization_path` (entries in the order of ``betas``, descending).

    Attributes
    ----------
    betas : ndarray (k,)
    objectives : ndarray (k,)
        :math:`J` of each fitted network.
    duality_gaps : ndarray (k,)
        Certified bounds on the suboptimality (``inf`` when nothing is certified).
    n_active : ndarray (k,), int
        Active neurons.
    estimators : list
        The fitted estimators (independent copies).
    """

    betas: np.ndarray
    objectives: np.ndarray
    duality_gaps: np.ndarray
    n_active: np.ndarray
    estimators: List


def regularization_path(estimator, X, y, betas):
    r"""Fit ``estimator`` (a :class:`~fastconvexrelu.ConvexReLURegressor` or
    :class:`~fastconvexrelu.ConvexReLUClassifier`, used as a template: it is not modified)
    for every :math:`\beta` in ``betas``, with warm starts.

    Parameters
    ----------
    estimator : estimator instance
    X : array-like (n_samples, n_features)
    y : array-like (n_samples,) or (n_samples, n_outputs)
    betas : array-like of float
        Regularization strengths (> 0 with the arrangement solver); sorted descending.

    Returns
    -------
    RegularizationPath
    """
    b = _as_float_array(betas, "betas").ravel()
    if b.size == 0:
        raise ValueError("betas is empty.")
    _check_finite(b, "betas")
    if np.any(b < 0):
        raise ValueError("betas must be >= 0.")
    b = np.sort(b)[::-1]
    params = estimator.get_params(deep=False)
    warm = None
    fitted = []
    for beta in b:
        est = type(estimator)(**{**params, "beta": float(beta)})
        if warm is not None:
            est._path_warm_start = warm
        est.fit(X, y)
        if hasattr(est, "_path_warm_start"):
            del est._path_warm_start
        warm = getattr(est, "_warm_", None)
        fitted.append(est)
    return RegularizationPath(
        betas=b,
        objectives=np.array([e.objective_ for e in fitted]),
        duality_gaps=np.array([e.duality_gap_ for e in fitted]),
        n_active=np.array([e.n_active_ for e in fitted], dtype=int),
        estimators=fitted,
    )
