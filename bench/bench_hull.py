#!/usr/bin/env python
"""Benchmark of the hull-neuron QPs (Lemma 2.7, eq. (28)) against OSQP.

For a point set a_1..a_n in R^d (d = 108: 6x6x3 image patches), ``hull_neurons`` solves the n
simplex-constrained QPs

    min_lambda || a_i - sum_{j != i} lambda_j a_j ||_2   s.t.  lambda >= 0, 1^T lambda = 1

with Wolfe's exact minimum-norm-point algorithm (C++, threads over the problems).

Data: random 6x6x3 patches of CIFAR-10 training images, normalized per patch and ZCA-whitened
as in Algorithm 2 (Convex-RF) of the paper, when ``--data-dir/cifar10_jpeg.npz`` and Pillow are
available; otherwise (or with ``--data gaussian``) i.i.d. standard Gaussian points.

Measured, for each n:
  * ours: wall time of ``hull_neurons(X)`` (all n problems) with ``--threads`` threads
    (default: all cores) and with 1 thread, best of ``--repeats`` runs; per-problem time =
    total / n;
  * OSQP (the ``osqp`` package, eps_abs = eps_rel = 1e-9, polishing on, warm start off) on
    the same QPs written in OSQP's standard form: min 1/2 lambda^T (2 G) lambda - 2 (X a_i)^T
    lambda  s.t.  1^T lambda = 1, 0 <= lambda_j (lambda_i = 0), with the Gram matrix G = X X^T.
    The matrices do not depend on i, so OSQP is set up (and its KKT matrix factorized) once per
    n and each problem is an ``update(q, l, u)`` + ``solve()``; per-problem time = mean over a
    random subset of the QPs (at most ``--osqp-problems``, stopping once ``--osqp-budget``
    seconds are used), plus the setup time divided by n;
  * agreement: the relative difference of the distances (OSQP's distance is that of its
    lambda clipped to >= 0 and renormalized, a feasible point) -- required <= 1e-6.

Usage:  python bench/bench_hull.py            (full run: n = 500, 2000, 4000; ~10 minutes)
        python bench/bench_hull.py --quick    (n = 500, 1000 and a few OSQP problems; < 1 min)
"""
from __future__ import annotations

import argparse
import io
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine_info as _machine_info  # noqa: E402

HERE = Path(__file__).resolve().parent


# ------------------------------------------------------------------------------ machine
def machine_info():
    return _machine_info(("osqp",))


# --------------------------------------------------------------------------------- data
def cifar_patches(n, data_dir, rng, n_images=3000, eps_norm=10.0, eps_zca=0.1):
    """n random 6x6x3 CIFAR-10 patches, per-patch normalized and ZCA-whitened (Algorithm 2).

    Returns None if the data file or Pillow is missing.
    """
    path = Path(data_dir) / "cifar10_jpeg.npz"
    try:
        from PIL import Image
    except ImportError:
        return None
    if not path.is_file():
        return None
    packed = np.load(path)
    blob, offsets = packed["train_jpeg"], packed["train_offsets"]
    n_images = min(n_images, len(offsets) - 1)
    ids = np.sort(rng.choice(len(offsets) - 1, size=n_images, replace=False))
    raw = blob.tobytes()
    images = np.empty((n_images, 32, 32, 3), dtype=np.float64)
    for k, i in enumerate(ids):
        with Image.open(io.BytesIO(raw[offsets[i]:offsets[i + 1]])) as im:
            images[k] = np.asarray(im.convert("RGB"), dtype=np.float64)
    img = rng.integers(0, n_images, n)
    r = rng.integers(0, 32 - 6 + 1, n)
    c = rng.integers(0, 32 - 6 + 1, n)
    P = np.stack([images[a, b:b + 6, e:e + 6, :].ravel() for a, b, e in zip(img, r, c)])
    # Algorithm 2, step 4: per-patch normalization; step 7: ZCA whitening
    P = (P - P.mean(axis=1, keepdims=True)) / np.sqrt(P.var(axis=1, keepdims=True) + eps_norm)
    P = P - P.mean(axis=0)
    evals, V = np.linalg.eigh(np.cov(P, rowvar=False))
    W = (V / np.sqrt(np.maximum(evals, 0.0) + eps_zca)) @ V.T
    return np.ascontiguousarray(P @ W)


def make_data(n, d, kind, data_dir, seed):
    rng = np.random.default_rng(seed)
    if kind in ("auto", "cifar") and d == 108:
        X = cifar_patches(n, data_dir, rng)
        if X is not None:
            return X, "CIFAR-10 6x6x3 patches, normalized + ZCA-whitened"
        if kind == "cifar":
            raise SystemExit(f"CIFAR-10 patches unavailable (need {data_dir}/cifar10_jpeg.npz "
                             "and Pillow)")
    return rng.standard_normal((n, d)), "i.i.d. Gaussian N(0, 1)"


