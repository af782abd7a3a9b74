r"""Figures 2-4: the rectified ellipsoid, its spike-free relaxation and the dual set in 2-D.

For ``A`` in :math:`\mathbb R^{2\times 2}` (two samples, so the sets live in the plane):

* :math:`\mathcal Q_A = \{(Au)_+ : \|u\|_2\le1\}` (Section 2.2), sampled with
  :func:`fastconvexrelu.rectified_ellipsoid`;
* its spike-free relaxation :math:`A\mathcal B_2\cap\mathbb R^2_+\subseteq\mathcal Q_A`;
* the dual constraint set of (12), :math:`\mathcal D = \mathcal Q_A^\circ\cap(-\mathcal Q_A^\circ)
  = \{v : |v^\top z|\le1\ \forall z\in\mathcal Q_A\}` (the polar set of Figures 3-4, made
  symmetric as in (12)); its radial function is :math:`1/h(\theta)` with
  :math:`h(\theta) = \max_{z\in\mathcal Q_A}|\theta^\top z|`, computed exactly with
  :func:`fastconvexrelu.extreme_point`.

Three matrices with unit rows at angle ``phi`` (``a_1 = e_1``, ``a_2 = 0.8 (cos phi, sin phi)``):
``phi = 60`` deg (acute: spike-free, Figure 2), ``phi = 115`` deg (spikes along the axes,
the hull keeps part of the ellipse so the dual set has smooth and non-smooth faces, Figure 3)
and ``phi = 150`` deg (long spikes whose hull is the triangle
:math:`\mathrm{conv}\{0, \|a_1\|e_1, \|a_2\|e_2\}`, so the dual set is a rectangle, Figure 4).
Reported: the spike-free ratio of Lemma 2.3 (exact), the extreme points along
:math:`e_1, e_2` (support values :math:`\max z_i = \|a_i\|`; for spiky matrices these are
the spike tips :math:`\|a_i\|e_i`) vs the relaxation's support values, whether the hull of
:math:`\mathcal Q_A` is that triangle (:math:`\max_{z\in\mathcal Q_A} z_1/\|a_1\| +
z_2/\|a_2\| \le 1`), and the largest relative difference between the dual set and the box
:math:`[-1/\|a_1\|, 1/\|a_1\|]\times[-1/\|a_2\|, 1/\|a_2\|]`.
"""

from __future__ import annotations

import numpy as np

from ._common import Report, check_plot, pyplot, save

__all__ = ["run", "MATRICES"]

ANGLES = {"fig2 (spike-free)": 60.0, "fig3 (spikes)": 115.0, "fig4 (triangle hull)": 150.0}


def _matrix(phi_deg):
    p = np.deg2rad(phi_deg)
    return np.array([[1.0, 0.0], [0.8 * np.cos(p), 0.8 * np.sin(p)]])


MATRICES = {k: _matrix(v) for k, v in ANGLES.items()}


def _support(A, alpha, method="exact", point=False):
    from ..extreme_point import extreme_point

    ep = extreme_point(A, alpha, method=method)
    return (ep.value, np.maximum(A @ ep.u, 0.0)) if point else ep.value


