r"""Theorems 3.4 and 3.6 on i.i.d. Gaussian data ``A`` (n x d), as d grows for fixed n.

**Theorem 3.4** (asymptotically spike-free): the empirical frequency of
:math:`\rho(A) = \max_{\|u\|\le1}\|A^\dagger(Au)_+\|_2 \le 1` (Lemma 2.3, eq. (7); ``A`` has
full row rank for ``d >= n``), computed with :func:`fastconvexrelu.spike_free_ratio`.  Exact
(face enumeration) only for small ``n``; for larger ``n`` only a lower bound on
:math:`\rho` is available, which can certify "not spike-free" (bound > 1) but never
"spike-free" (unless :math:`\sigma_{\max}/\sigma_{\min}\le1`), so those counts are reported
separately as certified-not / undecided.  Also reported: the median of :math:`\rho` and of its
upper bound :math:`\sigma_{\max}/\sigma_{\min}` (both tend to 1), and how often all rows
are pairwise non-obtuse (:math:`a_i^\top a_j\ge0`).  Note: exact spike-freeness
:math:`\rho\le1` does *not* become likely — for ``n = 2`` it is exactly "the rows make a
non-obtuse angle", probability 1/2 for every ``d``, and empirically it tracks the pairwise
non-obtuse event, whose probability tends to :math:`2^{-n(n-1)/2}` as ``d`` grows — so what
tends to 1 is :math:`\rho` itself (in probability), not :math:`P[\rho\le1]` as the
statement of Theorem 3.4 reads.

**Theorem 3.6** (all rows are hull vertices): the frequency of "every row of ``A`` is a
vertex of the convex hull of the rows" (distance of each row to the hull of the others
> 0, :func:`fastconvexrelu.hull_neurons`; a SciPy LP if that is unavailable), with the
sufficient threshold :math:`d > 4n\log^2(n-1)` of the theorem.  By Theorem 3.5 the ``n``
hull neurons then interpolate any labels; the training residual of
:func:`interpolating_network` is reported at the largest ``d``.
"""

from __future__ import annotations

import math

import numpy as np

from ._common import Report, check_plot, pyplot, save

__all__ = ["run", "all_vertices", "threshold_36"]


def threshold_36(n):
    """The sufficient dimension of Theorem 3.6: ``4 n log^2(n - 1)``."""
    return 4.0 * n * math.log(n - 1) ** 2


def _vertices_lp(X):
    """Fallback: is each row outside the convex hull of the others (LP feasibility)?"""
    from scipy.optimize import linprog

    n = X.shape[0]
    out = np.ones(n, dtype=bool)
    for i in range(n):
        others = np.delete(X, i, axis=0)
        A_eq = np.vstack([others.T, np.ones((1, n - 1))])
        b_eq = np.concatenate([X[i], [1.0]])
        res = linprog(np.zeros(n - 1), A_eq=A_eq, b_eq=b_eq, bounds=[(0, None)] * (n - 1),
                      method="highs")
        out[i] = res.status != 0  # infeasible: a_i is not a convex combination -> vertex
    return out


def all_vertices(X):
    """``(all rows are hull vertices, method)``."""
    try:
        from ..hull_neurons import hull_neurons
    except ImportError:  # pragma: no cover - hull_neurons ships with the package
        return bool(np.all(_vertices_lp(X))), "LP"
    _, _, dist = hull_neurons(X)
    return bool(np.all(dist > 0)), "hull_neurons"


