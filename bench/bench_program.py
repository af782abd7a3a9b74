"""Timing of the arrangement-program solver (issue 3) on the planted-teacher target problem.

    PYTHONPATH=python python bench/bench_program.py [--n 500 --d 20 --P 200] [--california]

Planted teacher: x ~ N(0, I_d), y from 10 random ReLU neurons plus 10% noise; P distinct
patterns sampled as 1[X u + b > 0] with Gaussian (u, b); squared loss, beta = n * 1e-3.
Prints the wall time, J of the returned network, the restricted gap and the status.
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fastconvexrelu.arrangement_program import solve_arrangement_program  # noqa: E402


def planted(n, d, P, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    H = np.maximum(X @ rng.standard_normal((d, 10)) + 0.5 * rng.standard_normal(10), 0)
    y = H @ rng.standard_normal(10)
    y = y + 0.1 * np.std(y) * rng.standard_normal(n)
    return X, y, sample_patterns(X, P, rng)


def sample_patterns(X, P, rng):
    n, d = X.shape
    U = rng.standard_normal((d, 4 * P))
    b = rng.standard_normal(4 * P) * np.std(X @ U, axis=0).mean()
    D = np.unique((X @ U + b > 0).astype(np.float64), axis=1)
    return D[:, rng.permutation(D.shape[1])[:P]]


def run(name, X, y, D, beta, max_iter, tol):
    t = time.perf_counter()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        r = solve_arrangement_program(X, y, D, beta=beta, tol=tol, max_iter=max_iter)
    dt = time.perf_counter() - t
    print(f"{name}: n={X.shape[0]} d={X.shape[1]} P={D.shape[1]} beta={beta:g}  time {dt:.2f} s  "
          f"J {r.objective:.10g}  restricted gap {r.restricted_gap:.3e}  neurons {r.hidden_weights.shape[1]}  "
          f"converged {r.converged}\n    {r.status}")
    return r, dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--d", type=int, default=20)
    ap.add_argument("--P", type=int, default=200)
    ap.add_argument("--max-iter", type=int, default=100000)
    ap.add_argument("--tol", type=float, default=1e-8)
    ap.add_argument("--california", action="store_true")
    a = ap.parse_args()
    try:
        from _machine import machine_info

        print(machine_info())
    except Exception:  # pragma: no cover
        pass
    X, y, D = planted(a.n, a.d, a.P)
    run("planted teacher", X, y, D, a.n * 1e-3, a.max_iter, a.tol)
    if a.california:
        z = np.load("/work/shared/data/california.npz")
        rng = np.random.default_rng(0)
        idx = rng.permutation(z["X_train"].shape[0])[:16000]
        Xc, yc = z["X_train"][idx], z["y_train"][idx]
        Xc = (Xc - Xc.mean(0)) / Xc.std(0)
        run("california", Xc, yc, sample_patterns(Xc, 100, rng), 16000 * 1e-3, a.max_iter, a.tol)


if __name__ == "__main__":
    main()
