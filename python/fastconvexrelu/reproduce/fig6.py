r"""Figure 6: primal value of width-``m`` networks vs the dual value, as ``m`` grows.

Three regression data sets, each with ``beta = 0`` (minimum-norm interpolation, problem (4))
and ``beta = 1e-3`` (regularized, problem (16)):

(a) the 1-D set of Figure 1b (hidden biases and an intercept);
(b) rank-one data ``A = c a^T`` with ``n = 15``, ``d = 10`` (biases and intercept);
(c) whitened Gaussian data (``A A^T = I``), ``n = 30``, ``d = 40`` (no biases).

**Dual value** ``D``: a certified lower bound on the optimum over networks of any width —
for (a), (b) the exact solver :class:`~fastconvexrelu.ConvexReLURegressor`
(``objective_ - duality_gap_``); for (c) the closed form of Lemma 3.1 / Lemma 3.2 with its
explicit dual vector :math:`v \propto (y)_+/\|(y)_+\| - (-y)_+/\|(-y)_+\|`, whose constraint
:math:`\max_{\|u\|\le1}|v^\top(Au)_+| = \max(\|(v)_+\|, \|(-v)_+\|)` is exact for
:math:`AA^\top = I`.

**Primal value at width m** ``P_m``: the convex problem restricted to ``m`` extreme-point
neurons chosen in **cutting-plane order** (Algorithm 1 with the exact oracle): starting from
no neuron, each round adds the single neuron that most violates the dual constraint
:math:`|v^\top (Au + b1)_+| \le \beta` (``1`` for ``beta = 0``) at the current dual vector
``v`` (the residual for ``beta > 0``, the LP multipliers for ``beta = 0``; while the
restricted equality problem is infeasible, the least-squares residual, a Farkas
direction), then re-solves the restricted problem exactly (LP / lasso).  For (a), (b) the
oracle searches the finite set of extreme points (Lemma 2.6, Corollary 3.4); for (c) it is
the closed form :math:`u = A^\top(\pm v)_+/\|(\pm v)_+\|` (exact for whitened data).  ``P_m``
is the objective of an actual width-``m`` network, hence an upper bound on the best width-``m``
network (not necessarily the best one); for ``beta = 0`` it is undefined (``None``) until the
chosen neurons can interpolate.  The gap ``P_m - D`` reaches 0 once no neuron violates the
dual constraint (Theorem 3.3, Corollaries 3.3, 3.5, 3.6).
"""

from __future__ import annotations

import numpy as np

from ._common import Report, check_plot, fig1_data, lasso, min_l1_interpolation, pyplot, save

__all__ = ["run", "cutting_plane_path"]

BETAS = (0.0, 1e-3)


def _restricted(Phi, y, beta, intercept):
    """Exact restricted problem: (value, f, v) or None (beta = 0 and infeasible)."""
    if beta == 0:
        sol = min_l1_interpolation(Phi, y, intercept=intercept)
        if sol is None:
            return None
        val, w, c, v = sol
        return val, Phi @ w + c, v
    val, w, c, v = lasso(Phi, y, beta, intercept=intercept)
    return val, Phi @ w + c, v


def _farkas(Phi, y, intercept):
    """Least-squares residual of y on span([1,] Phi): orthogonal to the chosen columns."""
    n = y.size
    blocks = ([np.ones((n, 1))] if intercept else []) + ([Phi] if Phi.shape[1] else [])
    if not blocks:
        return y.copy()
    B = np.hstack(blocks)
    return y - B @ np.linalg.lstsq(B, y, rcond=None)[0]


def cutting_plane_path(oracle, y, beta, intercept, max_m, rtol=1e-9, dual=None):
    r"""Primal values ``P_m`` of Algorithm 1 with an exact oracle, one neuron per round.

    ``oracle(v, taken)`` returns ``(value, column, key)``: the activation column
    :math:`(Au+b1)_+` of a unit neuron maximizing :math:`|v^\top(Au+b1)_+|` and an id (neurons
    with ids in ``taken`` are skipped).  The path stops when no neuron violates the dual
    constraint, or when ``P_m`` meets the certified lower bound ``dual`` (relative ``rtol``;
    the restricted LP's multipliers need not be globally dual feasible even at a primal
    optimum, so the oracle alone may keep adding useless neurons).  Returns ``(widths,
    values, converged)``; values are ``None`` where the restricted equality problem is
    infeasible.
    """
    n = y.size
    bound = 1.0 if beta == 0 else beta
    cols, keys, widths, values = [], [], [], []
    Phi = np.zeros((n, 0))
    if beta > 0:
        cur = _restricted(Phi, y, beta, intercept)
    else:  # no neuron: feasible only for a constant (intercept) or zero target
        const = np.full(n, y.mean()) if intercept else np.zeros(n)
        cur = (0.0, const, np.zeros(n)) if np.allclose(y, const, rtol=0, atol=1e-12) else None
    converged = False
    for _ in range(max_m):
        if cur is None:
            v, feasible = _farkas(Phi, y, intercept), False
        else:
            v, feasible = cur[2], True
        val, col, key = oracle(v, set(keys))
        if col is None or (feasible and val <= bound * (1 + rtol)) or (not feasible and val <= 1e-12):
            converged = feasible
            break
        cols.append(col)
        keys.append(key)
        Phi = np.column_stack(cols)
        cur = _restricted(Phi, y, beta, intercept)
        widths.append(len(cols))
        values.append(None if cur is None else float(cur[0]))
        if cur is not None and dual is not None and cur[0] - dual <= rtol * max(1.0, abs(dual)):
            converged = True
            break
    else:
        # max_m reached: check optimality once more
        if cur is not None:
            val, col, _ = oracle(cur[2], set(keys))
            converged = col is None or val <= bound * (1 + rtol)
    return widths, values, converged


