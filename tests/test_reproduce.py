"""The paper reproductions (``fastconvexrelu.reproduce``) in quick mode, and their CLI."""

import math
import sys

import pytest

pytest.importorskip("scipy")

from fastconvexrelu._cli import main  # noqa: E402
from fastconvexrelu.reproduce import NAMES, get, run  # noqa: E402

_CACHE = {}


def _quick(name):
    if name not in _CACHE:
        _CACHE[name] = run(name, quick=True)
    return _CACHE[name]


def _numbers(obj, path="result"):
    """All numeric leaves (bools excluded) with their paths; None leaves are skipped."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{path}[{k!r}]")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return
    else:
        yield path, float(obj)


@pytest.mark.parametrize("name", NAMES)
def test_quick_run_returns_finite_numbers(name, capsys):
    out = _quick(name)
    assert isinstance(out, dict) and out["lines"]
    nums = list(_numbers({k: v for k, v in out.items() if k != "lines"}))
    assert len(nums) >= 3
    bad = [(p, v) for p, v in nums if not math.isfinite(v)]
    assert not bad, bad[:5]


def test_prop31_both_networks_and_solver_give_8():
    out = _quick("prop31")
    assert out["objective_w_star"] == pytest.approx(8.0, abs=1e-6)
    assert out["objective_w_hat"] == pytest.approx(8.0, abs=1e-6)
    assert out["solver_objective"] == pytest.approx(8.0, abs=1e-6)
    assert out["solver_duality_gap"] <= 1e-6
    # w^ is not a spline with kinks at the samples: it kinks at 0.5
    assert 0.5 in out["knots_w_hat"]
    # the regularized pair of A.5 reproduces the stated value 1999/2500000 (with beta=1e-4)
    reg = out["regularized"]
    for key in ("w_1", "w_2"):
        assert reg[key]["paper_objective"] == pytest.approx(1999 / 2500000, rel=1e-9)
    assert reg["solver_paper_objective"] <= 1999 / 2500000 + 1e-12


def test_fig6_gap_vanishes_at_largest_width_1d():
    res = _quick("fig6")["datasets"]["1d"]
    for key in ("beta=0", "beta=0.001"):
        r = res[key]
        assert r["primal"][-1] is not None
        assert abs(r["gap"][-1]) <= 1e-6
        assert r["converged"]
        # primal values never go below the certified dual value, and never increase
        vals = [v for v in r["primal"] if v is not None]
        assert all(v >= r["dual"] - 1e-9 for v in vals)
        assert all(b <= a + 1e-9 for a, b in zip(vals, vals[1:]))


def test_fig6_whitened_two_neurons_suffice():
    res = _quick("fig6")["datasets"]["whitened"]
    for key in ("beta=0", "beta=0.001"):
        r = res[key]
        assert r["widths"][-1] == 2 and abs(r["gap"][-1]) <= 1e-8


def test_fig7_certified_objective_never_above_gd():
    out = _quick("fig7")
    assert out["trials"]
    for t in out["trials"]:
        assert out["L_t"] <= t["L_gd"] + 1e-9
        assert out["L_t"] <= t["L_gd_refit"] + 1e-9
        assert t["L_gd_refit"] <= t["L_gd"] + 1e-12


def test_fig1_exact_fit_is_the_spline_and_hinge_regions():
    out = _quick("fig1")
    assert out["b"]["deviation_from_spline"] <= 1e-9
    assert out["b"]["duality_gap"] <= 1e-6
    assert out["c"]["training_accuracy"] == 1.0
    assert out["c"]["min_margin"] >= 1 - 1e-6
    assert len(out["c"]["decision_boundaries"]) == 3  # three sign changes in the labels


def test_fig8_ours_below_gd_and_piecewise_linear():
    for r in _quick("fig8")["datasets"].values():
        assert r["ours"]["chord_deviation"] <= 1e-9
        assert r["ntk"]["chord_deviation"] > 1e-3  # the NTK interpolant is smooth
        assert all(r["ours"]["objective"] <= g["objective"] + 1e-9 for g in r["gd"])


def test_fig2_5_spike_free_classification():
    mats = _quick("fig2_5")["matrices"]
    spike_free = [m["spike_free"] for m in mats.values()]
    assert spike_free == [True, False, False]
    tri = [m["hull_is_triangle"] for m in mats.values()]
    assert tri == [False, False, True]


def test_cli_reproduce_prop31_writes_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = tmp_path / "p.png"
    assert main(["reproduce", "prop31", "--plot", out]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "8" in capsys.readouterr().out


def test_cli_unknown_name_exit_code_2(capsys):
    assert main(["reproduce", "no_such_figure"]) == 2
    err = capsys.readouterr().err
    for name in NAMES:
        assert name in err
    with pytest.raises(ValueError, match="valid names"):
        get("no_such_figure")


def test_plot_without_matplotlib_says_install_the_plot_extra(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(ImportError, match="install the plot extra"):
        run("prop31", plot=str(tmp_path / "x.png"))
    assert main(["reproduce", "prop31", "--plot", tmp_path / "x.png"]) == 2
    assert "install the plot extra" in capsys.readouterr().err


def _support_cvxpy(A, theta):
    """Independent reference: max_{||u|| <= 1} |theta^T (A u)_+| as the best of one SOCP per
    sign s and activation pattern S (on {A_S u >= 0, A_{S^c} u <= 0}, (Au)_+ = D_S A u)."""
    cp = pytest.importorskip("cvxpy")
    import itertools

    import numpy as np

    n, d = A.shape
    best = 0.0
    for sgn in (1.0, -1.0):
        for mask in itertools.product((0.0, 1.0), repeat=n):
            m = np.array(mask)
            if not m.any():
                continue
            u = cp.Variable(d)
            cons = [cp.norm(u, 2) <= 1, cp.multiply(2 * m - 1, A @ u) >= 0]
            prob = cp.Problem(cp.Maximize(sgn * (theta * m) @ (A @ u)), cons)
            prob.solve(solver=cp.CLARABEL)
            if prob.status == "optimal":
                best = max(best, prob.value)
    return best


def test_fig5_polar_set_support_and_sampled_points():
    import numpy as np

    out = _quick("fig5")
    mats = out["matrices"]
    spiky, free = mats["fig5 (spikes)"], mats["fig11b (spike-free)"]
    for m in mats.values():
        # every sampled point z of Q_A satisfies |theta^T z| <= h(theta) (it lies in the polar's
        # polar), and the samples come close to the exact support on every direction
        assert m["sample_ratio_max"] <= 1 + 1e-9
        assert m["sample_ratio_min"] >= 0.95
        # the exact support function against one CVXPY SOCP per activation pattern
        A = np.array(m["A"])
        dirs = np.array(m["directions"])
        for k in (0, len(dirs) // 3, len(dirs) // 2 + 5):
            assert m["support"][k] == pytest.approx(_support_cvxpy(A, dirs[k]), rel=1e-6)
    # spiky matrix: the axis extreme points are the spike tips ||a_i|| e_i, the relaxation
    # misses them, and the polar set has both flat facets and curved faces
    assert not spiky["spike_free"] and spiky["spike_free_ratio"] > 1
    assert spiky["support_e"] == pytest.approx(spiky["row_norms"], rel=1e-9)
    assert all(r < t - 1e-3 for r, t in zip(spiky["relaxation_support_e"], spiky["support_e"]))
    assert spiky["relaxation_gap_max"] > 0.01
    assert spiky["flat_fraction"] > 0 and spiky["curved_fraction"] > 0
    # spike-free matrix (Sigma V^T): the relaxation (15) is exact in every direction
    assert free["spike_free"]
    assert free["relaxation_gap_max"] <= 1e-7
