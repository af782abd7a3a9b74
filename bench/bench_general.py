#!/usr/bin/env python
r"""General-data benchmark (issue 3): final objective J and wall time of every trainer, on the
same data and the same beta, with J computed by ONE shared function from each returned network.

Objective (the one every method is scored with, ``fastconvexrelu.network_objective``):

    J = 1/2 ||f(X) - y||^2 + beta * sum_j |w_j| ||u_j||_2,   f(x) = sum_j w_j (u_j^T x + b_j)_+ + c,

biases b_j and intercept c unpenalized; beta = n * lam (``--lam``, default 1e-3: the scale of
pyscnn, whose objective is 0.5/n ||f - y||^2 + lam * sum_j ||w1_j|| ||w2_j||).

Methods (each returns a network (U, b, w, c); J and "rel J" = J / J_best - 1 are ours):

* ours: every configuration in ``OURS`` (estimator API, ``ConvexReLURegressor(beta=beta,
  bias=True, **kwargs)``) and every callable in ``ADAPTERS`` (python-level solvers:
  ``fn(X, y, beta) -> dict(hidden_weights=(d, m), hidden_bias=(m,), output_weights=(m,),
  intercept=float[, notes=str])``).  A configuration that raises ValueError/TypeError/
  NotImplementedError is reported as "n/a (reason)" and the run continues.
* pyscnn 0.0.10: ``scnn.optimize.optimize_model`` with ``ConvexReLU(G, bias=True)`` and the
  augmented-Lagrangian solver ``AL`` (defaults), regularizer ``NeuronGL1(lam)``,
  ``unitize_data=False`` (with pyscnn's default column unitization its penalty acts on the
  rescaled weights, i.e. a different beta: with pyscnn's full defaults, float32 and
  unitized columns, the synthetic fit took 265 s at load ~6 and scored J = 43.9 vs 16.7 here),
  ``max_neurons`` = 2 x (number of gates).
  pyscnn handles a bias by appending a ones column to X, so its group penalty also covers the
  bias: its own objective is >= our J of the same network.  The returned ``NonConvexReLU``
  has parameters [W1 (p, d), b1 (p,), W2 (1, p)] and f = (X W1^T + b1)_+ W2^T (no intercept).
* CVXPY + Clarabel on the sampled-pattern convex program (issue 3, "arrangements") over the
  SAME patterns as pyscnn's gates, D_i = diag(1[X g_i + h_i > 0]) (h = 0 by default, as in
  pyscnn; ``--gates samples``: hyperplanes through random data points), Xt = [X, 1]:

      min 1/2 || sum_i D_i Xt (v_i - w_i) + c - y ||^2 + beta sum_i (||v_i[:d]|| + ||w_i[:d]||)
      s.t. (2 D_i - I) Xt v_i >= 0,  (2 D_i - I) Xt w_i >= 0,

  mapped to a network by u = v[:d] / sqrt(||v[:d]||), b = v[d] / sqrt(||v[:d]||),
  w = +-sqrt(||v[:d]||) (exact when the cone constraints hold).
* CVXPY + Clarabel on the same program over the activation patterns of the best backprop
  network (not a competitor: a check that the convex program with good patterns reaches
  J <= backprop's, since that network is feasible for it; ``--skip cvxpy_bp``).
* backprop: two-layer ReLU network (m hidden units, biases, intercept) trained on
  1/2 ||f - y||^2 + beta/2 (||U||_F^2 + ||w||^2) (equal to J at its optimum) by full-batch Adam
  and then L-BFGS, in PyTorch (float64) if installed, else numpy Adam only; several seeds,
  best J reported (each seed's J and time in the notes).

Data: ``synthetic`` (planted teacher: n = 500, d = 20, 10 ReLU neurons with biases,
x ~ N(0, I), noise 10% of the clean signal's std, fixed seed), ``boston`` and ``california``
(``--data-dir``/NAME.npz, X_train/y_train).  X and y are standardized with the training
statistics.  ``--max-samples`` subsamples (fixed seed).  Baselines run in a child process with
a wall-time limit (``--time-limit``, "skipped (time limit)"); ``--skip`` skips methods.

Usage:
    PYTHONPATH=python python bench/bench_general.py --data all
    PYTHONPATH=python python bench/bench_general.py --data boston --skip pyscnn --lam 1e-2
Results are (re)written per data set into ``--out`` (default bench/results/general.md):
the section of a data set is replaced, other sections are kept.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shlex
import sys
import time
import traceback
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from _machine import machine_info  # noqa: E402

# ------------------------------------------------------------------ our configurations (edit)
#: (label, keyword arguments of ConvexReLURegressor besides beta and bias=True)
OURS = [
    ("ours: arrangements (100 sampled patterns)",
     dict(solver="arrangements", n_patterns=100, random_state=0, tol=1e-6, max_iter=20000)),
    ("ours: cutting_plane (Algorithm 3)", dict(solver="cutting_plane", tol=1e-6, max_iter=100)),
    # patterns="seeded" (the route of solver="auto" on general scalar data): non-convex seeds,
    # l1 master over their neurons, the convex program over their patterns, pattern generation
    ("ours: arrangements, seeded patterns (= auto)",
     dict(solver="arrangements", patterns="seeded", random_state=0, tol=1e-6)),
]

#: label -> fn(X, y, beta) returning dict(hidden_weights (d, m), hidden_bias (m,),
#: output_weights (m,), intercept[, notes]).  For python-level solvers, e.g.
#:   ADAPTERS["ours: my_solver"] = lambda X, y, beta: my_solver(X, y, beta=beta)._asdict()
ADAPTERS = {}

BASELINES = ("pyscnn", "cvxpy", "backprop")


# ---------------------------------------------------------------------------------- data
def make_synthetic(n=500, d=20, k=10, noise=0.1, seed=0):
    """Planted teacher: y = sum_j w_j (u_j^T x + b_j)_+ + noise, x ~ N(0, I_d)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    U = rng.standard_normal((d, k)) / np.sqrt(d)  # u_j^T x ~ N(0, 1)
    b = 0.5 * rng.standard_normal(k)
    w = rng.standard_normal(k)
    clean = np.maximum(X @ U + b, 0.0) @ w
    y = clean + noise * clean.std() * rng.standard_normal(n)
    return X, y