def _dictionary_oracle(Phi_all):
    norms = np.linalg.norm(Phi_all, axis=0)

    def oracle(v, taken):
        scores = np.abs(Phi_all.T @ v)
        scores[norms == 0] = -np.inf
        if taken:
            scores[list(taken)] = -np.inf
        j = int(np.argmax(scores))
        if not np.isfinite(scores[j]):
            return 0.0, None, None
        return float(scores[j]), Phi_all[:, j], j

    return oracle


def _whitened_oracle(A):
    def oracle(v, taken):
        best = (0.0, None, None)
        for sgn in (1.0, -1.0):
            p = np.maximum(sgn * v, 0.0)
            nv = float(np.linalg.norm(p))
            if nv == 0:
                continue
            u = A.T @ p / nv
            key = tuple(np.round(u, 12))
            if key in taken:
                continue
            if nv > best[0]:
                best = (nv, np.maximum(A @ u, 0.0), key)
        return best

    return oracle


def _certified_line(X, y, beta, bias=True):
    """(P*, D) from the exact solver for 1-D / rank-one data."""
    from .._estimators import ConvexReLURegressor

    est = ConvexReLURegressor(beta=beta, bias=bias, tol=1e-10, max_iter=500).fit(X, y)
    return float(est.objective_), float(est.objective_ - est.duality_gap_), est


def _certified_whitened(A, y, beta):
    """(P*, D) for whitened data: closed-form network and its explicit dual vector."""
    from .._objective import network_objective
    from ..closed_form import closed_form_network

    yp, ym = np.maximum(y, 0.0), np.maximum(-y, 0.0)
    npos, nneg = float(np.linalg.norm(yp)), float(np.linalg.norm(ym))
    if beta == 0:
        net = closed_form_network(A, y)  # Lemma 3.1 (optimal for whitened data, Lemma 3.2)
        P = network_objective(A, y, net.hidden_weights, None, net.output_weights, None, 0.0,
                              "squared")
        v = yp / npos - ym / nneg
        scale = 1.0 / max(np.linalg.norm(np.maximum(v, 0)), np.linalg.norm(np.maximum(-v, 0)))
        D = float(scale * v @ y)
    else:
        U = np.column_stack([A.T @ yp / npos, A.T @ ym / nneg])
        w = np.array([max(npos - beta, 0.0), -max(nneg - beta, 0.0)])
        P = network_objective(A, y, U, None, w, None, beta, "squared")
        v = min(npos, beta) * yp / npos - min(nneg, beta) * ym / nneg
        cons = max(np.linalg.norm(np.maximum(v, 0)), np.linalg.norm(np.maximum(-v, 0)))
        v = v * min(1.0, beta / cons) if cons > 0 else v
        D = float(v @ y - 0.5 * v @ v)
    return float(P), D


