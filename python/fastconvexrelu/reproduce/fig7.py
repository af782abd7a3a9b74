r"""Figure 7: hinge loss in 1-D — the certified optimum vs gradient descent.

Objective (18) in the library's form :math:`L_t = \sum_i (1 - y_i f_i)_+ + \beta\sum_j
|w_j|\,\|u_j\|` (biases and intercept free), on the 9-sample set of Figure 1c with
``beta = 0.1``.  ``L_t`` is the objective of :class:`~fastconvexrelu.ConvexReLUClassifier`
(exact extreme-point solver, certified duality gap).  GD (:func:`fastconvexrelu.train_gd`,
weight decay :math:`\tfrac\beta2(\|U\|^2 + \|w\|^2)`, fixed step) is run over several widths,
initialization scales and seeds; for each run:

* ``L_gd`` — the library objective of GD's final network (:math:`\le` its weight-decay
  objective, Lemma 2.1);
* ``L_gd_refit`` — the same hidden layer (GD's neurons) with the output layer and intercept
  re-optimized exactly (an LP): the best any run ending in GD's hidden layer could reach.
  Fixed-step (sub)gradient descent on the non-smooth hinge loss oscillates, so ``L_gd``
  stays a few percent above its limit; ``L_gd_refit`` separates that from a wrong basin.

A run **agrees** with the theory when ``L_gd_refit <= L_t (1 + 1e-3)`` (GD found optimal
hidden neurons) and is **stuck** when ``L_gd_refit > L_t (1 + 1e-2)``: even the best output
layer on GD's hidden neurons is at least 1 % worse than the certified optimum, a worse local
minimum of the non-convex problem (Figure 7b).  Every run satisfies ``L_t <= L_gd``.
"""

from __future__ import annotations

import numpy as np

from ._common import Report, check_plot, hinge_data_1d, hinge_fixed, pyplot, save, train_gd_safe

__all__ = ["run"]

BETA = 0.1
AGREE_RTOL = 1e-3
STUCK_RTOL = 1e-2


def _refit(res, x, y, beta):
    """Best output layer (and intercept) for GD's hidden neurons: an exact LP."""
    u, b = res.hidden_weights[0], res.hidden_bias
    Phi = np.maximum(np.outer(x, u) + b, 0.0)
    sol = hinge_fixed(Phi, y, beta, weights=np.abs(u), intercept=True)
    return sol[0] if sol is not None else float("inf")


def _gd_objective(theta, x, y, beta, m):
    """Weight-decay objective of train_gd at theta = [u (m), b (m), w (m), c]."""
    u, b, w, c = theta[:m], theta[m:2 * m], theta[2 * m:3 * m], theta[3 * m]
    f = np.maximum(np.outer(x, u) + b, 0.0) @ w + c
    return float(np.sum(np.maximum(0.0, 1 - y * f)) + 0.5 * beta * (u @ u + w @ w))


def _embed(est, gd_theta, m):
    """Our network as a balanced width-m parameter vector (slots matched to GD's neurons)."""
    u, b, w = est.hidden_weights_[0], est.hidden_bias_, est.output_weights_
    gu, gb = gd_theta[:m], gd_theta[m:2 * m]
    with np.errstate(divide="ignore", invalid="ignore"):
        gk = np.where(gu != 0, -gb / gu, np.inf)
    theta = np.zeros(3 * m + 1)
    free = list(range(m))
    for j in np.argsort(-np.abs(w)):
        if not free:
            break
        kink = -b[j] / u[j]
        cand = [i for i in free if np.sign(gu[i]) == np.sign(u[j])] or free
        i = min(cand, key=lambda s: abs(gk[s] - kink))
        free.remove(i)
        a = np.sqrt(abs(w[j]) / abs(u[j]))
        theta[i], theta[m + i], theta[2 * m + i] = a * u[j], a * b[j], w[j] / a
    theta[3 * m] = est.intercept_
    return theta


def _theta(res):
    return np.concatenate([res.hidden_weights[0], res.hidden_bias, res.output_weights,
                           [res.intercept]])