def default_data_dir():
    """``../shared/data`` relative to the repository root (the first ``shared/data`` found
    walking up from the root, so a git worktree nested deeper also finds it)."""
    d = os.path.dirname(ROOT)
    while True:
        cand = os.path.join(d, "shared", "data")
        if os.path.isdir(cand) or os.path.dirname(d) == d:
            return cand if os.path.isdir(cand) else os.path.join(os.path.dirname(ROOT),
                                                                 "shared", "data")
        d = os.path.dirname(d)


def standardize(X, y):
    mu, sd = X.mean(axis=0), X.std(axis=0)
    sd[sd == 0] = 1.0
    return (X - mu) / sd, (y - y.mean()) / (y.std() or 1.0)


def load_data(name, data_dir, max_samples=None, seed=0):
    if name == "synthetic":
        X, y = make_synthetic()
        src = "planted teacher (n=500, d=20, 10 neurons with biases, 10% noise, seed 0)"
    else:
        path = os.path.join(data_dir, f"{name}.npz")
        with np.load(path) as z:
            X, y = np.asarray(z["X_train"], float), np.asarray(z["y_train"], float).ravel()
        src = f"{path} (X_train, y_train)"
    if max_samples is not None and X.shape[0] > max_samples:
        idx = np.sort(np.random.default_rng(seed).choice(X.shape[0], max_samples, replace=False))
        X, y = X[idx], y[idx]
        src += f", random subsample of {max_samples} rows (seed {seed})"
    X, y = standardize(X, y)
    return X, y, src