# --------------------------------------------------------------------------------- ours
def time_ours(X, n_jobs, repeats):
    from fastconvexrelu import hull_neurons

    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = hull_neurons(X, n_jobs=n_jobs)
        best = min(best, time.perf_counter() - t0)
    return best, out


# --------------------------------------------------------------------------------- OSQP
def osqp_subset(X, idx, budget):
    """Solve the QPs i in idx with OSQP (until the time budget is used); returns a dict."""
    import osqp
    import scipy.sparse as sp

    warnings.filterwarnings("ignore", category=PendingDeprecationWarning, module="osqp")

    n = X.shape[0]
    G = X @ X.T
    P = sp.triu(sp.csc_matrix(2.0 * G), format="csc")
    A = sp.vstack([sp.csc_matrix(np.ones((1, n))), sp.eye(n, format="csc")], format="csc")

    def vectors(i):
        q = -2.0 * (X @ X[i])
        lo = np.r_[1.0, np.zeros(n)]
        hi = np.r_[1.0, np.full(n, np.inf)]
        hi[1 + i] = 0.0  # lambda_i = 0: the hull of the *other* samples
        return q, lo, hi

    q, lo, hi = vectors(int(idx[0]))
    solver = osqp.OSQP()
    t0 = time.perf_counter()
    solver.setup(P, q, A, lo, hi, eps_abs=1e-9, eps_rel=1e-9, polishing=True, verbose=False,
                 warm_starting=False, max_iter=100000)
    setup = time.perf_counter() - t0
    times, dists, solved, statuses, iters = [], [], [], [], []
    used = 0.0
    for i in idx:
        i = int(i)
        q, lo, hi = vectors(i)
        t0 = time.perf_counter()
        solver.update(q=q, l=lo, u=hi)
        res = solver.solve()
        el = time.perf_counter() - t0
        lam = np.maximum(res.x, 0.0)
        lam[i] = 0.0
        lam /= lam.sum()
        times.append(el)
        dists.append(float(np.linalg.norm(X[i] - X.T @ lam)))
        solved.append(i)
        statuses.append(f"{res.info.status}{'+polished' if res.info.status_polish == 1 else ''}")
        iters.append(res.info.iter)
        used += el
        if used > budget and len(solved) >= 3:
            break
    return dict(setup=setup, times=np.array(times), dists=np.array(dists),
                idx=np.array(solved), statuses=statuses, iters=np.array(iters))


