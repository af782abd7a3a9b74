r"""Figure 1: one-dimensional regression and classification with a two-layer ReLU network.

(a) Gradient descent (:func:`fastconvexrelu.train_gd`, squared loss, **no weight decay**,
    full batch, hidden biases and intercept, i.i.d. :math:`\mathcal N(0, \sigma^2)`
    initialization) on the 1-D set of Figure 1b, for several widths ``m`` and initialization
    scales :math:`\sigma`.  Reported per ``(m, sigma)``: how many runs interpolate the data
    (max residual <= 1e-3 max|y|; the paper keeps only such runs, A.2), and the mean over
    those of :math:`\max_{t\in[x_{\min}, x_{\max}]}|f(t) - s(t)|`, ``s`` the linear spline
    interpolant.  The step size is ``min(0.05, 1/(n m sigma^2 (1 + max x^2)))``, halved
    if GD diverges.
(b) The exact minimum-norm interpolant (:class:`~fastconvexrelu.ConvexReLURegressor`,
    ``beta = 0``, certified) with each neuron's contribution :math:`w_j(u_jx+b_j)_+`, and the
    activation points :math:`-b_j/u_j` of a small-initialization GD network (how much of its
    norm :math:`\sum_j|w_j||u_j|` sits on neurons whose kink is within 0.05 of a sample).
(c) Hinge loss in 1-D: the exact hard-margin network (``ConvexReLUClassifier``, ``beta = 0``);
    its output is piecewise linear with kinks at samples, the decision boundaries are its
    zero crossings, and it passes through +-1 at the margin samples.
"""

from __future__ import annotations

import numpy as np

from ._common import (
    Report,
    check_plot,
    fig1_data,
    hinge_data_1d,
    pyplot,
    save,
    spline_deviation,
    train_gd_safe,
)

__all__ = ["run", "zero_crossings"]


def zero_crossings(predict, x, knots, pad=1.0):
    """Exact zero crossings of a continuous piecewise-linear ``f`` with the given kinks,
    on ``[min x - pad, max x + pad]``."""
    pts = np.unique(np.concatenate([np.asarray(x, float), np.asarray(knots, float),
                                    [np.min(x) - pad, np.max(x) + pad]]))
    pts = pts[(pts >= np.min(x) - pad) & (pts <= np.max(x) + pad)]
    f = predict(pts)
    out = []
    for i in range(pts.size - 1):
        if f[i] == 0:
            out.append(float(pts[i]))
        elif f[i] * f[i + 1] < 0:
            out.append(float(pts[i] - f[i] * (pts[i + 1] - pts[i]) / (f[i + 1] - f[i])))
    if f[-1] == 0:
        out.append(float(pts[-1]))
    return out


def _lr(n, m, std, xmax):
    return min(0.05, 1.0 / (n * m * std**2 * (1.0 + xmax**2)))