# ----------------------------------------------------------------------- shared objective
def objective(X, y, net, beta):
    """The ONE scoring function: fastconvexrelu.network_objective (squared loss)."""
    from fastconvexrelu._objective import network_objective

    return network_objective(X, y, net["hidden_weights"], net["hidden_bias"],
                             net["output_weights"], net["intercept"], beta, "squared")


def sample_gates(X, n_gates, seed, kind="origin"):
    """Gates ``(G (d, n_gates), h (n_gates,))`` defining the patterns 1[X g_i + h_i > 0].

    ``g_i ~ N(0, I_d)``: the same draw as pyscnn's ``sample_gate_vectors(seed, d, n_gates)``
    (numpy ``default_rng(seed).standard_normal``).  ``kind="origin"``: h = 0 (pyscnn's default:
    hyperplanes through the origin); ``kind="samples"``: h_i = -x_k^T g_i for a random sample k
    (hyperplanes through data points, as the kinks of Corollary 2.1; affine patterns)."""
    n, d = X.shape
    G = np.random.default_rng(seed).standard_normal((d, n_gates))
    if kind == "origin":
        return G, np.zeros(n_gates)
    k = np.random.default_rng(seed + 1).integers(0, n, n_gates)
    return G, -np.einsum("ij,ji->i", X[k], G)


def patterns_from_gates(X, G, h):
    """Distinct non-zero activation patterns 1[X g_i + h_i > 0] as an (n, P) 0/1 matrix
    (pyscnn's filtering: duplicates and the all-zero pattern removed)."""
    M = (X @ G + h > 0).astype(np.float64)
    M = np.unique(M, axis=1)
    return M[:, M.any(axis=0)]


