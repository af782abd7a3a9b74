"""Plots of fitted one-dimensional networks (matplotlib is imported lazily)."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_1d_network", "MATPLOTLIB_MISSING"]

MATPLOTLIB_MISSING = (
    "plotting needs matplotlib; install the plot extra: pip install fastconvexrelu[plot]"
)


def _pyplot():
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(MATPLOTLIB_MISSING) from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_1d_network(estimator, X, y, path=None, *, title=None, n_grid=400):
    """Draw the data, the fitted linear spline and each active neuron's contribution.

    Like the paper's Figure 1b: the network output :math:`f(x)` and the terms
    :math:`w_j (u_j x + b_j)_+`, for a fitted estimator with one input feature.

    Parameters
    ----------
    estimator : fitted ConvexReLURegressor (or classifier) with ``n_features_in_ == 1``
    X : array-like of shape (n_samples, 1)
    y : array-like of shape (n_samples,)
    path : str or path-like, optional
        Where to save the figure (PNG by extension); the figure is returned either way.
    title : str, optional
    n_grid : int
        Number of evaluation points.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    plt = _pyplot()
    X = np.asarray(X, dtype=np.float64).reshape(len(y), -1)
    if X.shape[1] != 1:
        raise ValueError("plot_1d_network needs one-dimensional X (shape (n_samples, 1)).")
    x = X[:, 0]
    lo, hi = float(x.min()), float(x.max())
    pad = 0.1 * (hi - lo) if hi > lo else 1.0
    grid = np.linspace(lo - pad, hi + pad, n_grid)

    U = np.asarray(estimator.hidden_weights_)[0]
    b = np.asarray(estimator.hidden_bias_)
    w = np.asarray(estimator.output_weights_)
    f = estimator.decision_function(grid[:, None]) if hasattr(estimator, "classes_") else (
        estimator.predict(grid[:, None])
    )

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for j in range(w.size):
        contrib = w[j] * np.maximum(U[j] * grid + b[j], 0.0)
        ax.plot(grid, contrib, lw=0.9, ls="--", alpha=0.7,
                label="neuron contributions $w_j(u_jx+b_j)_+$" if j == 0 else None)
    ax.plot(grid, f, color="C3", lw=2.0, label="network output $f(x)$")
    ax.scatter(x, np.asarray(y, dtype=float), color="k", zorder=5, s=18, label="data")
    knots = -b / np.where(U != 0, U, np.nan)
    knots = knots[np.isfinite(knots)]
    if knots.size:
        ax.plot(knots, np.full(knots.size, ax.get_ylim()[0]), "|", color="C3", ms=10,
                label="knots $-b_j/u_j$")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title is None:
        title = (f"beta={estimator.beta:g}: objective {estimator.objective_:.4g}, "
                 f"gap {estimator.duality_gap_:.1e}, {estimator.n_active_} neurons")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    if path is not None:
        fig.savefig(str(path), dpi=120)
        plt.close(fig)
    return fig