def run(quick=False, plot=None, random_state=0, verbose=False):
    """Reproduce Theorems 3.4 and 3.6 empirically (see the module docstring).

    Returns ``thm34`` (per ``n``: ``d``, ``spike_free`` (exact count), ``not_spike_free``
    (certified), ``undecided``, ``exact`` (how many were exact), ``median_ratio``,
    ``median_cond``, ``trials``) and ``thm36`` (``n``, ``d``, ``p_all_vertices``,
    ``threshold``, ``trials``, ``interpolation_residual``).
    """
    check_plot(plot)
    from ..spike_free import spike_free_ratio

    rep = Report("Theorems 3.4 / 3.6: Gaussian data, spike-free and hull-vertex frequencies",
                 verbose)
    rng = np.random.default_rng(random_state)
    if quick:
        ns34, mults, T34, nsamp = [3, 8], [1, 4, 16], 6, 2000
        n36, d36, T36 = 8, [2, 3, 4, 6, 8], 6
    else:
        ns34, mults, T34, nsamp = [4, 12], [1, 2, 4, 8, 16, 32, 64], 50, 20000
        n36, d36, T36 = 20, [2, 3, 4, 5, 6, 8, 10, 12, 15, 19, 20, 40], 50

    # ------------------------------------------------------------------ Theorem 3.4
    out34 = {}
    for n in ns34:
        rows = dict(d=[], spike_free=[], not_spike_free=[], undecided=[], exact=[],
                    median_ratio=[], median_cond=[], frac_ratio_le_1_05=[],
                    pairwise_nonobtuse=[], limit_pairwise=2.0 ** (-n * (n - 1) / 2),
                    trials=T34)
        for mult in mults:
            d = n * mult
            sf = nsf = und = ex = acute = 0
            ratios, conds = [], []
            for _ in range(T34):
                A = rng.standard_normal((n, d))
                r = spike_free_ratio(A, n_samples=nsamp, random_state=int(rng.integers(1 << 31)))
                ex += r.exact
                sf += r.spike_free is True
                nsf += r.spike_free is False
                und += r.spike_free is None
                ratios.append(r.value)
                G = A @ A.T
                acute += bool(np.all(G[np.triu_indices(n, 1)] >= 0))
                s = np.linalg.svd(A, compute_uv=False)
                conds.append(s[0] / s[-1])
            rows["d"].append(d)
            for k, v in (("spike_free", sf), ("not_spike_free", nsf), ("undecided", und),
                         ("exact", ex), ("pairwise_nonobtuse", acute)):
                rows[k].append(int(v))
            rows["median_ratio"].append(float(np.median(ratios)))
            rows["median_cond"].append(float(np.median(conds)))
            rows["frac_ratio_le_1_05"].append(float(np.mean(np.array(ratios) <= 1.05)))
        out34[str(n)] = rows
        kind = ("exact (face enumeration)" if all(e == T34 for e in rows["exact"]) else
                "partly lower bounds (sampling)" if any(rows["exact"]) else
                "lower bounds only (sampling)")
        rep(f"Thm 3.4, n={n}, {T34} trials per d, ratio {kind}:")
        rep("    d:                " + " ".join(f"{d:>6d}" for d in rows["d"]))
        rep("    spike-free (rho<=1):" + " ".join(f"{v:>6d}" for v in rows["spike_free"]))
        rep("    certified not:    " + " ".join(f"{v:>6d}" for v in rows["not_spike_free"]))
        rep("    undecided:        " + " ".join(f"{v:>6d}" for v in rows["undecided"]))
        rep("    pairwise a_i.a_j>=0:" + " ".join(f"{v:>6d}" for v in rows["pairwise_nonobtuse"])
            + f"   (limit frequency 2^(-n(n-1)/2) = {rows['limit_pairwise']:.3g})")
        rep("    median rho:       " + " ".join(f"{v:6.3f}" for v in rows["median_ratio"]))
        rep("    median smax/smin: " + " ".join(f"{v:6.2f}" for v in rows["median_cond"]))

    # ------------------------------------------------------------------ Theorem 3.6
    thr = threshold_36(n36)
    ds = sorted(set(d36 + [int(math.floor(thr)) + 1]))
    p_all, method = [], None
    for d in ds:
        hits = 0
        for _ in range(T36):
            ok, method = all_vertices(rng.standard_normal((n36, d)))
            hits += ok
        p_all.append(hits / T36)
    resid = None
    try:
        from ..hull_neurons import interpolating_network

        A = rng.standard_normal((n36, ds[-1]))
        yv = rng.standard_normal(n36)
        net = interpolating_network(A, yv)
        resid = float(np.max(np.abs(net.predict(A) - yv)))
    except ImportError:  # pragma: no cover
        pass
    out36 = dict(n=n36, d=ds, p_all_vertices=p_all, threshold=thr, trials=T36,
                 method=method, interpolation_residual=resid)
    first = next((d for d, p in zip(ds, p_all) if p == 1.0), None)
    rep(f"Thm 3.6, n={n36}, {T36} trials per d ({method}); sufficient threshold "
        f"4 n log^2(n-1) = {thr:.1f}:")
    rep("    d:              " + " ".join(f"{d:>5d}" for d in ds))
    rep("    P[all vertices]:" + " ".join(f"{p:5.2f}" for p in p_all))
    rep(f"    all trials are vertex sets from d = {first} on (n points in general position "
        f"with d >= n-1 = {n36 - 1} always are); the theorem's threshold is conservative."
        + (f" Theorem 3.5 network at d={ds[-1]}: max training residual {resid:.1e}."
           if resid is not None else ""))
    out = dict(thm34=out34, thm36=out36)

    if plot is not None:
        plt = pyplot()
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))
        ax = axes[0]
        for (n, rows), col in zip(out34.items(), ("C0", "C1")):
            d = np.array(rows["d"])
            ax.plot(d, np.array(rows["spike_free"]) / T34, "o-", color=col,
                    label=f"n={n}: P[rho <= 1] (certified)")
            ax.plot(d, 1 - np.array(rows["not_spike_free"]) / T34, "s:", color=col,
                    label=f"n={n}: 1 - P[certified rho > 1]")
            ax.plot(d, rows["frac_ratio_le_1_05"], "^--", color=col, alpha=0.6,
                    label=f"n={n}: P[rho (or its lower bound) <= 1.05]")
        ax.set_xscale("log")
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel("d")
        ax.set_ylabel("frequency")
        ax.set_title("Theorem 3.4: Gaussian A spike-free?", fontsize=10)
        ax.legend(fontsize=7)
        ax = axes[1]
        ax.plot(ds, p_all, "o-", label=f"n={n36}: P[every row is a hull vertex]")
        ax.axvline(thr, color="C3", ls="--", label=f"4 n log^2(n-1) = {thr:.0f}")
        ax.axvline(n36 - 1, color="gray", ls=":", label="d = n - 1")
        ax.set_xscale("log")
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel("d")
        ax.set_title("Theorem 3.6: rows are extreme points of their hull", fontsize=10)
        ax.legend(fontsize=7)
        fig.tight_layout()
        save(fig, plot, rep)
    out["lines"] = rep.lines
    return out