# --------------------------------------------------------------------------------- ours
def run_ours_estimator(X, y, beta, kwargs):
    from fastconvexrelu import ConvexReLURegressor

    est = ConvexReLURegressor(beta=beta, bias=True, **kwargs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0, c0 = time.perf_counter(), time.process_time()
        est.fit(X, y)
        t, cpu = time.perf_counter() - t0, time.process_time() - c0
    notes = [f"solver_={getattr(est, 'solver_', '?')}", f"n_active={getattr(est, 'n_active_', '?')}"]
    src = getattr(est, "patterns_source_", None)
    if src is not None:
        notes.append(f"patterns_source_={src}, n_patterns_={getattr(est, 'n_patterns_', '?')}")
    gap = getattr(est, "duality_gap_", None)
    if gap is not None:
        notes.append(f"duality_gap_={gap:.3g}")
    notes.append(f"CPU time {cpu:.1f}s (all threads)")
    rg = getattr(est, "restricted_gap_", None)
    if rg is not None:
        notes.append(f"restricted_gap_={rg:.3g}")
    rgap = getattr(est, "relaxation_gap_", None)
    if rgap is not None:
        notes.append(f"relaxation_gap_={rgap:.3g}")
    if getattr(est, "converged_", True) is False:
        notes.append("NOT converged")
    for w in caught:
        notes.append(f"{type(w.message).__name__}")
    net = dict(hidden_weights=est.hidden_weights_, hidden_bias=est.hidden_bias_,
               output_weights=est.output_weights_, intercept=est.intercept_)
    return net, t, notes, getattr(est, "objective_", None)


# ------------------------------------------------------------------------------- pyscnn
def run_pyscnn(X, y, lam, n_gates, seed, dtype, gates):
    from scnn.metrics import Metrics
    from scnn.models import ConvexReLU
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import AL

    G, h = sample_gates(X, n_gates, seed, gates)
    model = ConvexReLU(G, c=1, bias=True, G_bias=h)
    t0 = time.perf_counter()
    nc, _ = optimize_model(model, AL(model), Metrics(), X, y, regularizer=NeuronGL1(lam),
                           unitize_data=False, dtype=dtype, seed=seed)
    t = time.perf_counter() - t0
    W1, b1, W2 = (np.asarray(p, dtype=np.float64) for p in nc.parameters)
    net = dict(hidden_weights=W1.T, hidden_bias=b1, output_weights=W2.ravel(), intercept=0.0)
    # cross-check the conversion against pyscnn's own forward pass
    f_scnn = np.asarray(nc(X), dtype=np.float64).ravel()
    f_ours = np.maximum(X @ W1.T + b1, 0.0) @ W2.ravel()
    err = float(np.max(np.abs(f_scnn - f_ours)))
    own = 0.5 * float(np.sum((f_scnn - y) ** 2)) + lam * X.shape[0] * float(
        np.sum(np.abs(W2.ravel()) * np.sqrt(np.sum(W1 ** 2, axis=1) + b1 ** 2)))
    notes = [f"AL, {n_gates} gates ({gates}) "
             f"(max_neurons={2 * n_gates}), {W1.shape[0]} neurons returned, dtype={dtype}",
             f"own objective (bias penalized) x n = {own:.6g}", f"forward check {err:.1e}"]
    return net, t, notes


# ----------------------------------------------------------------------- CVXPY + Clarabel
def run_cvxpy(X, y, beta, n_gates, seed, gates):
    M = patterns_from_gates(X, *sample_gates(X, n_gates, seed, gates))  # (n, P)
    return run_cvxpy_patterns(X, y, beta, M,
                              f"{M.shape[1]} distinct patterns from the {n_gates} pyscnn gates "
                              f"({gates})")


def run_cvxpy_patterns(X, y, beta, M, what):
    """The sampled-pattern convex program over the patterns (columns of the 0/1 matrix M)."""
    import cvxpy as cp

    n, d = X.shape
    P = M.shape[1]
    S = 2.0 * M - 1.0
    Xt = np.hstack([X, np.ones((n, 1))])
    V = cp.Variable((d + 1, P))
    W = cp.Variable((d + 1, P))
    c = cp.Variable()
    XV, XW = Xt @ V, Xt @ W
    f = cp.sum(cp.multiply(M, XV - XW), axis=1) + c
    pen = cp.sum(cp.norm(V[:d, :], 2, axis=0)) + cp.sum(cp.norm(W[:d, :], 2, axis=0))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(f - y) + beta * pen),
                      [cp.multiply(S, XV) >= 0, cp.multiply(S, XW) >= 0])
    t0 = time.perf_counter()
    prob.solve(solver=cp.CLARABEL)
    t = time.perf_counter() - t0
    if V.value is None:
        raise RuntimeError(f"CVXPY status {prob.status}")
    net = network_from_convex(np.asarray(V.value), np.asarray(W.value), float(c.value), d)
    solve_t = getattr(prob.solver_stats, "solve_time", None)
    notes = [what, f"status {prob.status}",
             f"convex objective {prob.value:.8g}",
             f"Clarabel solve {solve_t:.2f} s" if solve_t is not None else "",
             f"{len(net['output_weights'])} neurons"]
    return net, t, [s for s in notes if s]


def network_from_convex(V, W, c, d, rel=1e-9):
    """Neurons of the convex solution: for each column v of V (sign +1) and of W (sign -1),
    s = sqrt(||v[:d]||), u = v[:d]/s, b = v[d]/s, w = +-s, so |w| ||u|| = ||v[:d]|| and
    w (u^T x + b)_+ = +-(Xt v)_+; a column with v[:d] = 0 is the constant neuron (b)_+."""
    cols = []
    scale = max(float(np.max(np.abs(V))) if V.size else 0.0,
                float(np.max(np.abs(W))) if W.size else 0.0, 1e-300)
    for Z, sgn in ((V, 1.0), (W, -1.0)):
        for v in Z.T:
            if np.max(np.abs(v)) <= rel * scale:
                continue
            nu = float(np.linalg.norm(v[:d]))
            if nu > 0:
                s = np.sqrt(nu)
                cols.append((v[:d] / s, v[d] / s, sgn * s))
            else:
                cols.append((np.zeros(d), v[d], sgn))
    if not cols:
        return dict(hidden_weights=np.zeros((d, 0)), hidden_bias=np.zeros(0),
                    output_weights=np.zeros(0), intercept=c)
    U = np.column_stack([u for u, _, _ in cols])
    return dict(hidden_weights=U, hidden_bias=np.array([b for _, b, _ in cols]),
                output_weights=np.array([w for _, _, w in cols]), intercept=c)


