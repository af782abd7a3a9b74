"""Small built-in data sets used by the CLI demo, the docs and the tests."""

from __future__ import annotations

import numpy as np

__all__ = ["demo_regression_1d", "proposition_3_1_data"]


def demo_regression_1d(n_samples=30):
    """Deterministic 1-D regression set: a smooth curve plus fixed noise.

    ``x`` is an evenly spaced grid on [-2, 2] (slightly jittered), and
    ``y = sin(1.5 x) + 0.3 x + noise`` with noise of standard deviation 0.1, all drawn
    from ``numpy.random.default_rng(0)`` so the set is identical on every machine.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
    y : ndarray of shape (n_samples,)
    """
    rng = np.random.default_rng(0)
    x = np.linspace(-2.0, 2.0, n_samples)
    x = x + rng.uniform(-0.25, 0.25, n_samples) * (4.0 / max(n_samples - 1, 1))
    noise = 0.1 * rng.standard_normal(n_samples)
    y = np.sin(1.5 * x) + 0.3 * x + noise
    return x.reshape(-1, 1), y


def proposition_3_1_data():
    """The one-dimensional data of the paper's proof of Proposition 3.1.

    Returns
    -------
    a : ndarray, ``[-2, -1, 0, 1, 2]``
    y : ndarray, ``[1, -1, 1, 1, -1]``

    The minimum-norm interpolating network (``beta = 0``) has
    :math:`\\sum_j |w_j|\\,\\|u_j\\|_2 = 8`.
    """
    a = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    y = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
    return a, y
