r"""Proposition 3.1 (supplementary A.5): the minimum-norm network is not unique.

Data ``a = [-2, -1, 0, 1, 2]``, ``y = [1, -1, 1, 1, -1]``, ``beta = 0`` (minimum-norm
interpolation, problem (4)).  The paper gives two optimal networks with eight neurons
``u = [1, 1, 1, 1, -1, -1, -1, -1]``:

* ``b* = [2, 1, 0, -1, -1, 0, 1, 2]`` (kinks at the samples, Lemma 2.6) and
  ``w* = [0, 6419/5000, -3919/2500, -8581/5000, 13581/5000, -1081/2500, -1419/5000, 0]``;
* ``b^ = [2, 1, 0, -0.5, -1, 0, 0.5, 2]`` (active kinks at -1 and 0.5, *not* a sample) and
  ``w^ = [0, 4/3, 0, -10/3, 8/3, 0, -2/3, 0]``,

both with :math:`\|w\|_1 = 8`.  Here both are evaluated with
:func:`fastconvexrelu.network_objective` (``beta = 0``: the norm if the network
interpolates, ``inf`` otherwise) and compared with the certified optimum of
:class:`fastconvexrelu.ConvexReLURegressor` (``beta = 0``).

As an extra, the regularized pair ``w_1, w_2`` of A.5 (loss ``1/(2n) ||r||^2``, stated value
``1999/2500000``) is evaluated; in the library's scaling (``1/2 ||r||^2 + beta' ||w||_1``)
that is ``beta' = n beta`` and the value ``n`` times the paper's.  A.5 says ``beta = 0.1``,
but ``||w_1||_1 = 7.992`` so that would give about 0.8; the stated value is reproduced exactly
with ``beta = 1e-4`` (``1999/2500000 = 1e-4 * 7.992 + 4e-7``), which is used here.
"""

from __future__ import annotations

import numpy as np

from ._common import Report, check_plot, pyplot, save

__all__ = ["run", "NETWORKS"]

_U = np.array([1.0, 1, 1, 1, -1, -1, -1, -1])

#: the two optimal networks of the proof of Proposition 3.1 (equality constrained case)
NETWORKS = {
    "w*": (
        _U,
        np.array([2.0, 1, 0, -1, -1, 0, 1, 2]),
        np.array([0.0, 6419 / 5000, -3919 / 2500, -8581 / 5000, 13581 / 5000,
                  -1081 / 2500, -1419 / 5000, 0.0]),
    ),
    "w^": (
        _U,
        np.array([2.0, 1, 0, -0.5, -1, 0, 0.5, 2]),
        np.array([0.0, 4 / 3, 0.0, -10 / 3, 8 / 3, 0.0, -2 / 3, 0.0]),
    ),
}

# the regularized pair (beta = 0.1, loss 1/(2n)||r||^2), ten neurons
_U_REG = np.array([1.0, 1, 1, 1, 1, -1, -1, -1, -1, -1])
_B_REG = np.array([2.0, 1, 0, -0.5, -1, -1, 0, 0.5, 1, 2])
_W_REG = {
    "w_1": np.array([0.0, 3197 / 2400, -2497 / 1500, 0.0, -19997 / 12000, 31961 / 12000,
                     -997 / 3000, 0.0, -3997 / 12000, 0.0]),
    "w_2": np.array([0.0, 6170671366579219 / 4503599627370496,
                     -2655550200993077 / 2251799813685248,
                     -5057789007230947 / 4503599627370496,
                     -1201119403118935 / 1125899906842624,
                     5911730472289799 / 2251799813685248,
                     -5462523216600231 / 36028797018963968,
                     -7534050370915591 / 36028797018963968,
                     -1200697190653869 / 4503599627370496, 0.0]),
}


