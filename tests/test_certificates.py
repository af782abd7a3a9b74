"""The duality gap reported by the estimators is a certificate.

* ``duality_gap_ >= 0`` and it upper-bounds the true suboptimality
  ``objective_ - J*`` (J* from the certified CVXPY reference);
* ``dual_coef_`` is dual feasible, checked by brute force with the explicit ramp matrix K
  (1^T v = 0 with bias, ||K^T v||_inf <= beta, or <= 1 when beta = 0), and the lower
  bound it certifies, computed here independently from the loss conjugate, is consistent
  with ``objective_ - duality_gap_``;
* when ``converged_`` the gap is below ``tol * max(1, |J|)``;
* a starved solver (max_iter=1) either converges honestly or warns with
  ``ConvergenceWarning``, ``converged_ = False`` and a gap that is still a true bound.
"""
import warnings

import numpy as np
import pytest

import fastconvexrelu
from reference import (
    dual_feasibility,
    dual_lower_bound,
    fit_model,
    make_1d,
    solve_reference_cached,
)

PROBLEMS = [(seed, n, loss, beta, bias, dup)
            for seed, n in [(100, 5), (101, 12), (102, 23), (103, 37)]
            for loss, beta in [("squared", 0.0), ("squared", 1e-3), ("squared", 0.3),
                               ("hinge", 0.0), ("hinge", 1e-2), ("hinge", 1.0),
                               ("logistic", 1e-3), ("logistic", 0.3)]
            for bias in (True, False)
            for dup in (False, True)]


def _check_certificate(est, x, y, loss, beta, bias, ref, tol):
    J = est.objective_
    gap = est.duality_gap_
    scale = max(1.0, abs(ref["value"]))
    ctx = dict(J=J, J_ref=ref["value"], gap=gap, converged=est.converged_, n_iter=est.n_iter_)
    assert gap >= 0.0, ctx
    # a TRUE upper bound on the suboptimality (J_ref >= J*, and J_ref is itself certified)
    assert abs(ref["value"] - ref["lower"]) <= 1e-7 * scale
    assert gap >= J - ref["value"] - 1e-9 * scale, ctx
    if est.converged_:
        assert gap <= tol * max(1.0, abs(J)) * (1 + 1e-9), ctx
    if not np.isfinite(gap):
        return
    # brute-force dual feasibility of dual_coef_
    v = np.asarray(est.dual_coef_, dtype=float)
    assert v.shape == (x.size,), ctx
    kv, sv = dual_feasibility(x, v, bias)
    rad = 1.0 if beta == 0 else beta
    assert kv <= rad * (1 + 1e-9), dict(ctx, KTv=kv)
    assert sv <= 1e-9 * max(1.0, float(np.max(np.abs(v)))), dict(ctx, sum_v=sv)
    # the certified lower bound, recomputed independently, closes the reported gap
    lb = dual_lower_bound(x, y, v, loss, beta, bias)
    assert lb > -np.inf, dict(ctx, msg="dual_coef_ outside the conjugate's domain")
    assert lb <= ref["value"] + 1e-9 * scale, dict(ctx, lb=lb)  # weak duality
    assert J - lb <= gap + 1e-9 * scale, dict(ctx, lb=lb)


@pytest.mark.parametrize("seed,n,loss,beta,bias,dup", PROBLEMS)
def test_certificate(seed, n, loss, beta, bias, dup):
    x, y = make_1d(seed, n, loss, dup, beta, bias)
    ref = solve_reference_cached(x, y, loss, beta, bias)
    for tol in (1e-6, 1e-8):
        est = fit_model(x, y, loss, beta, bias, tol=tol)
        _check_certificate(est, x, y, loss, beta, bias, ref, tol)


@pytest.mark.parametrize("loss,beta", [("squared", 0.0), ("squared", 1e-2), ("hinge", 0.0),
                                       ("hinge", 1e-2), ("logistic", 1e-2)])
@pytest.mark.parametrize("bias", [True, False])
def test_max_iter_one(loss, beta, bias):
    """max_iter=1: honest convergence, or a ConvergenceWarning with converged_ False and a
    gap that is still a true upper bound (possibly inf)."""
    n_warned = 0
    for seed, n in [(200, 8), (201, 20), (202, 40)]:
        x, y = make_1d(seed, n, loss, seed % 2 == 0, beta, bias)
        ref = solve_reference_cached(x, y, loss, beta, bias)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            est = fit_model(x, y, loss, beta, bias, max_iter=1, tol=1e-8)
        conv = [w for w in rec if issubclass(w.category, fastconvexrelu.ConvergenceWarning)]
        if est.converged_:
            assert not conv
        else:
            n_warned += 1
            assert conv, "not converged but no ConvergenceWarning"
        _check_certificate(est, x, y, loss, beta, bias, ref, 1e-8)
    if bias:
        # the interior-point kernel cannot finish these in one iteration
        assert n_warned > 0


def test_convergence_warning_is_raised():
    x, y = make_1d(300, 40, "logistic", False, 1e-2, True)
    with pytest.warns(fastconvexrelu.ConvergenceWarning):
        est = fit_model(x, y, "logistic", 1e-2, True, max_iter=1)
    assert not est.converged_
    ref = solve_reference_cached(x, y, "logistic", 1e-2, True)
    assert est.duality_gap_ >= est.objective_ - ref["value"] - 1e-9 * max(1, ref["value"])