# ------------------------------------------------------------------------------ backprop
def run_backprop(X, y, beta, m, seed, adam_iters, lbfgs_iters, lr):
    """One seed; returns (net, time, note)."""
    try:
        import torch
    except ImportError:
        torch = None
    n, d = X.shape
    rng = np.random.default_rng(seed)
    U0 = rng.standard_normal((d, m)) * np.sqrt(2.0 / d)
    b0 = 0.1 * rng.standard_normal(m)
    w0 = rng.standard_normal(m) / np.sqrt(m)
    t0 = time.perf_counter()
    if torch is not None:
        torch.set_num_threads(1)
        Xt, yt = torch.tensor(X), torch.tensor(y)
        params = [torch.tensor(a, requires_grad=True) for a in (U0, b0, w0)]
        c = torch.zeros((), dtype=torch.float64, requires_grad=True)
        params.append(c)

        def loss_fn():
            U, b, w, cc = params
            f = torch.relu(Xt @ U + b) @ w + cc
            return (0.5 * torch.sum((f - yt) ** 2)
                    + 0.5 * beta * (torch.sum(U ** 2) + torch.sum(w ** 2))) / n

        opt = torch.optim.Adam(params, lr=lr)
        for _ in range(adam_iters):
            opt.zero_grad()
            L = loss_fn()
            L.backward()
            opt.step()
        if lbfgs_iters > 0:
            opt = torch.optim.LBFGS(params, lr=1.0, max_iter=lbfgs_iters, history_size=50,
                                    tolerance_grad=1e-12, tolerance_change=1e-15,
                                    line_search_fn="strong_wolfe")

            def closure():
                opt.zero_grad()
                L = loss_fn()
                L.backward()
                return L

            opt.step(closure)
        U, b, w, cc = (p.detach().numpy().copy() for p in params)
        cc = float(cc)
        how = f"torch Adam {adam_iters} + L-BFGS {lbfgs_iters}"
    else:  # numpy full-batch Adam
        U, b, w, cc = U0, b0, w0, 0.0
        mom = [np.zeros_like(a) for a in (U, b, w)] + [0.0]
        vel = [np.zeros_like(a) for a in (U, b, w)] + [0.0]
        b1, b2, eps = 0.9, 0.999, 1e-8
        for it in range(1, adam_iters + 1):
            Z = X @ U + b
            H = np.maximum(Z, 0.0)
            r = (H @ w + cc - y) / n
            gw = H.T @ r + beta * w / n
            gZ = np.outer(r, w) * (Z > 0)
            grads = [X.T @ gZ + beta * U / n, gZ.sum(axis=0), gw, float(r.sum())]
            vals = [U, b, w, cc]
            for i in range(4):
                mom[i] = b1 * mom[i] + (1 - b1) * grads[i]
                vel[i] = b2 * vel[i] + (1 - b2) * grads[i] ** 2
                step = lr * (mom[i] / (1 - b1 ** it)) / (np.sqrt(vel[i] / (1 - b2 ** it)) + eps)
                vals[i] = vals[i] - step
            U, b, w, cc = vals
        how = f"numpy Adam {adam_iters}"
    t = time.perf_counter() - t0
    return dict(hidden_weights=U, hidden_bias=b, output_weights=w, intercept=cc), t, how


# ------------------------------------------------------------------- child-process runner
def _child(conn, fn, args):
    try:
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
        except ImportError:
            pass
        conn.send(("ok", fn(*args)))
    except BaseException as e:  # report any failure to the parent
        conn.send(("error", f"{type(e).__name__}: {e}", traceback.format_exc()))
    finally:
        conn.close()


