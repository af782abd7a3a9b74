r"""Figure 9 / Section 8: Gaussian-mixture classification in 1-D, test accuracy vs training size.

Data (Section 8): :math:`a_i\sim\mathcal N(\mu_j, 0.25)` (variance 0.25) with the component
``mu_j`` drawn uniformly from ``{-2, -1, 0, 1, 2}``; ``y_i = +1`` if ``mu_j in {-1, 0, 2}``
and ``-1`` if ``mu_j in {-2, 1}``.  Training and test sets are independent draws (test size
2000, or 400 with ``quick``).  Methods:

* **ours** ("Theory", Theorem 5.2): :class:`~fastconvexrelu.ConvexReLUClassifier`, hinge
  loss, ``beta = 0.1``, exact;
* **GD**: :func:`fastconvexrelu.train_gd`, hinge loss, the same weight decay, ``m = 50``,
  init std 0.5, fixed step;
* **NTK**: sign of the minimum-norm NTK interpolant of the labels (:func:`ntk_fit`, eq. (20)).

For each training size the mean and standard deviation over independent data sets (seeds) of
the test accuracy are reported (the band in the plot is mean +- one std).  The Bayes accuracy
of this mixture is estimated on a large sample for reference.
"""

from __future__ import annotations

import numpy as np

from ._common import Report, check_plot, pyplot, save, train_gd_safe

__all__ = ["run", "sample_mixture"]

BETA = 0.1
MEANS = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
LABELS = np.array([-1.0, 1.0, 1.0, -1.0, 1.0])


def sample_mixture(n, rng):
    """``n`` samples ``(a, y)`` of the Section 8 mixture."""
    j = rng.integers(0, MEANS.size, n)
    return MEANS[j] + 0.5 * rng.standard_normal(n), LABELS[j]


def _bayes_accuracy(rng, n=200000):
    a, y = sample_mixture(n, rng)
    dens = np.exp(-0.5 * ((a[:, None] - MEANS[None, :]) / 0.5) ** 2)
    score = dens @ LABELS
    return float(np.mean(np.where(score > 0, 1.0, -1.0) == y))


def run(quick=False, plot=None, random_state=0, verbose=False):
    """Reproduce Figure 9 (see the module docstring).

    Returns ``sizes``, ``n_seeds`` and per method (``ours``, ``gd``, ``ntk``) the lists
    ``mean`` and ``std`` of the test accuracy, plus ``bayes_accuracy``.
    """
    check_plot(plot)
    import warnings

    from .._estimators import ConvexReLUClassifier
    from .._validation import ConvergenceWarning
    from ..ntk import ntk_fit

    rep = Report("Figure 9: Gaussian mixture, test accuracy vs training size", verbose)
    if quick:
        sizes, n_seeds, n_test, gd_iter = [10, 30], 2, 400, 1000
    else:
        sizes, n_seeds, n_test, gd_iter = [10, 20, 40, 80, 160], 20, 2000, 5000
    m, std, lr = 50, 0.5, 0.005
    acc = {k: np.zeros((len(sizes), n_seeds)) for k in ("ours", "gd", "ntk")}
    example = None
    for i, n in enumerate(sizes):
        for s in range(n_seeds):
            rng = np.random.default_rng([random_state, n, s])
            a, y = sample_mixture(n, rng)
            at, yt = sample_mixture(n_test, rng)
            if np.unique(y).size < 2:  # one class only: every method predicts it
                for k in acc:
                    acc[k][i, s] = float(np.mean(yt == y[0]))
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf = ConvexReLUClassifier(beta=BETA, loss="hinge").fit(a[:, None], y)
            acc["ours"][i, s] = clf.score(at[:, None], yt)
            res, _ = train_gd_safe(a[:, None], y, m=m, beta=BETA, init_std=std, lr=lr,
                                   n_iter=gd_iter, loss="hinge", random_state=int(rng.integers(1 << 31)))
            acc["gd"][i, s] = float(np.mean(np.where(res.predict(at[:, None]) > 0, 1.0, -1.0) == yt))
            ntk = ntk_fit(a, y)
            acc["ntk"][i, s] = float(np.mean(np.where(ntk.predict(at) > 0, 1.0, -1.0) == yt))
            if example is None and n == sizes[-1]:
                example = (a, y, clf, res, ntk)
        rep.detail(f"  n={n}: " + ", ".join(
            f"{k} {acc[k][i].mean():.3f}+-{acc[k][i].std():.3f}" for k in acc))
    bayes = _bayes_accuracy(np.random.default_rng(random_state + 12345),
                            n=20000 if quick else 200000)
    rep(f"test accuracy, mean +- std over {n_seeds} data sets (test size {n_test}); "
        f"beta={BETA:g}; GD m={m}, init std {std:g}, {gd_iter} steps; Bayes accuracy "
        f"~{bayes:.3f}")
    rep("    n_train:     " + "  ".join(f"{n:>12d}" for n in sizes))
    names = {"ours": "ours (exact)", "gd": "GD", "ntk": "NTK"}
    for k in acc:
        rep(f"    {names[k]:<13s}" + "  ".join(
            f"{acc[k][i].mean():.3f}+-{acc[k][i].std():.3f}" for i in range(len(sizes))))
    diff = acc["ours"] - acc["gd"]
    rep(f"    ours - GD (paired): mean {diff.mean():+.4f}; ours - NTK: "
        f"{(acc['ours'] - acc['ntk']).mean():+.4f}")
    out = dict(sizes=sizes, n_seeds=n_seeds, n_test=n_test, beta=BETA, bayes_accuracy=bayes,
               mean_difference_ours_minus_gd=float(diff.mean()))
    for k in acc:
        out[k] = dict(mean=acc[k].mean(axis=1).tolist(), std=acc[k].std(axis=1).tolist())

    if plot is not None:
        plt = pyplot()
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
        ax = axes[0]
        if example is not None:
            a, y, clf, res, ntk = example
            grid = np.linspace(-3.5, 3.5, 700)
            ax.scatter(a, y, c=np.where(y > 0, "C2", "C3"), s=12, edgecolor="k", zorder=5)
            ax.plot(grid, clf.decision_function(grid[:, None]), "C2", lw=2, label="ours")
            ax.plot(grid, res.predict(grid[:, None]), "C3--", lw=1.3, label="GD")
            ax.plot(grid, np.clip(ntk.predict(grid), -3, 3), "C0", lw=1, label="NTK")
            ax.set_ylim(-3, 3)
            ax.set_title(f"(a) samples and fits, n={a.size}", fontsize=10)
            ax.legend(fontsize=8)
        ax = axes[1]
        for k, col in zip(acc, ("C2", "C3", "C0")):
            mu, sd = acc[k].mean(axis=1), acc[k].std(axis=1)
            ax.plot(sizes, mu, "o-", color=col, label=names[k])
            ax.fill_between(sizes, mu - sd, mu + sd, color=col, alpha=0.15)
        ax.axhline(bayes, color="gray", ls=":", label="Bayes")
        ax.set_xscale("log")
        ax.set_xlabel("training size n")
        ax.set_ylabel("test accuracy")
        ax.set_title("(b) test accuracy, mean +- std", fontsize=10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        save(fig, plot, rep)
    out["lines"] = rep.lines
    return out