def run(quick=False, plot=None, random_state=0, verbose=False):
    """Reproduce Proposition 3.1: two different optimal networks, both of value 8.

    Returns a dict with ``objective_w_star``, ``objective_w_hat`` (network_objective, 8),
    ``solver_objective`` (ConvexReLURegressor(beta=0), 8), ``solver_duality_gap``, the knots of
    each network and the regularized extra (``regularized``).  ``quick`` and
    ``random_state`` have no effect (the example is deterministic and tiny).
    """
    check_plot(plot)
    from .._demo_data import proposition_3_1_data
    from .._estimators import ConvexReLURegressor
    from .._objective import network_objective

    rep = Report("Proposition 3.1 (A.5): non-unique minimum-norm networks", verbose)
    a, y = proposition_3_1_data()
    X = a[:, None]
    out = {"a": a.tolist(), "y": y.tolist()}
    for key, name in (("w*", "w_star"), ("w^", "w_hat")):
        u, b, w = NETWORKS[key]
        J = network_objective(X, y, u[None, :], b, w, 0.0, 0.0, "squared")
        f = np.maximum(np.outer(a, u) + b, 0.0) @ w
        act = w != 0
        knots = sorted(set((np.round(-b[act] / u[act], 12) + 0.0).tolist()))
        out[f"objective_{name}"] = float(J)
        out[f"max_residual_{name}"] = float(np.max(np.abs(f - y)))
        out[f"knots_{name}"] = knots
        rep(f"{key}: network_objective (beta=0) = {J:.12g}, max |f(a)-y| = "
            f"{out[f'max_residual_{name}']:.1e}, active neurons {int(act.sum())}, "
            f"kinks at {knots}")

    est = ConvexReLURegressor(beta=0.0, tol=1e-10).fit(X, y)
    solver_knots = sorted((np.round(-est.hidden_bias_ / est.hidden_weights_[0], 12) + 0.0).tolist())
    out["solver_objective"] = float(est.objective_)
    out["solver_duality_gap"] = float(est.duality_gap_)
    out["solver_knots"] = solver_knots
    out["solver_intercept"] = float(est.intercept_)
    rep(f"ConvexReLURegressor(beta=0): objective = {est.objective_:.12g}, certified gap = "
        f"{est.duality_gap_:.1e}, kinks at {solver_knots}, intercept {est.intercept_:.3g}")
    rep("=> different networks attain the certified optimum 8; w^ has its kinks at 0.5, "
        "between samples, so it is not a linear spline with kinks at the data (Prop. 3.1).")

    # extra: the regularized pair of A.5 in the library's scaling (beta = 1e-4, see docstring)
    n = a.size
    beta_paper = 1e-4
    beta_lib = beta_paper * n
    reg = {}
    for key, w in _W_REG.items():
        J = network_objective(X, y, _U_REG[None, :], _B_REG, w, 0.0, beta_lib, "squared")
        reg[key] = {"library_objective": float(J), "paper_objective": float(J / n)}
        rep.detail(f"{key} (beta=1e-4, loss 1/(2n)||r||^2): paper objective {J / n:.10g} "
                   f"(A.5: 1999/2500000 = {1999 / 2500000:.10g})")
    est_reg = ConvexReLURegressor(beta=beta_lib, tol=1e-10).fit(X, y)
    reg["solver_paper_objective"] = float(est_reg.objective_ / n)
    reg["solver_duality_gap"] = float(est_reg.duality_gap_ / n)
    reg["paper_value"] = 1999 / 2500000
    reg["beta"] = beta_paper
    out["regularized"] = reg
    rep(f"regularized extra (A.5 says beta=0.1; its value needs beta=1e-4, used here; "
        f"1/(2n) loss): w_1 -> {reg['w_1']['paper_objective']:.10g}, "
        f"w_2 -> {reg['w_2']['paper_objective']:.10g}, paper 1999/2500000 = "
        f"{1999 / 2500000:.10g}; our solver (with a free intercept) "
        f"{reg['solver_paper_objective']:.10g} (gap {reg['solver_duality_gap']:.1e})")

    if plot is not None:
        plt = pyplot()
        grid = np.linspace(-2.5, 2.5, 501)
        fig, ax = plt.subplots(figsize=(7, 4.2))
        for (key, (u, b, w)), col in zip(NETWORKS.items(), ("C0", "C1")):
            f = np.maximum(np.outer(grid, u) + b, 0.0) @ w
            ax.plot(grid, f, color=col, lw=2, label=f"{key}: $\\|w\\|_1$ = "
                    f"{out['objective_w_star' if key == 'w*' else 'objective_w_hat']:.6g}")
        ax.plot(grid, est.predict(grid[:, None]), "k:", lw=1.5,
                label=f"ConvexReLURegressor(beta=0): {est.objective_:.6g}")
        ax.scatter(a, y, color="k", zorder=5, label="data")
        ax.set_xlabel("a")
        ax.set_ylabel("f(a)")
        ax.set_title("Proposition 3.1: two optimal networks (A.5), both of norm 8", fontsize=10)
        ax.legend(fontsize=8)
        fig.tight_layout()
        save(fig, plot, rep)
    out["lines"] = rep.lines
    return out
