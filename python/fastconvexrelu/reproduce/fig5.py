r"""Figure 5 (and supplementary Figure 11b): the rectified ellipsoid and its polar set in 3-D.

For ``A`` in :math:`\mathbb R^{3\times 3}` (three samples, so the sets live in
:math:`\mathbb R^3`), as in :mod:`.fig2_5` one dimension up:

* :math:`\mathcal Q_A = \{(Au)_+ : \|u\|_2\le1\}` (Section 2.2), sampled with
  :func:`fastconvexrelu.rectified_ellipsoid`, and drawn as the image of the unit sphere;
* the symmetric polar (dual) set of (8)/(12), :math:`\mathcal D = \mathcal Q_A^\circ\cap
  (-\mathcal Q_A^\circ) = \{v : |v^\top z|\le 1\ \forall z\in\mathcal Q_A\}`, whose polar is
  :math:`\mathrm{conv}(\mathcal Q_A\cup-\mathcal Q_A)` (A.6, eq. (46)).  Its radial function
  along a unit direction :math:`\theta` is :math:`1/h(\theta)` with the support function
  :math:`h(\theta) = \max_{z\in\mathcal Q_A}|\theta^\top z| = \max(\sigma(\theta),
  \sigma(-\theta))`, :math:`\sigma(\theta) = \max_{\|u\|\le1}\theta^\top(Au)_+`, computed exactly
  by :func:`fastconvexrelu.extreme_point` (Lemma 2.8, face enumeration).

Two matrices with unit-ish rows:

* ``fig5 (spikes)``: rows with obtuse pairs (not spike-free).  The extreme points along the
  axes are the spike tips :math:`\|a_i\| e_i` (paper, Section 2.4); the polar set has smooth
  curved faces (directions whose maximizer lies on a curved ellipsoid piece of
  :math:`\mathcal Q_A`) and flat facets meeting at edges (maximizer a spike tip), as the
  caption of Figure 5 says.
* ``fig11b (spike-free)``: :math:`A = \Sigma V^\top` with orthonormal rows of :math:`V^\top`,
  spike-free (Section 2.2), so :math:`\mathcal Q_A = A\mathcal B_2\cap\mathbb R^3_+` and the
  spike-free relaxation (15) gives the exact support function.

Reported per matrix: the spike-free ratio of Lemma 2.3 (exact), the support values along
:math:`e_1, e_2, e_3` (exact vs relaxation), on a latitude-longitude grid of directions the
range of the polar set's radius, the largest relative gap between the exact support function
and the relaxation's (zero iff the relaxation is exact there), the fractions of directions on
flat facets of the polar set (maximizer a spike tip, one active ReLU) and on curved faces
(two or more active ReLUs), and a check with sampled points of :math:`\mathcal Q_A`:
:math:`\max_{z}|\theta^\top z|/h(\theta)` over the samples must be :math:`\le 1` (every sample
satisfies the polar inequality) and close to 1 (the samples reach the support).
"""

from __future__ import annotations

import numpy as np

from ._common import Report, check_plot, pyplot, save
from .fig2_5 import _support

__all__ = ["run", "MATRICES", "support_function", "direction_grid"]


def _spiky():
    # obtuse pairs (1, 2) and (1, 3): spikes along e_1, e_2, e_3; the cone {Au > 0} is not
    # empty, so Q_A also has a curved part where all three ReLUs are active
    p = np.deg2rad(115.0)
    a3 = np.array([-0.3, 0.4, 0.85])
    return np.array([[1.0, 0.0, 0.0],
                     [0.8 * np.cos(p), 0.8 * np.sin(p), 0.0],
                     0.9 * a3 / np.linalg.norm(a3)])


def _spike_free():
    # Sigma V^T with V^T orthogonal (a rotation): spike-free (Section 2.2)
    c, s = np.cos(0.5), np.sin(0.5)
    Rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    c, s = np.cos(0.7), np.sin(0.7)
    Rx = np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])
    return np.diag([1.0, 0.8, 0.6]) @ (Rx @ Rz)


MATRICES = {"fig5 (spikes)": _spiky(), "fig11b (spike-free)": _spike_free()}