def run_limited(fn, args, time_limit):
    """fn(*args) in a forked child with a wall-time limit; ('ok', result) | ('error', msg, tb)
    | ('timeout',)."""
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(child, fn, args), daemon=True)
    p.start()
    child.close()
    if parent.poll(time_limit):
        try:
            out = parent.recv()
        except EOFError:
            out = ("error", f"child died (exit code {p.exitcode})", "")
        p.join()
        return out
    p.terminate()
    p.join()
    return ("timeout",)


# ----------------------------------------------------------------------------------- run
def bench_dataset(name, args):
    X, y, src = load_data(name, args.data_dir, args.max_samples)
    n, d = X.shape
    beta = n * args.lam
    print(f"\n== {name}: n={n}, d={d}, lam={args.lam:g}, beta=n*lam={beta:g} ==\n   {src}",
          flush=True)
    rows = []  # (method, J or None, time or None, notes)

    def add(method, net, t, notes):
        J = objective(X, y, net, beta)
        rows.append((method, J, t, "; ".join(notes)))
        print(f"   {method:28s} J={J:.8g}  time={t:.3f}s  {'; '.join(notes)}", flush=True)

    def na(method, reason):
        rows.append((method, None, None, reason))
        print(f"   {method:28s} {reason}", flush=True)

    skip = set(args.skip)
    # ours
    for label, kw in OURS:
        if "ours" in skip or label in skip:
            na(label, "skipped (--skip)")
            continue
        try:
            net, t, notes, reported = run_ours_estimator(X, y, beta, kw)
        except (ValueError, TypeError, NotImplementedError) as e:
            na(label, f"n/a ({type(e).__name__}: {str(e).splitlines()[0][:160]})")
            continue
        except Exception as e:  # a crash of one configuration must not end the run
            traceback.print_exc()
            na(label, f"failed ({type(e).__name__}: {str(e).splitlines()[0][:160]})")
            continue
        if reported is not None:
            notes.insert(0, f"objective_={reported:.8g}")
        add(label, net, t, notes)
    for label, fn in ADAPTERS.items():
        if "ours" in skip or label in skip:
            na(label, "skipped (--skip)")
            continue
        try:
            t0 = time.perf_counter()
            out = dict(fn(X, y, beta))
            t = time.perf_counter() - t0
        except (ValueError, TypeError, NotImplementedError) as e:
            na(label, f"n/a ({type(e).__name__}: {str(e).splitlines()[0][:160]})")
            continue
        except Exception as e:  # a crash of one configuration must not end the run
            traceback.print_exc()
            na(label, f"failed ({type(e).__name__}: {str(e).splitlines()[0][:160]})")
            continue
        notes = [str(out.pop("notes"))] if "notes" in out else []
        add(label, out, t, notes)

    # baselines, each in a child process with a time limit
    if "pyscnn" in skip:
        na("pyscnn 0.0.10 (AL)", "skipped (--skip)")
    else:
        res = run_limited(run_pyscnn, (X, y, args.lam, args.n_gates, args.seed, args.scnn_dtype,
                                       args.gates), args.time_limit)
        _record(res, "pyscnn 0.0.10 (AL)", add, na, args.time_limit)

    if "cvxpy" in skip:
        na("CVXPY + Clarabel", "skipped (--skip)")
    else:
        P_est = args.n_gates  # patterns <= gates
        nnz = 2 * P_est * n * (d + 1)
        if nnz > args.cvxpy_max_nnz:
            na("CVXPY + Clarabel", f"skipped (constraint matrix ~{nnz:.1e} nonzeros > "
                                   f"--cvxpy-max-nnz {args.cvxpy_max_nnz:.0e})")
        else:
            res = run_limited(run_cvxpy, (X, y, beta, args.n_gates, args.seed, args.gates),
                              args.time_limit)
            _record(res, "CVXPY + Clarabel", add, na, args.time_limit)

    if "backprop" in skip:
        na("backprop (best of seeds)", "skipped (--skip)")
    else:
        seeds_out = []
        for s in range(args.bp_seeds):
            res = run_limited(run_backprop, (X, y, beta, args.bp_width, s, args.bp_adam,
                                             args.bp_lbfgs, args.bp_lr), args.time_limit)
            if res[0] == "ok":
                net, t, how = res[1]
                seeds_out.append((objective(X, y, net, beta), t, net, how))
                print(f"     backprop seed {s}: J={seeds_out[-1][0]:.8g} time={t:.2f}s", flush=True)
            else:
                print(f"     backprop seed {s}: {res[0]} {res[1] if len(res) > 1 else ''}",
                      flush=True)
        if seeds_out:
            best = min(range(len(seeds_out)), key=lambda i: seeds_out[i][0])
            Jb, tb, netb, how = seeds_out[best]
            per = ", ".join(f"seed {i}: J={J:.6g} ({t:.1f}s)" for i, (J, t, _, _) in
                            enumerate(seeds_out))
            total = sum(t for _, t, _, _ in seeds_out)
            add("backprop (best of seeds)", netb,
                tb, [f"m={args.bp_width}, {how}, best seed {best}; total {total:.1f}s for "
                     f"{len(seeds_out)} seeds; {per}"])
            # the convex program over the activation patterns of the best backprop network:
            # that network is feasible for it, so its optimum is <= the backprop J
            if "cvxpy_bp" in skip:
                na("CVXPY on backprop's patterns", "skipped (--skip)")
            else:
                Mb = (X @ netb["hidden_weights"] + netb["hidden_bias"] > 0).astype(float)
                Mb = np.unique(Mb, axis=1)
                Mb = Mb[:, Mb.any(axis=0)]
                nnz = 2 * Mb.shape[1] * n * (d + 1)
                if nnz > args.cvxpy_max_nnz:
                    na("CVXPY on backprop's patterns",
                       f"skipped (~{nnz:.1e} nonzeros > --cvxpy-max-nnz)")
                else:
                    res = run_limited(run_cvxpy_patterns,
                                      (X, y, beta, Mb, f"the {Mb.shape[1]} distinct patterns of "
                                       "the best backprop network"), args.time_limit)
                    _record(res, "CVXPY on backprop's patterns", add, na, args.time_limit)
        else:
            na("backprop (best of seeds)", f"skipped (no seed finished within {args.time_limit:g} s)")

    key = name + (f" ({args.tag})" if args.tag else "")
    load_end = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return dict(name=key, n=n, d=d, beta=beta, src=src, rows=rows, load_end=load_end)