def run(quick=False, plot=None, random_state=0, verbose=False):
    """Reproduce Figure 7 (see the module docstring).

    Returns ``L_t``, ``duality_gap``, ``trials`` (one dict per GD run: ``m``, ``init_std``,
    ``seed``, ``L_gd``, ``L_gd_refit``, ``status`` in {"agrees", "stuck", "between"}),
    ``n_agree``, ``n_stuck``, ``stuck_found`` and the examples ``agree_example`` /
    ``stuck_example`` (the best / worst run by ``L_gd_refit``).
    """
    check_plot(plot)
    from .._estimators import ConvexReLUClassifier

    rep = Report("Figure 7: hinge loss, certified optimum L_t vs gradient descent L_gd", verbose)
    x, y = hinge_data_1d()
    X = x[:, None]
    est = ConvexReLUClassifier(beta=BETA, loss="hinge", tol=1e-12).fit(X, y)
    L_t = float(est.objective_)
    rep(f"data: {x.size} samples on [-2, 2], labels {y.astype(int).tolist()}, beta={BETA:g}")
    rep(f"ours (Theorem 5.2, exact): L_t = {L_t:.10g} (certified gap {est.duality_gap_:.1e}), "
        f"{est.n_active_} neurons, kinks at "
        f"{np.round(np.sort(-est.hidden_bias_ / est.hidden_weights_[0]), 4).tolist()}")

    if quick:
        widths, stds, seeds, n_iter, lr = [10], [0.5], 2, 3000, 0.005
    else:
        widths, stds, seeds, n_iter, lr = [10, 20, 40], [0.3, 1.0], 6, 20000, 0.005
    trials = []
    keep = {}
    for m in widths:
        for std in stds:
            for s in range(seeds):
                seed = random_state * 1000 + s
                res, lr_used = train_gd_safe(X, y, m=m, beta=BETA, init_std=std, lr=lr,
                                             n_iter=n_iter, loss="hinge", random_state=seed)
                L_gd = float(res.objective)
                L_ref = float(min(_refit(res, x, y, BETA), L_gd))
                status = ("agrees" if L_ref <= L_t * (1 + AGREE_RTOL) else
                          "stuck" if L_ref > L_t * (1 + STUCK_RTOL) else "between")
                t = dict(m=m, init_std=std, seed=seed, lr=lr_used, L_gd=L_gd, L_gd_refit=L_ref,
                         status=status)
                trials.append(t)
                keep[len(trials) - 1] = res
                rep.detail(f"  m={m:3d} sigma={std:<4g} seed={seed:<4d} L_gd={L_gd:.6g} "
                           f"refit={L_ref:.6g} ({status})")
    n_agree = sum(t["status"] == "agrees" for t in trials)
    n_stuck = sum(t["status"] == "stuck" for t in trials)
    ratios = np.array([t["L_gd"] / L_t for t in trials])
    rep(f"GD runs: {len(trials)} ({len(widths)} widths x {len(stds)} init scales x {seeds} "
        f"seeds, {n_iter} steps); L_t <= L_gd in all: "
        f"{all(L_t <= t['L_gd'] + 1e-9 for t in trials)}; L_gd / L_t: median "
        f"{np.median(ratios):.4f}, max {ratios.max():.4f}")
    rep(f"    agree (refit within {AGREE_RTOL:g}): {n_agree}; stuck (refit > "
        f"{1 + STUCK_RTOL:g} L_t): {n_stuck}; in between: {len(trials) - n_agree - n_stuck}")
    i_best = int(np.argmin([t["L_gd_refit"] for t in trials]))
    i_worst = int(np.argmax([t["L_gd_refit"] for t in trials]))
    best, worst = trials[i_best], trials[i_worst]
    rep(f"(a) best run  (m={best['m']}, sigma={best['init_std']:g}, seed={best['seed']}): "
        f"L_t = {L_t:.4f}, L_gd = {best['L_gd']:.4f} (refit {best['L_gd_refit']:.4f}) "
        f"-> {best['status']}")
    rep(f"(b) worst run (m={worst['m']}, sigma={worst['init_std']:g}, seed={worst['seed']}): "
        f"L_t = {L_t:.4f}, L_gd = {worst['L_gd']:.4f} (refit {worst['L_gd_refit']:.4f}) "
        f"-> {worst['status']}" + ("  [worse basin: no output layer on GD's hidden neurons reaches L_t]"
                                   if worst["status"] == "stuck" else ""))
    stuck = [t for t in trials if t["status"] == "stuck"]
    mild = min(stuck, key=lambda t: t["L_gd_refit"]) if stuck else None
    if mild is not None:
        rep(f"    mildest stuck run (m={mild['m']}, sigma={mild['init_std']:g}, "
            f"seed={mild['seed']}): L_t = {L_t:.4f}, L_gd = {mild['L_gd']:.4f}, refit "
            f"{mild['L_gd_refit']:.4f} ({100 * (mild['L_gd_refit'] / L_t - 1):.1f}% above; "
            "the paper's Figure 7b: 4.9%)")
    out = dict(beta=BETA, L_t=L_t, duality_gap=float(est.duality_gap_), trials=trials,
               n_agree=n_agree, n_stuck=n_stuck, stuck_found=n_stuck > 0,
               agree_example=best, stuck_example=worst if worst["status"] == "stuck" else None,
               mildest_stuck_example=mild)

    if plot is not None:
        plt = pyplot()
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
        grid = np.linspace(x.min() - 0.3, x.max() + 0.3, 600)
        f_ours = est.decision_function(grid[:, None])
        for ax, idx, tag in ((axes[0], i_best, "(a)"), (axes[1], i_worst, "(b)")):
            t, res = trials[idx], keep[idx]
            ax.plot(grid, f_ours, "C2", lw=2, label=f"ours, L_t={L_t:.4f}")
            ax.plot(grid, res.predict(grid[:, None]), "C3--", lw=1.5,
                    label=f"GD, L_gd={t['L_gd']:.4f}")
            ax.scatter(x, y, c=np.where(y > 0, "C2", "C3"), edgecolor="k", zorder=5)
            ax.axhline(0, color="gray", lw=0.5)
            ax.set_title(f"{tag} m={t['m']}, sigma={t['init_std']:g}: {t['status']}",
                         fontsize=10)
            ax.legend(fontsize=8)
        # (c) loss landscape of the worst run on the plane through init, GD and ours
        t, res = trials[i_worst], keep[i_worst]
        m = t["m"]
        init, _ = train_gd_safe(X, y, m=m, beta=BETA, init_std=t["init_std"], lr=t["lr"],
                                n_iter=0, loss="hinge", random_state=t["seed"])
        th_gd, th_init = _theta(res), _theta(init)
        th_opt = _embed(est, th_gd, m)
        e1 = th_opt - th_gd
        l1 = np.linalg.norm(e1)
        e1 = e1 / l1
        e2 = th_init - th_gd
        e2 = e2 - (e2 @ e1) * e1
        l2 = np.linalg.norm(e2)
        e2 = e2 / l2
        A = np.linspace(-0.3, 1.3, 61) * l1
        B = np.linspace(-0.3, 1.3, 61) * l2
        Z = np.array([[_gd_objective(th_gd + a * e1 + bb * e2, x, y, BETA, m) for a in A]
                      for bb in B])
        ax = axes[2]
        cs = ax.contourf(A, B, np.log10(Z), levels=30, cmap="viridis")
        fig.colorbar(cs, ax=ax, label="log10 weight-decay objective")
        ax.plot(0, 0, "o", color="red", label="GD solution")
        ax.plot(l1, 0, "o", color="lime", label="ours (embedded)")
        pi = th_init - th_gd
        ax.plot(pi @ e1, pi @ e2, "o", color="black", label="GD init")
        ax.set_title("(c) loss surface on the plane GD / ours / init (worst run)", fontsize=10)
        ax.legend(fontsize=7)
        fig.tight_layout()
        save(fig, plot, rep)
    out["lines"] = rep.lines
    return out