def run(quick=False, plot=None, random_state=0, verbose=False):
    r"""Reproduce Figures 2-4 (see the module docstring).

    Returns ``{"matrices": {name: {...}}}`` with per matrix: ``A``, ``angle_deg``,
    ``spike_free_ratio``, ``spike_free``, ``support_e`` (exact :math:`\max z_i` over
    :math:`\mathcal Q_A`, i = 1, 2), ``relaxation_support_e`` (the same over the relaxation),
    ``extreme_points_e`` (the maximizers), ``hull_is_triangle`` (and ``triangle_value``),
    ``dual_box_deviation``.
    """
    check_plot(plot)
    from ..rectified_ellipsoid import rectified_ellipsoid
    from ..spike_free import spike_free_ratio

    rep = Report("Figures 2-4: rectified ellipsoid Q_A, spike-free relaxation, dual set", verbose)
    n_theta = 120 if quick else 720
    n_samples = 300 if quick else 3000
    out = {"matrices": {}}
    pics = {}
    for name, A in MATRICES.items():
        norms = np.linalg.norm(A, axis=1)
        r = spike_free_ratio(A)
        tips, tip_pts = zip(*[_support(A, e, point=True) for e in np.eye(2)])
        relax = [_support(A, e, "relaxation") for e in np.eye(2)]
        tri = _support(A, 1.0 / norms)
        theta = np.linspace(0, 2 * np.pi, n_theta, endpoint=False)
        dirs = np.column_stack([np.cos(theta), np.sin(theta)])
        h = np.array([max(_support(A, d), _support(A, -d)) for d in dirs])
        radial = 1.0 / h
        # radial function of the box [-1/|a1|, 1/|a1|] x [-1/|a2|, 1/|a2|]
        with np.errstate(divide="ignore"):
            box = np.minimum(np.where(np.abs(dirs[:, 0]) > 0, 1 / (norms[0] * np.abs(dirs[:, 0])),
                                      np.inf),
                             np.where(np.abs(dirs[:, 1]) > 0, 1 / (norms[1] * np.abs(dirs[:, 1])),
                                      np.inf))
        box_dev = float(np.max(np.abs(radial - box) / box))
        res = dict(A=A.tolist(), angle_deg=ANGLES[name], spike_free_ratio=float(r.value),
                   ratio_exact=bool(r.exact), spike_free=bool(r.spike_free),
                   support_e=[float(t) for t in tips], relaxation_support_e=[float(t) for t in relax],
                   extreme_points_e=[p.tolist() for p in tip_pts],
                   row_norms=norms.tolist(), triangle_value=float(tri),
                   hull_is_triangle=bool(tri <= 1 + 1e-9), dual_box_deviation=box_dev)
        out["matrices"][name] = res
        rep(f"{name}: angle {ANGLES[name]:g} deg, spike-free ratio {r.value:.6f} "
            f"({'exact' if r.exact else 'lower bound'}) -> spike-free={r.spike_free}; "
            f"max z_1, max z_2 over Q_A: {tips[0]:.4f}, {tips[1]:.4f} (relaxation "
            f"{relax[0]:.4f}, {relax[1]:.4f}); hull = triangle: {res['hull_is_triangle']} "
            f"(max z1/|a1|+z2/|a2| = {tri:.4f}); dual set vs box: max rel. diff {box_dev:.3f}")
        if plot is not None:
            pics[name] = (rectified_ellipsoid(A, n_samples, random_state=random_state),
                          dirs * radial[:, None])

    if plot is not None:
        plt = pyplot()
        fig, axes = plt.subplots(3, 3, figsize=(12, 12))
        for row, (name, (pts, dual)) in enumerate(pics.items()):
            A = MATRICES[name]
            ax = axes[row, 0]
            ax.scatter(*pts.interior.T, s=1, color="C0", alpha=0.3)
            ax.plot(*pts.boundary.T, ".", ms=1.5, color="C0")
            for tip in out["matrices"][name]["extreme_points_e"]:
                ax.plot(*tip, "r*", ms=9)
            ax.set_title(f"{name}: Q_A (red: extreme points along e1, e2)", fontsize=9)
            ax = axes[row, 1]
            ax.scatter(*pts.relaxation_interior.T, s=1, color="C2", alpha=0.3)
            if pts.relaxation_boundary.size:
                ax.plot(*pts.relaxation_boundary.T, ".", ms=1.5, color="C2")
            ax.set_title(f"spike-free relaxation A B_2 cap R^2_+ "
                         f"(ratio {out['matrices'][name]['spike_free_ratio']:.3f})", fontsize=9)
            ax = axes[row, 2]
            closed = np.vstack([dual, dual[:1]])
            ax.fill(closed[:, 0], closed[:, 1], color="C1", alpha=0.3)
            ax.plot(closed[:, 0], closed[:, 1], color="C1")
            ax.set_title("dual set {v : |v^T z| <= 1 for z in Q_A}", fontsize=9)
            for ax in axes[row]:
                ax.set_aspect("equal")
                ax.axhline(0, color="gray", lw=0.5)
                ax.axvline(0, color="gray", lw=0.5)
            lim = 1.1 * max(np.linalg.norm(A, axis=1))
            for ax in axes[row, :2]:
                ax.set_xlim(-0.1, lim)
                ax.set_ylim(-0.1, lim)
        fig.tight_layout()
        save(fig, plot, rep)
    out["lines"] = rep.lines
    return out