def _record(res, method, add, na, limit):
    if res[0] == "ok":
        net, t, notes = res[1]
        add(method, net, t, notes)
    elif res[0] == "timeout":
        na(method, f"skipped (time limit {limit:g} s exceeded)")
    else:
        na(method, f"failed ({res[1][:200]})")
        print(res[2], file=sys.stderr)


# -------------------------------------------------------------------------------- output
def section(result, args, info, cmd):
    rows = result["rows"]
    Js = [J for _, J, _, _ in rows if J is not None and np.isfinite(J)]
    Jbest = min(Js) if Js else None
    out = [f"## {result['name']}", "",
           f"n = {result['n']}, d = {result['d']}, lam = {args.lam:g}, "
           f"beta = n * lam = {result['beta']:g}; gates: {args.gates}, {args.n_gates} (seed "
           f"{args.seed}); data: {result['src']}; X and y standardized.",
           "", f"Command: `{cmd}`", "",
           "Machine: " + ", ".join(f"{k}={v}" for k, v in info.items())
           + f"; load average at the end of this data set: {result.get('load_end', '?')}", "",
           "| data | method | J | rel. J vs best | time (s) | notes |",
           "| --- | --- | --- | --- | --- | --- |"]
    for method, J, t, notes in rows:
        if J is None:
            out.append(f"| {result['name']} | {method} | - | - | - | {notes} |")
        else:
            rel = (J - Jbest) / abs(Jbest) if Jbest else float("nan")
            out.append(f"| {result['name']} | {method} | {J:.8g} | {rel:.2e} | {t:.3f} | "
                       f"{notes} |")
    return "\n".join(out) + "\n"


