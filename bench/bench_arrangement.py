"""Timings of the arrangement kernels (issue 3): exact pattern enumeration, the exact pattern
oracle, and the bias=True cutting plane (Algorithm 3).

Run from the repo root:  python bench/bench_arrangement.py [--quick]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine_info  # noqa: E402

from fastconvexrelu import ConvergenceWarning  # noqa: E402
from fastconvexrelu.arrangement import enumerate_patterns, pattern_oracle, sample_patterns  # noqa: E402
from fastconvexrelu.cutting_plane import cutting_plane  # noqa: E402


def best_of(fn, reps):
    best, out = np.inf, None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    print(machine_info())
    rng = np.random.default_rng(0)

    print("\n## enumerate_patterns (Gaussian X, general position)")
    print("| n | d | bias | patterns | time |")
    print("|---:|---:|:---:|---:|---:|")
    for d in (2, 3):
        for n in (12, 24, 36, 48, 60):
            X = rng.standard_normal((n, d))
            for bias in (True, False):
                t, E = best_of(lambda: enumerate_patterns(X, bias=bias, max_patterns=10**6), 3 if n < 60 else 1)
                print(f"| {n} | {d} | {bias} | {E.count} | {t * 1e3:.1f} ms |")

    print("\n## pattern_oracle: 200 sampled patterns, v centred, both signs (2 threads)")
    print("| n | d | bias | time | status counts |")
    print("|---:|---:|:---:|---:|---|")
    for n, d in ((500, 20), (2000, 20)) if not args.quick else ((500, 20),):
        X = rng.standard_normal((n, d))
        v = rng.standard_normal(n)
        v -= v.mean()
        for bias in (True, False):
            S = sample_patterns(X, 200, bias=bias, random_state=1)
            t, r = best_of(lambda: pattern_oracle(X, v, S.patterns, bias=bias), 3)
            print(f"| {n} | {d} | {bias} | {t * 1e3:.1f} ms | {np.bincount(r.status.ravel(), minlength=3).tolist()} |")

    print("\n## cutting_plane(bias=True), squared loss, y = sin(2 X a) + 0.1 noise")
    print("| n | d | beta | rounds | status | J | duality gap | searched gap | patterns | time |")
    print("|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    cases = [(12, 2, 0.1), (30, 2, 0.1), (60, 2, 0.1), (30, 3, 0.1), (200, 5, 1.0), (500, 20, 5.0)]
    if args.quick:
        cases = cases[:3]
    for n, d, beta in cases:
        X = rng.standard_normal((n, d))
        y = np.sin(2 * X @ rng.standard_normal(d) / np.sqrt(d)) + 0.1 * rng.standard_normal(n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            t, r = best_of(lambda: cutting_plane(X, y, beta=beta, bias=True, max_iter=100), 1)
        print(f"| {n} | {d} | {beta} | {r.n_iter} | {r.status} | {r.objective:.6g} | "
              f"{r.duality_gap:.2e} | {r.relaxation_gap:.2e} | {r.n_patterns} | {t:.2f} s |")


if __name__ == "__main__":
    main()
