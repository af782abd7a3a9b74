"""Independent reference implementations used by the exactness / certificate tests.

Everything here is deliberately naive: the extreme-point ("ramp") matrix K is formed
explicitly and the convex program over it is handed to CVXPY + Clarabel (or, for the
linear programs, to scipy's HiGHS as a second opinion).  Nothing here imports
``fastconvexrelu``.

Problem (paper, Lemma 2.6 / Corollary 3.4 / Corollary 4.1 / Theorem 5.2 / Theorem 6.1):
for 1-D data ``s`` (or rank-one data projected on its unit direction), the global optimum
over two-layer ReLU networks of any width

    f(x) = sum_j w_j (u_j x + b_j)_+ + c,   J = L(f(X), y) + beta * sum_j |w_j| ||u_j||_2

equals the convex problem over the extreme-point neurons

    bias=True : min_{c, w} L(c 1 + K w) + beta ||w||_1,  K = [(s_i - s_k)_+ | (s_k - s_i)_+]
    bias=False: min_{w}    L(K w)       + beta ||w||_1,  K = [(s)_+ | (-s)_+]

and, for beta = 0, the minimum-||w||_1 interpolation (squared) / hard-margin (hinge) program.

Dual (derived from the Lagrangian with z = c 1 + K w):  max_v -L*(v)  s.t.
||K^T v||_inf <= beta (<= 1 when beta = 0, where J = ||w||_1) and, with bias, 1^T v = 0.
The constraint set is symmetric in v, so whatever the sign convention of a solver's dual
vector, max(-L*(v), -L*(-v)) over the feasible signs is a valid lower bound on the optimum.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

LOSSES = ("squared", "hinge", "logistic")


# --------------------------------------------------------------------------------------
# Features / networks
# --------------------------------------------------------------------------------------
def ramp_matrix(s, bias=True):
    """Explicit extreme-point feature matrix for 1-D data ``s`` (n,).

    bias=True : n x 2n, column k = (s - s_k)_+, column n + k = (s_k - s)_+.
    bias=False: n x 2,  columns (s)_+ and (-s)_+.
    Also returns the neurons (u, b) of every column, u = +-1 (so ||u|| = 1).
    """
    s = np.asarray(s, dtype=float).ravel()
    n = s.size
    if bias:
        K = np.concatenate([np.maximum(s[:, None] - s[None, :], 0.0),
                            np.maximum(s[None, :] - s[:, None], 0.0)], axis=1)
        u = np.concatenate([np.ones(n), -np.ones(n)])
        b = np.concatenate([-s, s])
    else:
        K = np.stack([np.maximum(s, 0.0), np.maximum(-s, 0.0)], axis=1)
        u = np.array([1.0, -1.0])
        b = np.zeros(2)
    return K, u, b


def relu_network(X, hidden_weights, hidden_bias, output_weights, intercept):
    """f(X) = relu(X U + b) w + c, computed independently of the package."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    U = np.asarray(hidden_weights, dtype=float).reshape(X.shape[1], -1)
    b = np.asarray(hidden_bias, dtype=float).ravel()
    w = np.asarray(output_weights, dtype=float).ravel()
    return np.maximum(X @ U + b[None, :], 0.0) @ w + float(intercept)


def loss_value(f, y, loss):
    f = np.asarray(f, dtype=float)
    y = np.asarray(y, dtype=float)
    if loss == "squared":
        return 0.5 * float(np.sum((f - y) ** 2))
    if loss == "hinge":
        return float(np.sum(np.maximum(0.0, 1.0 - y * f)))
    if loss == "logistic":
        return float(np.sum(np.logaddexp(0.0, -y * f)))
    raise ValueError(loss)