def run(quick=False, plot=None, random_state=0, verbose=False):
    """Reproduce Figure 6 (see the module docstring).

    Returns ``{"datasets": {name: {"beta=0": {...}, "beta=0.001": {...}}}, ...}`` with, per
    case, ``widths``, ``primal`` (``None`` = infeasible width), ``dual``, ``gap``,
    ``optimum`` (certified objective), ``final_gap`` and ``converged``.
    """
    check_plot(plot)
    from ..extreme_points import extreme_points_1d, extreme_points_rank_one
    from ..whitening import whiten

    rep = Report("Figure 6: primal (cutting-plane order) vs dual value as the width grows",
                 verbose)
    rng = np.random.default_rng(random_state)
    n_r1, d_r1 = (8, 5) if quick else (15, 10)
    n_w, d_w = (10, 14) if quick else (30, 40)

    # (a) 1-D data of Figure 1b
    x, y1 = fig1_data()
    X1 = x[:, None]
    U1, b1 = extreme_points_1d(x)
    # (b) rank-one data
    c = rng.standard_normal(n_r1)
    a = rng.standard_normal(d_r1)
    Xr = np.outer(c, a)
    yr = rng.standard_normal(n_r1)
    Ur, br = extreme_points_rank_one(Xr, bias=True)
    # (c) whitened data
    Aw = whiten(rng.standard_normal((n_w, d_w)))
    yw = rng.standard_normal(n_w)

    datasets = {
        "1d": dict(label=f"1-D (n={x.size})", X=X1, y=y1, Phi=np.maximum(X1 @ U1 + b1, 0.0),
                   intercept=True),
        "rank_one": dict(label=f"rank-one (n={n_r1}, d={d_r1})", X=Xr, y=yr,
                         Phi=np.maximum(Xr @ Ur + br, 0.0), intercept=True),
        "whitened": dict(label=f"whitened (n={n_w}, d={d_w})", X=Aw, y=yw, Phi=None,
                         intercept=False),
    }
    out = {"datasets": {}, "primal_method": "cutting-plane order over exact extreme points "
           "(Algorithm 1, exact oracle), restricted problem solved exactly"}
    for name, ds in datasets.items():
        res_ds = {"label": ds["label"]}
        for beta in BETAS:
            if name == "whitened":
                P_opt, D = _certified_whitened(ds["X"], ds["y"], beta)
                oracle = _whitened_oracle(ds["X"])
                max_m = 10
            else:
                P_opt, D, _ = _certified_line(ds["X"], ds["y"], beta)
                oracle = _dictionary_oracle(ds["Phi"])
                max_m = ds["Phi"].shape[1]
            widths, values, conv = cutting_plane_path(oracle, ds["y"], beta, ds["intercept"],
                                                      max_m, dual=D)
            gaps = [None if v is None else float(v - D) for v in values]
            final = gaps[-1] if gaps else None
            first = next((w for w, v in zip(widths, values) if v is not None), None)
            key = f"beta={beta:g}"
            res_ds[key] = dict(widths=widths, primal=values, dual=D, gap=gaps, optimum=P_opt,
                               certified_gap=float(P_opt - D), final_gap=final,
                               converged=bool(conv), first_feasible_width=first)
            shown = ", ".join(
                f"m={w}: " + ("infeasible" if v is None else f"{v:.6g}")
                for w, v in zip(widths, values))
            rep(f"{ds['label']}, beta={beta:g}: dual D = {D:.8g} (certified optimum "
                f"{P_opt:.8g}); P_m - D -> {final:.2e} at m = {widths[-1]} "
                f"({'optimal' if conv else 'NOT converged'})")
            rep.detail(f"    P_m: {shown}")
        out["datasets"][name] = res_ds

    if plot is not None:
        plt = pyplot()
        fig, axes = plt.subplots(2, 3, figsize=(13, 7))
        for col, (name, res_ds) in enumerate(out["datasets"].items()):
            m_max = max(max(res_ds[f"beta={b:g}"]["widths"] or [1]) for b in BETAS) + 1
            for beta, color in zip(BETAS, ("C0", "C3")):
                r = res_ds[f"beta={beta:g}"]
                wv = [(w, v) for w, v in zip(r["widths"], r["primal"]) if v is not None]
                if wv:
                    ws, vs = zip(*wv)
                    axes[0, col].semilogy(ws, vs, "o-", color=color, ms=4,
                                          label=f"primal P_m, beta={beta:g}")
                    if r["converged"] and ws[-1] < m_max:  # wider: same optimum
                        axes[0, col].semilogy([ws[-1], m_max], [vs[-1], vs[-1]], ":",
                                              color=color)
                    gv = np.maximum(np.array(vs) - r["dual"], 1e-16)
                    axes[1, col].semilogy(ws, gv, "o-", color=color, ms=4,
                                          label=f"beta={beta:g}")
                axes[0, col].axhline(r["dual"], color=color, ls="--", lw=1,
                                     label=f"dual D, beta={beta:g}")
                axes[0, col].xaxis.get_major_locator().set_params(integer=True)
                axes[1, col].xaxis.get_major_locator().set_params(integer=True)
            axes[0, col].set_title(res_ds["label"], fontsize=10)
            axes[0, col].set_xlabel("width m")
            axes[1, col].set_xlabel("width m")
            axes[0, col].legend(fontsize=7)
            axes[1, col].legend(fontsize=7)
        axes[0, 0].set_ylabel("objective")
        axes[1, 0].set_ylabel("duality gap P_m - D (floored at 1e-16)")
        fig.suptitle("Figure 6: primal (cutting-plane order, exact restricted problem) vs dual",
                     fontsize=11)
        fig.tight_layout()
        save(fig, plot, rep)
    out["lines"] = rep.lines
    return out