# --------------------------------------------------------------------------------- main
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, few OSQP problems")
    p.add_argument("--sizes", type=int, nargs="*", default=None,
                   help="point-set sizes n (default 500 2000 4000; quick: 500 1000)")
    p.add_argument("--d", type=int, default=108, help="dimension (default 108 = 6x6x3)")
    p.add_argument("--data", choices=("auto", "cifar", "gaussian"), default="auto")
    p.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"),
                   help="folder with cifar10_jpeg.npz (default ../shared/data)")
    p.add_argument("--threads", type=int, default=None, help="threads for ours (default: all)")
    p.add_argument("--repeats", type=int, default=3, help="timing repeats for ours (best of)")
    p.add_argument("--osqp-problems", type=int, default=None,
                   help="max OSQP problems per n (default 50; quick: 5)")
    p.add_argument("--osqp-budget", type=float, default=None,
                   help="seconds of OSQP solves per n before stopping (default 150; quick: 10)")
    p.add_argument("--no-osqp", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None,
                   help="markdown output (default bench/results/hull.md; quick: none)")
    args = p.parse_args(argv)

    sizes = args.sizes or ([500, 1000] if args.quick else [500, 2000, 4000])
    n_osqp = args.osqp_problems or (5 if args.quick else 50)
    budget = args.osqp_budget if args.osqp_budget is not None else (10.0 if args.quick else 150.0)
    out_path = args.out or (None if args.quick else str(HERE / "results" / "hull.md"))
    info = machine_info()
    threads = args.threads or info["nproc"]
    command = "python bench/bench_hull.py " + " ".join(shlex.quote(a) for a in
                                                        (argv if argv is not None else sys.argv[1:]))
    print(f"# {command}\n# {info}", flush=True)

    rows, details = [], []
    data_desc = None
    for n in sizes:
        X, data_desc = make_data(n, args.d, args.data, args.data_dir, args.seed + n)
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        t_par, (U, b, dist) = time_ours(X, threads, args.repeats)
        t_one, (_, _, dist1) = time_ours(X, 1, args.repeats)
        assert np.array_equal(dist, dist1), "results differ between thread counts"
        row = dict(n=n, d=args.d, t_par=t_par, t_one=t_one, n_zero=int(np.sum(dist == 0)),
                   load=load)
        print(f"n={n}: ours {t_par:.3f} s ({threads} threads), {t_one:.3f} s (1 thread), "
              f"{row['n_zero']} samples with d_i = 0 (1-min load average before: {load:.2f})",
              flush=True)
        if not args.no_osqp:
            rng = np.random.default_rng(args.seed + 7 * n)
            idx = rng.choice(n, size=min(n_osqp, n), replace=False)
            o = osqp_subset(X, idx, budget)
            k = len(o["idx"])
            per = o["times"].mean() + o["setup"] / n
            ref = dist[o["idx"]]
            rel = np.abs(o["dists"] - ref) / np.maximum(ref, 1e-300)
            both_zero = (ref == 0) & (o["dists"] < 1e-6)
            rel[both_zero] = 0.0
            st, cnt = np.unique(o["statuses"], return_counts=True)
            row.update(osqp_k=k, osqp_per=per, osqp_setup=o["setup"], maxrel=float(rel.max()),
                       n_bad=int(np.sum(rel > 1e-6)), osqp_status=", ".join(
                           f"{c}x {s}" for s, c in zip(st, cnt)),
                       osqp_iter=float(np.median(o["iters"])))
            print(f"   OSQP: {k} problems, {o['times'].mean():.3f} s/problem + setup "
                  f"{o['setup']:.2f} s, median {row['osqp_iter']:.0f} iterations "
                  f"({row['osqp_status']}); max rel. distance diff {row['maxrel']:.1e}; "
                  f"speedup per problem {per / (t_par / n):.0f}x ({threads} threads), "
                  f"{per / (t_one / n):.0f}x (1 thread)", flush=True)
        rows.append(row)

    # ---------------------------------------------------------------- markdown
    lines = [
        "# Hull neurons (Lemma 2.7): Wolfe minimum-norm-point kernel vs OSQP",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: nproc = {info['nproc']}, CPU = {info['cpu']}, Python {info['python']}, "
        f"numpy {info['numpy']}, osqp {info['osqp']}, fastconvexrelu {info['fastconvexrelu']}"
        + (f", load average at start {info['load average']}" if "load average" in info else ""),
        "",
        f"Data: {data_desc}, d = {args.d}. Each n is n QPs (28): distance of every sample to "
        "the convex hull of the others. Ours: `hull_neurons(X)` wall time, best of "
        f"{args.repeats}; OSQP: eps_abs = eps_rel = 1e-9, polishing on, one setup per n "
        "(dense P = 2 X X^T; shared KKT factorization) + `update`/`solve` per problem, on a "
        "random subset of the problems (setup amortized over n).",
        "",
        f"| n | ours, all n QPs ({threads} thr) | ours, 1 thr | ours per QP ({threads} thr) "
        "| OSQP per QP (# solved) | speedup per QP "
        f"({threads} thr / 1 thr) | max rel. diff of d_i | OSQP status | samples with d_i = 0 "
        "| load avg before |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        per_ours = r["t_par"] / r["n"]
        if "osqp_per" in r:
            osqp_cell = f"{r['osqp_per'] * 1e3:.1f} ms ({r['osqp_k']})"
            sp_cell = (f"{r['osqp_per'] / per_ours:,.0f}x / "
                       f"{r['osqp_per'] / (r['t_one'] / r['n']):,.0f}x")
            diff_cell = f"{r['maxrel']:.1e}" + (f" ({r['n_bad']} > 1e-6)" if r["n_bad"] else "")
            st_cell = r["osqp_status"]
        else:
            osqp_cell = sp_cell = diff_cell = st_cell = "-"
        lines.append(
            f"| {r['n']} | {r['t_par']:.3f} s | {r['t_one']:.3f} s | {per_ours * 1e3:.3f} ms | "
            f"{osqp_cell} | {sp_cell} | {diff_cell} | {st_cell} | {r['n_zero']} | {r['load']:.2f} |")
    lines += ["", "Targets: >= 100x faster than OSQP per problem; all 4000 QPs in <= 5 s on "
              "2 cores; distances equal to 1e-6 relative. The machine may be shared: a 1-minute "
              "load average near or above 1 before a row means another process held a core "
              "while it was timed (the 2-thread time is then close to the 1-thread time)."]
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    if out_path:
        Path(out_path).parent.mkdir(parents=True, exist_ok=True)
        Path(out_path).write_text(text)
        print(f"written to {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