def network_objective_ref(X, y, hidden_weights, hidden_bias, output_weights, intercept,
                          beta, loss):
    """J = L(f(X), y) + beta * sum_j |w_j| ||u_j||_2; for beta = 0 returns the pure norm
    sum_j |w_j| ||u_j|| (the constraint violation is returned by ``constraint_violation``)."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    U = np.asarray(hidden_weights, dtype=float).reshape(X.shape[1], -1)
    w = np.asarray(output_weights, dtype=float).ravel()
    reg = float(np.sum(np.abs(w) * np.linalg.norm(U, axis=0)))
    if beta == 0:
        return reg
    f = relu_network(X, hidden_weights, hidden_bias, output_weights, intercept)
    return loss_value(f, y, loss) + beta * reg


def constraint_violation(f, y, loss):
    """beta = 0 programs: max violation of f = y (squared) or y f >= 1 (hinge)."""
    f = np.asarray(f, dtype=float)
    y = np.asarray(y, dtype=float)
    if loss == "squared":
        return float(np.max(np.abs(f - y)))
    if loss == "hinge":
        return float(np.max(np.maximum(0.0, 1.0 - y * f)))
    raise ValueError(loss)


def project_rank_one(X, bias=True):
    """Coordinate of the rows of rank-one data on their unit direction (sign-agnostic
    callers only: the problems are invariant under s -> -s).  With bias the line may be
    anywhere (the offset is irrelevant), without bias it must pass through the origin."""
    X = np.asarray(X, dtype=float)
    Xc = X - X.mean(axis=0) if bias else X
    _, _, Vt = np.linalg.svd(Xc, full_matrices=False)
    a = Vt[0]
    return X @ a, a


# --------------------------------------------------------------------------------------
# CVXPY + Clarabel reference
# --------------------------------------------------------------------------------------
_CLARABEL_TOLS = (1e-10, 1e-9, 1e-8)


def _solve_cvxpy(prob, allow_inaccurate=False):
    """Solve with Clarabel at the tightest tolerance that it reaches.  Returns
    (tolerance, status); an inaccurate answer is accepted only if the caller polishes and
    certifies it afterwards."""
    import cvxpy as cp

    last = None
    inaccurate = None
    for tol in _CLARABEL_TOLS:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Solution may be inaccurate": handled below
                prob.solve(solver=cp.CLARABEL, tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol,
                           tol_ktratio=min(1e-6, tol * 1e2), max_iter=500)
        except cp.error.SolverError as e:  # pragma: no cover - numerical trouble
            last = e
            continue
        if prob.status == cp.OPTIMAL:
            return tol, prob.status
        if prob.status == cp.OPTIMAL_INACCURATE and inaccurate is None:
            inaccurate = tol
        last = prob.status
    if allow_inaccurate and inaccurate is not None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                prob.solve(solver=cp.CLARABEL, tol_gap_abs=inaccurate, tol_gap_rel=inaccurate,
                           tol_feas=inaccurate, max_iter=500)
            return inaccurate, prob.status
        except cp.error.SolverError as e:  # pragma: no cover
            last = e
    raise RuntimeError(f"CVXPY/Clarabel failed on the reference problem: {last}")


def solve_reference(s, y, loss="squared", beta=1e-3, bias=True, polish=True):
    """Solve the restricted convex program with CVXPY + Clarabel.

    Returns dict(value, w, c, fitted, dual, lower, K, u, b, tol, status).  ``value`` is
    L(c + K w) + beta ||w||_1 (beta > 0) or ||w||_1 (beta = 0); ``dual`` is a dual vector
    (equality multiplier of z = c + K w, up to sign); ``lower`` is the lower bound on the
    optimum that ``dual`` certifies (checked with the explicit K), so the reference is
    itself certified: value - lower is its own duality gap.

    For the smooth losses with beta > 0 (squared, logistic) Clarabel's answer (which for
    the logistic loss with small beta is only accurate to ~1e-6) is polished by an exact
    active-set Newton method on the same program; the polished point is kept only if its
    KKT residuals are at rounding level, and its gradient dual v = grad L(f) gives the
    certificate.
    """
    import cvxpy as cp

    s = np.asarray(s, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    K, u, b = ramp_matrix(s, bias)
    n, p = K.shape
    w = cp.Variable(p)
    c = cp.Variable() if bias else None
    f = K @ w + c if bias else K @ w
    z = cp.Variable(n)
    link = [z == f]
    if beta == 0:
        if loss == "squared":
            cons = link + [z == y]
        elif loss == "hinge":
            cons = link + [cp.multiply(y, z) >= 1]
        else:
            raise ValueError("beta = 0 is only defined for squared and hinge losses")
        obj = cp.norm1(w)
    else:
        cons = link
        if loss == "squared":
            L = 0.5 * cp.sum_squares(z - y)
        elif loss == "hinge":
            L = cp.sum(cp.pos(1 - cp.multiply(y, z)))
        elif loss == "logistic":
            L = cp.sum(cp.logistic(-cp.multiply(y, z)))
        else:
            raise ValueError(loss)
        obj = L + beta * cp.norm1(w)
    prob = cp.Problem(cp.Minimize(obj), cons)
    smooth = polish and beta > 0 and loss in ("squared", "logistic")
    try:
        tol, status = _solve_cvxpy(prob, allow_inaccurate=smooth)
        wv = np.asarray(w.value, dtype=float)
        cv = float(c.value) if bias else 0.0
        dual = np.asarray(link[0].dual_value, dtype=float)
    except RuntimeError:
        if not smooth:
            raise
        # Clarabel failed outright: cold-start the exact active-set method instead
        tol, status = None, "clarabel_failed"
        wv, cv, dual = np.zeros(p), 0.0, np.zeros(n)
    out = dict(value=_objective_restricted(K, y, wv, cv, loss, beta), w=wv, c=cv,
               fitted=K @ wv + cv, dual=dual, K=K, u=u, b=b, tol=tol, status=status,
               polished=False)
    if polish and beta > 0 and loss in ("squared", "logistic"):
        pol = _polish_smooth(K, y, loss, beta, bias, wv, cv)
        if pol is not None:
            out.update(pol)
            out["polished"] = True
    if not out["polished"]:
        # certify the solver's own answer with its (shrunk-to-feasible) multiplier
        vv = scale_to_feasible(s, _average_duplicates(s, y, dual), beta, bias)
        out["value"] = _objective_restricted(K, y, out["w"], out["c"], loss, beta)
        out["lower"] = dual_lower_bound(s, y, vv, loss, beta, bias, slack=1e-7)
        if loss == "hinge" or beta == 0:
            # LP: second opinion from HiGHS (simplex: accurate vertex primal and dual);
            # keep the better primal and the better certificate
            lp = solve_reference_lp(s, y, loss, beta, bias)
            lp_value = _objective_restricted(K, y, lp["w"], lp["c"], loss, beta)
            if beta > 0:
                better = lp_value < out["value"]
            else:
                # interior-point primal points violate the constraints by ~1e-9, which can put
                # ||w||_1 *below* the optimum on ill-conditioned data; prefer the simplex
                # vertex, which is feasible to rounding, unless it is the less feasible one
                v_lp = constraint_violation(lp["fitted"], y, loss)
                v_ip = constraint_violation(out["fitted"], y, loss)
                better = v_lp <= max(v_ip, 1e-12 * max(1.0, np.max(np.abs(y))))
            if better:
                out.update(value=lp_value, w=lp["w"], c=lp["c"], fitted=lp["fitted"])
            lp_lower = dual_lower_bound(s, y, scale_to_feasible(s, lp["dual"], beta, bias), loss,
                                        beta, bias, slack=1e-9)
            if lp_lower > out["lower"]:
                out["lower"], out["dual"] = lp_lower, lp["dual"]
    return out


def _average_duplicates(s, y, v):
    """Replace v on each group of identical samples (same x and same y) by its group mean.
    K^T v, 1^T v and the linear part of -L*(v) are unchanged and the concave part can only
    grow (Jensen), so a feasible v stays feasible and certifies at least as much; it removes
    the arbitrary +-M splits an interior-point solver may put on duplicated rows."""
    v = np.asarray(v, dtype=float).ravel().copy()
    keys = {}
    for i, key in enumerate(zip(s.tolist(), y.tolist())):
        keys.setdefault(key, []).append(i)
    for idx in keys.values():
        if len(idx) > 1:
            v[idx] = v[idx].mean()
    return v


def _loss_derivs(f, y, loss):
    if loss == "squared":
        return f - y, np.ones_like(f)
    from scipy.special import expit

    p = expit(-y * f)
    return -y * p, p * (1.0 - p)


def _objective_restricted(K, y, w, c, loss, beta):
    if beta == 0:
        return float(np.sum(np.abs(w)))
    return loss_value(K @ w + c, y, loss) + beta * float(np.sum(np.abs(w)))


_TRACE = False  # set True to print the active-set iterations of _polish_smooth


def _polish_smooth(K, y, loss, beta, bias, w0, c0, max_rounds=500):
    """Exact active-set Newton method for min_{c,w} L(c + K w) + beta ||w||_1 with a smooth
    loss (squared, logistic), warm-started from an approximate solution (w0, c0).

    * identical columns (duplicate samples) and all-zero columns are merged / dropped;
    * the support is first reduced to linearly independent columns by moving along null
      directions of the design (f unchanged, ||w||_1 non-increasing) to a sign boundary;
    * Newton steps on the fixed-sign smooth problem, cut at sign boundaries (that column
      leaves the support);
    * at a stationary point the most violated dual constraint |K_j^T v| > beta enters.
    The result is accepted only if its gradient dual v = grad L(f) (mean-corrected and
    shrunk onto the feasible set) certifies a gap <= 1e-9 max(1, |J|); otherwise None.
    """
    n, p = K.shape
    reps, colmap = [], {}
    for j in range(p):
        if not np.any(K[:, j] != 0):
            continue
        for r_i, r in enumerate(reps):
            if np.array_equal(K[:, j], K[:, r]):
                colmap[r_i].append(j)
                break
        else:
            colmap[len(reps)] = [j]
            reps.append(j)
    Kr = K[:, reps]
    wr = np.array([w0[colmap[r_i]].sum() for r_i in range(len(reps))])
    scale_w = max(1.0, float(np.max(np.abs(wr)))) if wr.size else 1.0
    act = {j: float(wr[j]) for j in range(len(reps)) if abs(wr[j]) > 1e-9 * scale_w}
    sig = {j: float(np.sign(wj)) for j, wj in act.items()}
    c = float(c0) if bias else 0.0
    off = 1 if bias else 0
    entered = {}

    def design(cols):
        A = Kr[:, cols]
        return np.concatenate([np.ones((n, 1)), A], axis=1) if bias else A

    def obj(theta, A):
        ww = theta[off:]
        return loss_value(A @ theta, y, loss) + beta * float(np.sum(np.abs(ww)))

    for _round in range(max_rounds):
        cols = list(act)
        theta = np.array(([c] if bias else []) + [act[j] for j in cols])
        sg = np.array(([0.0] if bias else []) + [sig[j] for j in cols])
        A = design(cols)
        # 1) make the support linearly independent
        dropped = None
        if A.shape[1] > 0:
            _, sv, Vt = np.linalg.svd(A, full_matrices=True)
            if A.shape[1] > n or sv[-1] <= 1e-10 * sv[0]:
                d = Vt[-1]
                if sg @ d > 0:
                    d = -d
                t, kb = np.inf, None
                for k in range(off, len(theta)):
                    if sg[k] * d[k] < 0 and abs(theta[k]) / abs(d[k]) < t:
                        t, kb = abs(theta[k]) / abs(d[k]), k
                if kb is None:
                    return None
                theta = theta + t * d
                dropped = kb
        if dropped is None and theta.size:
            # 2) Newton on the fixed-sign smooth problem
            gprev, g0_prev = np.inf, 0.0
            for _it in range(100):
                f = A @ theta
                d1, d2 = _loss_derivs(f, y, loss)
                grad = A.T @ d1 + beta * sg
                H = A.T @ (d2[:, None] * A)
                # (flat logistic regions make H numerically singular: least squares then)
                step = -np.linalg.lstsq(H, grad, rcond=1e-15)[0]
                dec = -float(grad @ step)
                gnorm = float(np.max(np.abs(grad)))
                if _TRACE:
                    print("    newton", _it, dec, gnorm, np.linalg.cond(H))
                if gnorm <= 1e-15 * max(1.0, float(np.max(np.abs(A.T @ d1)))):
                    break
                if _it > 0 and gnorm >= 0.5 * gprev and dec < 1e-20 * max(1.0, abs(g0_prev)):
                    break  # stalled at rounding level
                gprev = gnorm
                amax, kb = 1.0, None
                for k in range(off, len(theta)):
                    if sg[k] * step[k] < 0 and abs(theta[k]) / abs(step[k]) < amax:
                        amax, kb = abs(theta[k]) / abs(step[k]), k
                g0 = g0_prev = obj(theta, A)
                alpha = amax
                if dec > 1e-12 * max(1.0, abs(g0)):
                    # damped phase: Armijo backtracking
                    while True:
                        g1 = obj(theta + alpha * step, A)
                        if g1 <= g0 - 1e-4 * alpha * dec or alpha < 1e-14:
                            break
                        alpha *= 0.5
                    if not g1 <= g0:
                        break
                # else: quadratic phase, the objective cannot resolve the decrease: full step
                theta = theta + alpha * step
                if kb is not None and alpha == amax:
                    dropped = kb
                    break
        if bias:
            c = float(theta[0])
        for k, j in enumerate(cols):
            act[j] = float(theta[off + k])
        if _TRACE:
            print("round", _round, len(act), "dropped", dropped)
        if dropped is not None:
            j = cols[dropped - off]
            del act[j], sig[j]
            continue
        # 3) pricing: most violated dual constraint enters
        f = design(list(act)) @ np.array(([c] if bias else []) + list(act.values())) \
            if (act or bias) else np.zeros(n)
        v, _ = _loss_derivs(f, y, loss)
        kv = Kr.T @ v
        viol = np.abs(kv) - beta
        if act:
            viol[list(act)] = -np.inf
        j = int(np.argmax(viol)) if viol.size else 0
        if _TRACE:
            print("  pricing", j, viol[j] if viol.size else None)
        if viol.size and viol[j] > 1e-13 * max(1.0, beta) and entered.get(j, 0) < 3:
            entered[j] = entered.get(j, 0) + 1  # (bounded: rounding-level cycling)
            act[j] = 0.0
            sig[j] = -float(np.sign(kv[j]))
            continue
        break
    else:
        return None
    wfull = np.zeros(p)
    for j, wj in act.items():
        wfull[colmap[j][0]] = wj
    fitted = K @ wfull + c
    value = _objective_restricted(K, y, wfull, c, loss, beta)
    v, _ = _loss_derivs(fitted, y, loss)
    if bias:
        v = v - v.mean()
    kvmax = float(np.max(np.abs(K.T @ v)))
    if kvmax > beta:
        v = v * (beta / kvmax)
    lower = max(_neg_conjugate(v, y, loss, beta, 1e-12), _neg_conjugate(-v, y, loss, beta, 1e-12))
    if _TRACE:
        print("final", value, lower, kvmax, beta)
    if not value - lower <= 1e-9 * max(1.0, abs(value)):
        return None
    return dict(value=value, w=wfull, c=c, fitted=fitted, dual=v, lower=lower)


def representation_cost_1d(xu, fu):
    """Minimum sum_j |w_j| ||u_j|| over networks with kinks at the samples (bias=True) that
    take the values fu at the sorted distinct points xu:

        R(f) = max(TV, (TV + |s_1 + s_{m-1}|) / 2),   s = slopes, TV = sum |s_{k+1} - s_k|.

    Derivation: write f = c + sum_k r_k (x - x_k)_+ + l_k (x_k - x)_+; the kink at x_k is
    D_k = r_k + l_k, the outer slopes are S_R = sum r_k and S_L = -sum l_k.  For fixed
    kinks, min sum |r_k| + |l_k| = max(TV_all, |S_L + S_R|) (split each D_k between r_k
    and l_k; TV_all = sum_k |D_k|).  Interior kinks are fixed by f; the end kinks
    D_1 = s_1 - S_L, D_m = S_R - s_{m-1} are free, and minimizing over S_L, S_R gives the
    formula.  Checked against the dense ramp program in the tests."""
    slopes = np.diff(fu) / np.diff(xu)
    if slopes.size == 0:
        return 0.0
    tv = float(np.sum(np.abs(np.diff(slopes))))
    return max(tv, 0.5 * (tv + abs(slopes[0] + slopes[-1])))


def solve_reference_sparse(s, y, loss="squared", beta=1e-3):
    """bias=True problem in O(n) variables: minimize over the values f at the distinct
    samples L(f) + beta R(f) with R from ``representation_cost_1d`` (CVXPY + Clarabel).
    No explicit K, so it reaches n in the thousands; an independent formulation."""
    import cvxpy as cp

    s = np.asarray(s, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    xu, inv = np.unique(s, return_inverse=True)
    m = xu.size
    fu = cp.Variable(m)
    f = fu[inv]
    if m >= 2:
        sl = cp.multiply(1.0 / np.diff(xu), cp.diff(fu))
        tv = cp.norm1(cp.diff(sl)) if m >= 3 else 0.0
        R = cp.maximum(tv, (tv + cp.abs(sl[0] + sl[m - 2])) / 2)
    else:
        R = 0.0
    cons = []
    if beta == 0:
        obj = R
        cons = [f == y] if loss == "squared" else [cp.multiply(y, f) >= 1]
    else:
        if loss == "squared":
            L = 0.5 * cp.sum_squares(f - y)
        elif loss == "hinge":
            L = cp.sum(cp.pos(1 - cp.multiply(y, f)))
        else:
            L = cp.sum(cp.logistic(-cp.multiply(y, f)))
        obj = L + beta * R
    prob = cp.Problem(cp.Minimize(obj), cons)
    _solve_cvxpy(prob, allow_inaccurate=True)
    fv = np.asarray(fu.value, dtype=float)
    fitted = fv[inv]
    if beta == 0:
        value = representation_cost_1d(xu, fv)
    else:
        value = loss_value(fitted, y, loss) + beta * representation_cost_1d(xu, fv)
    return dict(value=value, fitted=fitted, xu=xu, fu=fv, status=prob.status)


@functools.lru_cache(maxsize=None)
def _solve_reference_cached(key):
    s, y, loss, beta, bias = key
    return solve_reference(np.array(s), np.array(y), loss, beta, bias)


def solve_reference_cached(s, y, loss="squared", beta=1e-3, bias=True):
    """Memoized ``solve_reference`` (several test files hit the same problems)."""
    key = (tuple(np.asarray(s, float).ravel().tolist()), tuple(np.asarray(y, float).ravel().tolist()),
           loss, float(beta), bool(bias))
    return _solve_reference_cached(key)


# --------------------------------------------------------------------------------------
# scipy LP reference (hinge and beta = 0 programs are LPs): a second, CVXPY-free opinion
# --------------------------------------------------------------------------------------
def solve_reference_lp(s, y, loss="hinge", beta=1e-3, bias=True):
    """Same program via scipy.optimize.linprog (HiGHS); only LP cases
    (hinge with any beta, squared with beta = 0).  Variables: w = wp - wm >= 0 parts,
    c = cp - cm, slacks xi >= 0 for the hinge."""
    from scipy.optimize import linprog

    s = np.asarray(s, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    K, _, _ = ramp_matrix(s, bias)
    n, p = K.shape
    nc = 2 if bias else 0
    C = np.concatenate([K, -K, np.ones((n, 1)), -np.ones((n, 1))], axis=1) if bias else \
        np.concatenate([K, -K], axis=1)
    reg = 1.0 if beta == 0 else beta
    if loss == "squared":
        if beta != 0:
            raise ValueError("squared loss with beta > 0 is not an LP")
        cost = np.concatenate([reg * np.ones(2 * p), np.zeros(nc)])
        res = linprog(cost, A_eq=C, b_eq=y, bounds=(0, None), method="highs")
        nslack = 0
        dual = None if res.status != 0 else np.asarray(res.eqlin.marginals, dtype=float)
    elif loss == "hinge":
        # y_i f_i + xi_i >= 1   <=>  -(y_i C_i) x - xi_i <= -1
        nslack = 0 if beta == 0 else n
        A = -y[:, None] * C
        if nslack:
            A = np.concatenate([A, -np.eye(n)], axis=1)
        cost = np.concatenate([reg * np.ones(2 * p), np.zeros(nc), np.ones(nslack)])
        res = linprog(cost, A_ub=A, b_ub=-np.ones(n), bounds=(0, None), method="highs")
        dual = None if res.status != 0 else y * np.asarray(res.ineqlin.marginals, dtype=float)
    else:
        raise ValueError(loss)
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    x = res.x
    w = x[:p] - x[p:2 * p]
    c = (x[2 * p] - x[2 * p + 1]) if bias else 0.0
    return dict(value=float(res.fun), w=w, c=float(c), fitted=K @ w + c, dual=dual)


# --------------------------------------------------------------------------------------
# Brute-force dual checks
# --------------------------------------------------------------------------------------
def dual_feasibility(s, v, bias=True):
    """Return (max_k |(K^T v)_k|, |1^T v|) with the explicit K (|1^T v| = 0 if no bias).
    Feasible iff the first is <= beta (<= 1 for beta = 0) and, with bias, the second is 0."""
    K, _, _ = ramp_matrix(s, bias)
    v = np.asarray(v, dtype=float).ravel()
    kv = float(np.max(np.abs(K.T @ v)))
    sv = abs(float(np.sum(v))) if bias else 0.0
    return kv, sv


def _neg_conjugate(sv, y, loss, beta, slack):
    """-L*(sv) for the loss (or the beta=0 indicator), -inf outside the domain
    (with an absolute slack for rounding)."""
    y = np.asarray(y, dtype=float)
    if loss == "squared":
        return -float(sv @ y) - (0.0 if beta == 0 else 0.5 * float(sv @ sv))
    sig = sv * y
    if loss == "hinge":
        if beta == 0:
            if np.any(sig > slack):
                return -np.inf
            sig = np.minimum(sig, 0.0)
            return -float(np.sum(sig))
        if np.any(sig > slack) or np.any(sig < -1.0 - slack):
            return -np.inf
        sig = np.clip(sig, -1.0, 0.0)
        return -float(np.sum(sig))
    if loss == "logistic":
        if np.any(sig > slack) or np.any(sig < -1.0 - slack):
            return -np.inf
        sig = np.clip(sig, -1.0, 0.0)
        p = -sig
        q = 1.0 - p
        with np.errstate(divide="ignore", invalid="ignore"):
            ent = np.where(p > 0, p * np.log(p), 0.0) + np.where(q > 0, q * np.log(q), 0.0)
        return -float(np.sum(ent))
    raise ValueError(loss)


def scale_to_feasible(s, v, beta, bias=True):
    """Shrink v so that ||K^T v||_inf <= beta (1 for beta = 0).  Used only on CVXPY's own
    multipliers (Clarabel's duals are feasible to ~1e-8 only); shrinking keeps 1^T v = 0
    and stays inside the hinge/logistic domains, which contain 0."""
    v = np.asarray(v, dtype=float).ravel()
    kv, _ = dual_feasibility(s, v, bias)
    rad = 1.0 if beta == 0 else beta
    return v * (rad / kv) if kv > rad else v


def dual_lower_bound(s, y, v, loss, beta, bias=True, slack=1e-12):
    """Lower bound on the optimum certified by the (possibly sign-flipped) dual vector v.

    Checks dual feasibility with the explicit K first (relative slack 1e-9); an infeasible
    v certifies nothing and gives -inf.  Scaling a feasible-up-to-rounding v onto the
    feasible set is deliberately NOT done here: the point of the test is that the
    package's v is feasible as returned."""
    v = np.asarray(v, dtype=float).ravel()
    kv, sv = dual_feasibility(s, v, bias)
    rad = 1.0 if beta == 0 else beta
    scale = max(1.0, float(np.max(np.abs(v)))) if v.size else 1.0
    if kv > rad * (1 + 1e-9) + 1e-12 or sv > 1e-9 * scale * max(1, v.size):
        return -np.inf
    return max(_neg_conjugate(v, y, loss, beta, slack), _neg_conjugate(-v, y, loss, beta, slack))


# --------------------------------------------------------------------------------------
# Random problem generators shared by the tests
# --------------------------------------------------------------------------------------
def make_1d(seed, n, loss, duplicates=False, beta=1e-3, bias=True):
    """Random unsorted 1-D data set.  For beta = 0 the data are made feasible:
    duplicated x get identical targets/labels, and without bias the targets are exactly
    representable by w1 (x)_+ + w2 (-x)_+ (squared) / separable by sign(x) (hinge)."""
    rng = np.random.default_rng(seed)
    if duplicates:
        base = rng.uniform(-2, 2, size=max(2, (2 * n) // 3))
        x = rng.choice(base, size=n, replace=True)
        x[: min(len(base), n)] = base[: min(len(base), n)]  # keep a spread of values
        rng.shuffle(x)
    else:
        x = rng.uniform(-2, 2, size=n)
    if not bias:
        # keep x away from 0 so that the hard-margin / interpolation programs are feasible,
        # and make sure both half-lines carry samples (two classes for the hard margin)
        x = np.where(np.abs(x) < 0.05, np.sign(x + 1e-300) * 0.05 + x, x)
        if np.all(x > 0) or np.all(x < 0):
            x[np.argmin(np.abs(x))] *= -1.0
    if loss == "squared":
        if beta == 0 and not bias:
            y = 1.3 * np.maximum(x, 0) - 0.7 * np.maximum(-x, 0)
        else:
            y = np.sin(2 * x) + 0.3 * rng.standard_normal(n)
    else:
        if beta == 0 and not bias:
            sp = rng.choice([-1.0, 1.0])
            y = np.where(x > 0, sp, -sp)
        else:
            y = np.where(np.sin(2.5 * x) + 0.4 * rng.standard_normal(n) > 0, 1.0, -1.0)
    if duplicates:
        # identical x -> identical y (needed for feasibility at beta = 0)
        _, first = np.unique(x, return_index=True)
        lookup = {float(x[i]): y[i] for i in first}
        y = np.array([lookup[float(t)] for t in x])
    if loss != "squared" and np.all(y == y[0]) and (bias or beta != 0):
        y[0] = -y[0]
        if duplicates:
            y[x == x[0]] = y[0]
    return x, y


def rel_diff(a, b):
    return abs(a - b) / max(1.0, abs(b))


# --------------------------------------------------------------------------------------
# Thin helper to fit the package's estimators (imported lazily: everything above is
# independent of fastconvexrelu)
# --------------------------------------------------------------------------------------
def fit_model(X, y, loss="squared", beta=1e-3, bias=True, **kw):
    """Fit ConvexReLURegressor (squared) or ConvexReLUClassifier (hinge/logistic)."""
    import fastconvexrelu as fcr

    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    kw.setdefault("solver", "extreme_points")
    if loss == "squared":
        est = fcr.ConvexReLURegressor(beta=beta, loss="squared", bias=bias, **kw)
    else:
        est = fcr.ConvexReLUClassifier(beta=beta, loss=loss, bias=bias, **kw)
    return est.fit(X, y)


def model_output(est, X):
    """The real-valued network output f(X) (predict for regressors, decision_function
    for classifiers)."""
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    if hasattr(est, "decision_function"):
        return np.asarray(est.decision_function(X), dtype=float)
    return np.asarray(est.predict(X), dtype=float)


def reference_function(ref, s, grid, bias=True):
    """Evaluate the reference network (the solution over the ramps of samples ``s``) at
    arbitrary points ``grid``."""
    s = np.asarray(s, dtype=float).ravel()
    grid = np.asarray(grid, dtype=float).ravel()
    if bias:
        G = np.concatenate([np.maximum(grid[:, None] - s[None, :], 0.0),
                            np.maximum(s[None, :] - grid[:, None], 0.0)], axis=1)
    else:
        G = np.stack([np.maximum(grid, 0.0), np.maximum(-grid, 0.0)], axis=1)
    return G @ ref["w"] + ref["c"]


# --------------------------------------------------------------------------------------
# Exact convex program over ALL activation patterns (brute-force enumeration + CVXPY)
# --------------------------------------------------------------------------------------
def brute_force_patterns_lp(X, bias=True):
    """All activation patterns (incl. the all-zero one when it exists) by LP feasibility of
    every sign vector: {w : s_i a_i^T w > 0} non-empty (tiny n only; independent of the
    library's enumeration)."""
    from itertools import product

    from scipy.optimize import linprog

    A = np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X
    n, k = A.shape
    nz = np.flatnonzero(np.linalg.norm(A, axis=1) > 0)
    out = {}
    for s in product((1.0, -1.0), repeat=nz.size):
        s = np.array(s)
        A_ub = np.hstack([-(s[:, None] * A[nz]), np.ones((nz.size, 1))])
        res = linprog(np.r_[np.zeros(k), -1.0], A_ub=A_ub, b_ub=np.zeros(nz.size),
                      bounds=[(-1, 1)] * k + [(None, 1)], method="highs")
        if res.status == 0 and -res.fun > 1e-9:
            D = np.zeros(n, dtype=bool)
            D[nz] = s > 0
            out[D.tobytes()] = D
    return np.array(list(out.values())).T


def solve_arrangement_reference(X, y, loss="squared", beta=0.1, bias=True, patterns=None,
                                huber_delta=1.0):
    """Global optimum of J over two-layer ReLU networks of any width (beta > 0), by the
    exact convex program over all activation patterns D_i (issue 3):

        min L(sum_i D_i Xt (v_i - w_i) + c) + beta sum_i (||v_i[:d]|| + ||w_i[:d]||)
        s.t. (2 D_i - I) Xt v_i >= 0, (2 D_i - I) Xt w_i >= 0,

    Xt = [X, 1] (bias) or X, c a free intercept (bias only).  Patterns by
    brute_force_patterns_lp unless given.  Returns the optimal value."""
    import cvxpy as cp

    if patterns is None:
        patterns = brute_force_patterns_lp(X, bias)
    n, d = X.shape
    Xt = np.hstack([X, np.ones((n, 1))]) if bias else X
    k = Xt.shape[1]
    P = patterns.shape[1]
    V = cp.Variable((k, P))
    W = cp.Variable((k, P))
    c = cp.Variable() if bias else 0.0
    f = c
    cons = []
    for i in range(P):
        D = patterns[:, i].astype(float)
        S = (2 * D - 1)[:, None] * Xt
        cons += [S @ V[:, i] >= 0, S @ W[:, i] >= 0]
        f = f + cp.multiply(D, Xt @ (V[:, i] - W[:, i]))
    if loss == "squared":
        L = 0.5 * cp.sum_squares(f - y)
    elif loss == "hinge":
        L = cp.sum(cp.pos(1 - cp.multiply(y, f)))
    elif loss == "huber":  # cvxpy's huber(r, M) is twice ours: r^2 (|r| <= M), 2M|r| - M^2
        L = 0.5 * cp.sum(cp.huber(f - y, huber_delta))
    else:
        L = cp.sum(cp.logistic(-cp.multiply(y, f)))
    reg = cp.sum(cp.norm(V[:d, :], 2, axis=0)) + cp.sum(cp.norm(W[:d, :], 2, axis=0))
    prob = cp.Problem(cp.Minimize(L + beta * reg), cons)
    _solve_cvxpy(prob, allow_inaccurate=True)
    return float(prob.value)