def write_markdown(path, sections):
    """Replace the sections of the data sets just run, keep the others."""
    head = ("# General-data benchmark (bench/bench_general.py)\n\n"
            "J = 1/2 ||f(X) - y||^2 + beta sum_j |w_j| ||u_j|| (biases and intercept "
            "unpenalized), computed by `fastconvexrelu.network_objective` from each method's "
            "returned network; rel. J = J / J_best - 1 within a data set; time = wall time of "
            "the fit (backprop: the best seed's; total in the notes). See the script's "
            "docstring for each method's exact setup.\n")
    old = {}
    order = []
    if os.path.exists(path):
        with open(path) as fh:
            text = fh.read()
        for chunk in text.split("\n## ")[1:]:
            key = chunk.split("\n", 1)[0].strip()
            old[key] = "## " + chunk.rstrip("\n") + "\n"
            order.append(key)
    for name, body in sections.items():
        if name not in old:
            order.append(name)
        old[name] = body
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(head + "\n" + "\n".join(old[k] for k in order))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", choices=["synthetic", "boston", "california", "all"],
                   default="all")
    p.add_argument("--data-dir", default=default_data_dir(),
                   help="folder with boston.npz, california.npz (default ../shared/data "
                        "relative to the repository root)")
    p.add_argument("--lam", type=float, default=1e-3, help="pyscnn's lambda; beta = n * lam")
    p.add_argument("--max-samples", type=int, default=None, help="subsample rows (seed 0)")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "general.md"))
    p.add_argument("--skip", nargs="*", default=[],
                   help="methods to skip: ours, pyscnn, cvxpy, backprop, cvxpy_bp (the convex "
                        "program on backprop's patterns) or an OURS/ADAPTERS label")
    p.add_argument("--time-limit", type=float, default=900.0,
                   help="wall-time limit (s) of each baseline run (pyscnn, CVXPY, each backprop "
                        "seed)")
    p.add_argument("--n-gates", type=int, default=100,
                   help="sampled gates for pyscnn and CVXPY (pyscnn max_neurons = 2x; "
                        "default 100, i.e. max_neurons = 200)")
    p.add_argument("--seed", type=int, default=778, help="gate seed (pyscnn's default 778)")
    p.add_argument("--gates", choices=["origin", "samples"], default="origin",
                   help="gate hyperplanes for pyscnn and CVXPY: through the origin (pyscnn's "
                        "default) or through random data points (affine patterns)")
    p.add_argument("--tag", default="",
                   help="suffix of the data set's section in --out (to keep variants apart)")
    p.add_argument("--scnn-dtype", choices=["float32", "float64"], default="float64")
    p.add_argument("--cvxpy-max-nnz", type=float, default=1e7,
                   help="skip CVXPY when its constraint matrix would exceed this many nonzeros")
    p.add_argument("--bp-width", type=int, default=200)
    p.add_argument("--bp-seeds", type=int, default=5)
    p.add_argument("--bp-adam", type=int, default=5000, help="Adam iterations (full batch)")
    p.add_argument("--bp-lbfgs", type=int, default=3000, help="L-BFGS iterations after Adam")
    p.add_argument("--bp-lr", type=float, default=1e-2)
    args = p.parse_args(argv)

    names = ["synthetic", "boston", "california"] if args.data == "all" else [args.data]
    info = machine_info(("torch", "cvxpy", "clarabel"))
    try:
        from importlib.metadata import version

        info["pyscnn"] = version("pyscnn")
    except Exception:  # not installed
        info["pyscnn"] = "not installed"
    for k, v in info.items():
        print(f"{k}: {v}")
    cmd = "python " + " ".join(shlex.quote(a) for a in
                               [os.path.relpath(os.path.abspath(__file__), ROOT)] +
                               (sys.argv[1:] if argv is None else list(argv)))
    sections = {}
    for name in names:
        res = bench_dataset(name, args)
        sections[res["name"]] = section(res, args, info, cmd)
        write_markdown(args.out, sections)
    print(f"\nresults written to {args.out}")


if __name__ == "__main__":
    main()