def direction_grid(n_lat, n_lon):
    r"""Unit directions on a latitude-longitude grid, shape ``(n_lat, n_lon, 3)`` (poles
    excluded: latitudes at the midpoints of ``n_lat`` equal bands)."""
    lat = (np.arange(n_lat) + 0.5) / n_lat * np.pi - np.pi / 2
    lon = np.linspace(0.0, 2 * np.pi, n_lon, endpoint=False)
    La, Lo = np.meshgrid(lat, lon, indexing="ij")
    return np.stack([np.cos(La) * np.cos(Lo), np.cos(La) * np.sin(Lo), np.sin(La)], axis=-1)


def support_function(A, theta, method="exact"):
    r"""``(h, n_active)``: :math:`h(\theta) = \max_{z\in\mathcal Q_A}|\theta^\top z|` (exact by
    default, or with the spike-free relaxation, a lower bound) and the number of active ReLUs
    at the maximizer (1: a spike tip :math:`\|a_i\|e_i`, a vertex of
    :math:`\mathrm{conv}(\mathcal Q_A\cup-\mathcal Q_A)` whose normal cone maps to a flat
    facet :math:`|v_i| = 1/\|a_i\|` of the polar set; more: a curved piece of the ellipsoid,
    a smooth curved face of the polar set)."""
    from ..extreme_point import extreme_point

    best, n_active = -np.inf, 0
    for sgn in (1.0, -1.0):
        ep = extreme_point(A, sgn * np.asarray(theta, float), method=method)
        if ep.value > best:
            best, n_active = ep.value, int(np.count_nonzero(ep.active))
    return float(best), n_active


