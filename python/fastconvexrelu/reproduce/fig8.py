r"""Figure 8: one-dimensional regression — ours vs the NTK vs gradient descent.

Three 1-D data sets; for each:

* **ours**: :class:`~fastconvexrelu.ConvexReLURegressor` with ``beta = 1e-2`` (the regularized
  form of Corollary 4.1; exact, certified);
* **NTK**: :func:`fastconvexrelu.ntk_fit`, the minimum-norm kernel interpolant (20) with the
  NTK of a two-layer ReLU network with biases;
* **GD**: :func:`fastconvexrelu.train_gd` with the same weight decay, ``m = 100`` neurons,
  init std 0.1, several seeds.

Reported: the objective ``J = 1/2||f - y||^2 + beta sum_j |w_j| ||u_j||`` of ours and of each
GD run (``J_ours <= J_gd`` always; the NTK predictor is not a finite network), the training
error, and the **chord deviation** :math:`\max_i\max_{t\in[x_i,x_{i+1}]}|f(t) -
\mathrm{chord}_i(t)|` (zero iff ``f`` is linear between consecutive samples, i.e. all kinks
at samples, Lemma 2.6) relative to the range of ``y``.  The NTK interpolant is smooth, so
its chord deviation is clearly positive; ours is piecewise linear with kinks at samples.
"""

from __future__ import annotations

import numpy as np

from ._common import Report, check_plot, chord_deviation, fig1_data, pyplot, save, train_gd_safe

__all__ = ["run", "DATASETS"]

BETA = 1e-2


def _datasets():
    from .._demo_data import demo_regression_1d, proposition_3_1_data

    xa, ya = fig1_data()
    xb, yb = proposition_3_1_data()
    Xc, yc = demo_regression_1d(10)
    return {"a": (xa, ya), "b": (xb, yb), "c": (Xc[:, 0], yc)}


DATASETS = ("a", "b", "c")


def run(quick=False, plot=None, random_state=0, verbose=False):
    """Reproduce Figure 8 (see the module docstring).

    Returns ``{"datasets": {name: {"ours": {...}, "ntk": {...}, "gd": [{...}, ...]}}}`` with
    ``objective``, ``max_residual`` and ``chord_deviation`` (relative to the range of y) per
    method.
    """
    check_plot(plot)
    from .._estimators import ConvexReLURegressor
    from ..ntk import ntk_fit

    rep = Report("Figure 8: 1-D regression, ours vs NTK vs GD", verbose)
    m, std = 100, 0.1
    seeds, n_iter = (1, 3000) if quick else (3, 20000)
    data = _datasets()
    out = {"beta": BETA, "gd_width": m, "gd_init_std": std, "gd_steps": n_iter, "datasets": {}}
    fits = {}
    for name, (x, y) in data.items():
        X = x[:, None]
        yr = float(np.ptp(y))
        est = ConvexReLURegressor(beta=BETA, tol=1e-10).fit(X, y)
        ours = dict(objective=float(est.objective_), duality_gap=float(est.duality_gap_),
                    max_residual=float(np.max(np.abs(est.predict(X) - y))),
                    chord_deviation=chord_deviation(lambda g: est.predict(g[:, None]), x) / yr,
                    n_active=int(est.n_active_))
        ntk = ntk_fit(x, y)
        ntk_r = dict(max_residual=float(ntk.max_abs_residual),
                     chord_deviation=chord_deviation(ntk.predict, x) / yr,
                     rkhs_norm=float(ntk.rkhs_norm))
        gds = []
        gd_fits = []
        for s in range(seeds):
            res, lr = train_gd_safe(X, y, m=m, beta=BETA, init_std=std, lr=0.01, n_iter=n_iter,
                                    random_state=random_state * 1000 + s)
            gds.append(dict(seed=random_state * 1000 + s, lr=lr, objective=float(res.objective),
                            max_residual=float(np.max(np.abs(res.predict(X) - y))),
                            chord_deviation=chord_deviation(
                                lambda g: res.predict(g[:, None]), x) / yr))
            gd_fits.append(res)
        fits[name] = (est, ntk, gd_fits)
        out["datasets"][name] = dict(n=int(x.size), ours=ours, ntk=ntk_r, gd=gds)
        best = min(gds, key=lambda g: g["objective"])
        rep(f"({name}) n={x.size}: J ours = {ours['objective']:.6g} (gap "
            f"{ours['duality_gap']:.1e}), J GD = "
            + ", ".join(f"{g['objective']:.6g}" for g in gds)
            + f" (best/ours = {best['objective'] / ours['objective']:.4f})")
        rep(f"     chord deviation / range(y): ours {ours['chord_deviation']:.1e}, "
            f"NTK {ntk_r['chord_deviation']:.3f}, GD "
            + ", ".join(f"{g['chord_deviation']:.3f}" for g in gds)
            + f"; max residual: ours {ours['max_residual']:.3f}, NTK "
            f"{ntk_r['max_residual']:.1e}, GD {best['max_residual']:.3f}")

    if plot is not None:
        plt = pyplot()
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
        for ax, (name, (x, y)) in zip(axes, data.items()):
            est, ntk, gd_fits = fits[name]
            grid = np.linspace(x.min() - 0.3, x.max() + 0.3, 600)
            ax.plot(grid, est.predict(grid[:, None]), "C2", lw=2, label="ours (exact)")
            ax.plot(grid, ntk.predict(grid), "C0", lw=1.5, label="NTK (min-norm interpolant)")
            ax.plot(grid, gd_fits[0].predict(grid[:, None]), "C3--", lw=1.5, label="GD")
            ax.scatter(x, y, color="k", zorder=5, s=20)
            ax.set_title(f"({name}) n={x.size}", fontsize=10)
            ax.legend(fontsize=7)
        fig.suptitle(f"Figure 8: 1-D regression (beta={BETA:g}; GD m={m}, init std {std:g})",
                     fontsize=11)
        fig.tight_layout()
        save(fig, plot, rep)
    out["lines"] = rep.lines
    return out