def run(quick=False, plot=None, random_state=0, verbose=False):
    """Reproduce Figure 1 (see the module docstring).

    Returns a dict with ``a`` (the GD sweep: ``widths``, ``init_stds``, ``mean_deviation``
    [width][std] over interpolating runs (``None`` if none), ``n_interpolating``, ``n_runs``),
    ``b`` (exact fit: ``objective``, ``duality_gap``, ``knots``; GD kink concentration) and
    ``c`` (hinge: ``objective``, ``duality_gap``, ``decision_boundaries``,
    ``margin_samples``).
    """
    check_plot(plot)
    from .._estimators import ConvexReLUClassifier, ConvexReLURegressor

    rep = Report("Figure 1: 1-D regression/classification, GD vs the exact convex solution",
                 verbose)
    x, y = fig1_data()
    X = x[:, None]
    n, xmax = x.size, float(np.max(np.abs(x)))
    if quick:
        widths, stds, trials, n_iter = [10, 40], [0.03, 1.0], 1, 5000
    else:
        widths, stds, trials, n_iter = [20, 100, 500], [0.01, 0.03, 0.1, 0.3, 1.0], 5, 20000

    # ---------------------------------------------------------------- (a) GD sweep
    dev = np.full((len(widths), len(stds)), np.nan)
    n_fit = np.zeros((len(widths), len(stds)), dtype=int)
    all_dev = np.full((len(widths), len(stds)), np.nan)
    keep = None  # a small-init, widest GD network for (b)
    for i, m in enumerate(widths):
        for j, std in enumerate(stds):
            devs, devs_all = [], []
            for t in range(trials):
                seed = random_state * 1000 + 100 * i + 10 * j + t
                res, _ = train_gd_safe(X, y, m=m, beta=0.0, init_std=std,
                                       lr=_lr(n, m, std, xmax), n_iter=n_iter,
                                       random_state=seed)
                resid = float(np.max(np.abs(res.predict(X) - y)))
                d = spline_deviation(lambda g: res.predict(g[:, None]), x, y)
                devs_all.append(d)
                if resid <= 1e-3 * np.max(np.abs(y)):
                    devs.append(d)
                    if j == 0 and i == len(widths) - 1 and keep is None:
                        keep = (res, std, m)
            n_fit[i, j] = len(devs)
            dev[i, j] = np.mean(devs) if devs else np.nan
            all_dev[i, j] = np.mean(devs_all)
            rep.detail(f"  m={m:4d} sigma={std:<5g}: {len(devs)}/{trials} interpolate, "
                       f"deviation from spline {dev[i, j]:.3g} (all runs {all_dev[i, j]:.3g})")
    rep("(a) GD (beta=0) max |f - linear spline| on [min x, max x], mean over interpolating "
        f"runs ({trials} per cell, {n_iter} steps):")
    rep("    sigma:      " + "  ".join(f"{s:>9g}" for s in stds))
    for i, m in enumerate(widths):
        cells = "  ".join(
            f"{dev[i, j]:9.3g}" if n_fit[i, j] else f"{'none':>9s}" for j in range(len(stds)))
        rep(f"    m={m:<5d}    {cells}   (interpolating: {n_fit[i].tolist()})")
    lo, hi = np.nanmean(all_dev[:, 0]), np.nanmean(all_dev[:, -1])
    rep(f"    mean over all runs (interpolating or not): sigma={stds[0]:g} -> {lo:.3g}, "
        f"sigma={stds[-1]:g} -> {hi:.3g}")

    # ---------------------------------------------------------------- (b) exact fit
    est = ConvexReLURegressor(beta=0.0, tol=1e-10).fit(X, y)
    knots = np.sort(-est.hidden_bias_ / est.hidden_weights_[0])
    exact_dev = spline_deviation(lambda g: est.predict(g[:, None]), x, y)
    out_b = dict(objective=float(est.objective_), duality_gap=float(est.duality_gap_),
                 n_active=int(est.n_active_), knots=knots.tolist(),
                 deviation_from_spline=exact_dev)
    rep(f"(b) exact minimum-norm interpolant: objective {est.objective_:.8g} (certified gap "
        f"{est.duality_gap_:.1e}), {est.n_active_} neurons, kinks at "
        f"{np.round(knots, 4).tolist()}, max |f - spline| = {exact_dev:.1e}")
    if keep is not None:
        res, std, m = keep
        u, b, w = res.hidden_weights[0], res.hidden_bias, res.output_weights
        mass = np.abs(w * u)
        with np.errstate(divide="ignore", invalid="ignore"):
            kinks = np.where(u != 0, -b / u, np.inf)
        near = np.min(np.abs(kinks[:, None] - x[None, :]), axis=1) <= 0.05
        frac = float(mass[near].sum() / mass.sum())
        out_b.update(gd_width=m, gd_init_std=std, gd_norm=float(mass.sum()),
                     gd_mass_near_samples=frac)
        rep(f"    GD (m={m}, sigma={std:g}): norm sum|w||u| = {mass.sum():.6g} (optimum "
            f"{est.objective_:.6g}); {100 * frac:.1f}% of it on neurons with a kink within "
            "0.05 of a sample")
    else:
        out_b.update(gd_width=None, gd_init_std=None, gd_norm=None, gd_mass_near_samples=None)

    # ---------------------------------------------------------------- (c) hinge
    xc, yc = hinge_data_1d()
    clf = ConvexReLUClassifier(beta=0.0, loss="hinge", tol=1e-10).fit(xc[:, None], yc)
    kn_c = -clf.hidden_bias_ / clf.hidden_weights_[0]
    fcd = lambda g: clf.decision_function(np.asarray(g, float)[:, None])  # noqa: E731
    bounds = zero_crossings(fcd, xc, kn_c)
    margins = yc * fcd(xc)
    on_margin = xc[np.abs(margins - 1) <= 1e-6].tolist()
    out_c = dict(objective=float(clf.objective_), duality_gap=float(clf.duality_gap_),
                 knots=np.sort(kn_c).tolist(), decision_boundaries=bounds,
                 margin_samples=on_margin, min_margin=float(margins.min()),
                 training_accuracy=float(clf.score(xc[:, None], yc)))
    rep(f"(c) hinge, hard margin (beta=0): objective {clf.objective_:.8g} (gap "
        f"{clf.duality_gap_:.1e}), kinks at {np.round(np.sort(kn_c), 4).tolist()}; decision "
        f"boundaries (zero crossings) at {np.round(bounds, 4).tolist()}; y f = 1 at "
        f"{on_margin}; training accuracy {out_c['training_accuracy']:.3f}")

    out = {
        "a": dict(widths=widths, init_stds=stds, trials=trials, n_iter=n_iter,
                  mean_deviation=[[None if np.isnan(v) else float(v) for v in row]
                                  for row in dev],
                  mean_deviation_all_runs=all_dev.tolist(), n_interpolating=n_fit.tolist()),
        "b": out_b,
        "c": out_c,
    }

    if plot is not None:
        plt = pyplot()
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
        ax = axes[0]
        for i, m in enumerate(widths):
            ax.plot(stds, dev[i], "o-", label=f"m={m}")
        ax.set_xscale("log")
        ax.set_xlabel("init std sigma")
        ax.set_ylabel("max |f - linear spline| (interpolating runs)")
        ax.set_title("(a) GD, beta=0: deviation from the spline", fontsize=10)
        ax.legend(fontsize=8)
        ax = axes[1]
        grid = np.linspace(x.min() - 0.3, x.max() + 0.3, 600)
        u, b, w = est.hidden_weights_[0], est.hidden_bias_, est.output_weights_
        for k in range(w.size):
            ax.plot(grid, w[k] * np.maximum(u[k] * grid + b[k], 0.0), "--", lw=1,
                    label="neuron contributions" if k == 0 else None)
        ax.plot(grid, est.predict(grid[:, None]), "C3", lw=2, label="exact fit (beta=0)")
        if keep is not None:
            res = keep[0]
            ax.plot(grid, res.predict(grid[:, None]), "k:", lw=1.3,
                    label=f"GD m={keep[2]}, sigma={keep[1]:g}")
        ax.scatter(x, y, color="k", zorder=5, s=20)
        ax.set_title(f"(b) exact fit, objective {est.objective_:.4g}", fontsize=10)
        ax.legend(fontsize=7)
        ax = axes[2]
        gridc = np.linspace(xc.min() - 0.5, xc.max() + 0.5, 600)
        fc = fcd(gridc)
        ax.fill_between(gridc, -1.5, 1.5, where=fc > 0, color="C2", alpha=0.15, label="f > 0")
        ax.fill_between(gridc, -1.5, 1.5, where=fc <= 0, color="C3", alpha=0.15, label="f < 0")
        ax.plot(gridc, fc, "k", lw=1.5, label="network output")
        ax.scatter(xc, yc, c=np.where(yc > 0, "C2", "C3"), edgecolor="k", zorder=5)
        ax.set_ylim(-3.5, 3.5)
        ax.set_title("(c) hinge loss, hard margin: decision regions", fontsize=10)
        ax.legend(fontsize=7)
        fig.tight_layout()
        save(fig, plot, rep)
    out["lines"] = rep.lines
    return out