def run(quick=False, plot=None, random_state=0, verbose=False):
    r"""Reproduce Figure 5 and supplementary Figure 11b (see the module docstring).

    Returns ``{"matrices": {name: {...}}}`` with per matrix: ``A``, ``spike_free_ratio``,
    ``spike_free``, ``support_e`` and ``relaxation_support_e`` (:math:`\max z_i` over
    :math:`\mathcal Q_A` and over the relaxation), ``extreme_points_e``, ``directions``
    (``(k, 3)`` list), ``support`` (exact :math:`h` on them), ``polar_radius_min/max``,
    ``relaxation_gap_max`` (max of :math:`(h - h_{relax})/h`), ``flat_fraction`` and
    ``curved_fraction``,
    ``sample_ratio_max`` (:math:`\le 1`) and ``sample_ratio_min`` (close to 1).
    """
    check_plot(plot)
    from ..rectified_ellipsoid import rectified_ellipsoid
    from ..spike_free import spike_free_ratio

    rep = Report("Figure 5 / 11b: rectified ellipsoid Q_A in 3-D and its polar set", verbose)
    n_lat, n_lon = (7, 12) if quick else (24, 48)
    n_samples = 2000 if quick else 20000
    out = {"matrices": {}}
    pics = {}
    for name, A in MATRICES.items():
        r = spike_free_ratio(A)
        tips, tip_pts = zip(*[_support(A, e, point=True) for e in np.eye(3)])
        relax = [_support(A, e, "relaxation") for e in np.eye(3)]
        dirs = direction_grid(n_lat, n_lon)
        flat = dirs.reshape(-1, 3)
        hs = [support_function(A, t) for t in flat]
        h = np.array([v for v, _ in hs])
        n_act = np.array([k for _, k in hs])
        h_relax = np.array([support_function(A, t, "relaxation")[0] for t in flat])
        gap = (h - h_relax) / h
        # sampled points of Q_A: |theta^T z| <= h(theta) for all (polar inequality), and the
        # best sample reaches h(theta) up to the sampling resolution
        pts = rectified_ellipsoid(A, n_samples, random_state=random_state)
        Z = np.vstack([pts.boundary, pts.interior])
        ratio = np.max(np.abs(flat @ Z.T), axis=1) / h
        res = dict(A=A.tolist(), spike_free_ratio=float(r.value), ratio_exact=bool(r.exact),
                   spike_free=bool(r.spike_free), support_e=[float(t) for t in tips],
                   relaxation_support_e=[float(t) for t in relax],
                   extreme_points_e=[p.tolist() for p in tip_pts],
                   row_norms=np.linalg.norm(A, axis=1).tolist(),
                   directions=flat.tolist(), support=h.tolist(),
                   polar_radius_min=float(np.min(1 / h)), polar_radius_max=float(np.max(1 / h)),
                   relaxation_gap_max=float(np.max(gap)),
                   relaxation_gap_fraction=float(np.mean(gap > 1e-7)),
                   flat_fraction=float(np.mean(n_act == 1)),
                   curved_fraction=float(np.mean(n_act >= 2)),
                   sample_ratio_max=float(np.max(ratio)), sample_ratio_min=float(np.min(ratio)))
        out["matrices"][name] = res
        rep(f"{name}: spike-free ratio {r.value:.6f} ({'exact' if r.exact else 'lower bound'})"
            f" -> spike-free={r.spike_free}; max z_i over Q_A (i=1,2,3): "
            + ", ".join(f"{t:.4f}" for t in tips) + " (relaxation "
            + ", ".join(f"{t:.4f}" for t in relax) + ")")
        rep(f"  polar set on {flat.shape[0]} directions: radius in "
            f"[{res['polar_radius_min']:.4f}, {res['polar_radius_max']:.4f}]; "
            f"on flat facets (spike tips) {100 * res['flat_fraction']:.1f}%, on curved faces "
            f"{100 * res['curved_fraction']:.1f}%; "
            f"relaxation support below exact on {100 * res['relaxation_gap_fraction']:.1f}% "
            f"(max rel. gap {res['relaxation_gap_max']:.3f}); {Z.shape[0]} sampled points of "
            f"Q_A: max |theta^T z| / h(theta) in [{res['sample_ratio_min']:.4f}, "
            f"{res['sample_ratio_max']:.6f}] (<= 1)")
        if plot is not None:
            # h(theta) = h(-theta): both poles have the same radius; close the surface there
            h_pole = support_function(A, np.array([0.0, 0.0, 1.0]))[0]
            pics[name] = (dirs, h.reshape(n_lat, n_lon), h_pole, tip_pts)

    if plot is not None:
        plt = pyplot()
        fig = plt.figure(figsize=(12, 11))
        m = 60  # sphere resolution of the picture of Q_A
        for row, (name, (dirs, hgrid, h_pole, tip_pts)) in enumerate(pics.items()):
            A = MATRICES[name]
            S = direction_grid(m, 2 * m)
            Q = np.maximum(S @ A.T, 0.0)  # (A u)_+ over the unit sphere
            ax = fig.add_subplot(2, 2, 2 * row + 1, projection="3d")
            ax.plot_surface(Q[..., 0], Q[..., 1], Q[..., 2], color="C0", alpha=0.35,
                            linewidth=0.2, edgecolor="C0")
            for tip in tip_pts:
                ax.scatter(*tip, color="r", marker="*", s=60)
            ax.set_title(f"{name}: Q_A = {{(Au)_+ : ||u|| <= 1}}\n(red: extreme points along "
                         "e1, e2, e3)", fontsize=9)
            ax = fig.add_subplot(2, 2, 2 * row + 2, projection="3d")
            R = dirs / hgrid[..., None]  # radial function 1/h
            cap = np.zeros((1, R.shape[1], 3))
            cap[..., 2] = 1.0 / h_pole
            R = np.concatenate([-cap, R, cap], axis=0)
            R = np.concatenate([R, R[:, :1]], axis=1)  # close the longitude seam
            ax.plot_surface(R[..., 0], R[..., 1], R[..., 2], color="C1", alpha=0.5,
                            linewidth=0.2, edgecolor="C1")
            ax.set_title("polar set {v : |v^T z| <= 1 for all z in Q_A}", fontsize=9)
            for a in fig.axes[-2:]:
                a.set_xlabel("1")
                a.set_ylabel("2")
                a.set_zlabel("3")
        fig.tight_layout()
        save(fig, plot, rep)
    out["lines"] = rep.lines
    return out
