#!/usr/bin/env python
r"""Certified duality gaps on real data (issue 17): the exact, anytime dual oracle
(``fastconvexrelu.certify_network``, branch and bound for
sigma(g) = max_{||u|| <= 1, b} |g^T (X u + b 1)_+|) applied to

* the network of ``ConvexReLURegressor`` / ``ConvexReLUClassifier(loss="logistic")``
  (``solver="auto"``, ``beta = lam * n``), certified by ``est.certify(X, y, time_limit)``;
* the best (lowest J) of 5 backprop networks (numpy full-batch Adam on
  L + beta/2 (||U||_F^2 + ||w||^2), m hidden units with biases and intercept, 5 seeds),
  certified by the same function.

J = L(f(X), y) + beta sum_j |w_j| ||u_j||_2 (``fastconvexrelu.network_objective``); the gap is
a proven upper bound on J - J* (J* the global optimum over all widths); "gap %" = gap / J.
Data: Boston (405 rows, d = 13), a 2000-row California subsample (d = 8, seed 0), breast
cancer (sklearn.datasets, d = 30, logistic loss, labels +-1), the synthetic planted teacher of
bench/bench_general.py (n = 500, d = 20); X (and y for regression) standardized.

Usage:
    PYTHONPATH=python python bench/bench_certificate.py --data boston california --time-limit 600
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _machine import machine_info  # noqa: E402
from bench_general import default_data_dir, load_data, make_synthetic, standardize  # noqa: E402


def load(name, data_dir):
    if name == "boston":
        X, y, src = load_data("boston", data_dir)
        return X, y, "squared", src
    if name == "california":
        X, y, src = load_data("california", data_dir, max_samples=2000, seed=0)
        return X, y, "squared", src
    if name == "synthetic":
        X, y = make_synthetic()
        X, y = standardize(X, y)
        return X, y, "squared", "planted teacher of bench_general.py (n=500, d=20)"
    if name == "breast_cancer":
        from sklearn.datasets import load_breast_cancer

        X, y = load_breast_cancer(return_X_y=True)
        X = (X - X.mean(axis=0)) / X.std(axis=0)
        return X, np.where(y > 0, 1.0, -1.0), "logistic", "sklearn.datasets.load_breast_cancer"
    raise ValueError(f"unknown data set {name!r}")


def backprop(X, y, beta, loss, m, seed, iters, lr):
    """Full-batch Adam on L + beta/2 (||U||^2 + ||w||^2) (numpy, float64)."""
    n, d = X.shape
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((d, m)) * np.sqrt(2.0 / d)
    b = 0.1 * rng.standard_normal(m)
    w = rng.standard_normal(m) / np.sqrt(m)
    c = 0.0
    vals = [U, b, w, c]
    mom = [np.zeros_like(a) if np.ndim(a) else 0.0 for a in vals]
    vel = [np.zeros_like(a) if np.ndim(a) else 0.0 for a in vals]
    b1, b2, eps = 0.9, 0.999, 1e-8
    for it in range(1, iters + 1):
        U, b, w, c = vals
        Z = X @ U + b
        H = np.maximum(Z, 0.0)
        f = H @ w + c
        if loss == "squared":
            r = f - y
        else:  # logistic: d/df log(1 + exp(-y f))
            r = -y / (1.0 + np.exp(np.clip(y * f, -700, 700)))
        gZ = np.outer(r, w) * (Z > 0)
        grads = [X.T @ gZ + beta * U, gZ.sum(axis=0), H.T @ r + beta * w, float(r.sum())]
        for i in range(4):
            mom[i] = b1 * mom[i] + (1 - b1) * grads[i] / n
            vel[i] = b2 * vel[i] + (1 - b2) * (grads[i] / n) ** 2
            vals[i] = vals[i] - lr * (mom[i] / (1 - b1 ** it)) / (np.sqrt(vel[i] / (1 - b2 ** it)) + eps)
    U, b, w, c = vals
    return U, b, w, float(c)


def main(argv=None):
    import fastconvexrelu as fcr

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", nargs="+", default=["boston", "california", "breast_cancer", "synthetic"])
    p.add_argument("--data-dir", default=default_data_dir())
    p.add_argument("--lam", type=float, default=1e-3, help="beta = lam * n")
    p.add_argument("--time-limit", type=float, default=600.0, help="seconds per certificate")
    p.add_argument("--bp-time-limit", type=float, default=None,
                   help="seconds per backprop certificate (default: --time-limit)")
    p.add_argument("--bp-width", type=int, default=50)
    p.add_argument("--bp-iters", type=int, default=4000)
    p.add_argument("--bp-lr", type=float, default=1e-2)
    p.add_argument("--bp-seeds", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--skip-backprop", action="store_true")
    args = p.parse_args(argv)
    print("machine:", machine_info())
    print("command:", " ".join(sys.argv))
    rows = []
    for name in args.data:
        X, y, loss, src = load(name, args.data_dir)
        n, d = X.shape
        beta = args.lam * n
        print(f"\n== {name}: n={n} d={d} loss={loss} beta={beta:g} ({src})", flush=True)
        Est = fcr.ConvexReLURegressor if loss == "squared" else fcr.ConvexReLUClassifier
        kw = {} if loss == "squared" else {"loss": "logistic"}
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est = Est(beta=beta, **kw).fit(X, y)
        t_fit = time.perf_counter() - t0
        est.certify(X, y, time_limit=args.time_limit, n_threads=args.threads)
        cert = est.certificate_
        print(f"convex fit: J={cert.objective:.6g} ({t_fit:.1f} s, {est.n_active_} neurons)  "
              f"gap={cert.duality_gap:.4g} ({100 * cert.duality_gap / cert.objective:.2f} %)  "
              f"{cert.message}", flush=True)
        rows.append((name, n, d, loss, beta, "ours (solver='auto')", t_fit, cert))
        if args.skip_backprop:
            continue
        best = None
        for seed in range(args.bp_seeds):
            t0 = time.perf_counter()
            net = backprop(X, y, beta, loss, args.bp_width, seed, args.bp_iters, args.bp_lr)
            tb = time.perf_counter() - t0
            J = fcr.network_objective(X, y, *net, beta, loss)
            print(f"  backprop seed {seed}: J={J:.6g} ({tb:.1f} s)", flush=True)
            if best is None or J < best[0]:
                best = (J, net, tb)
        cert_bp = fcr.certify_network(X, y, *best[1], beta=beta, loss=loss,
                                      time_limit=args.bp_time_limit or args.time_limit,
                                      n_threads=args.threads)
        print(f"best backprop: J={cert_bp.objective:.6g}  gap={cert_bp.duality_gap:.4g} "
              f"({100 * cert_bp.duality_gap / cert_bp.objective:.2f} %)  {cert_bp.message}",
              flush=True)
        rows.append((name, n, d, loss, beta, f"best of {args.bp_seeds} backprop (m={args.bp_width})",
                     best[2], cert_bp))
    print("\n| data | n | d | loss | beta | network | J | certified gap | gap / J | sigma upper / beta "
          "| sigma found / beta | oracle | certify time (s) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, n, d, loss, beta, what, tfit, c in rows:
        print(f"| {name} | {n} | {d} | {loss} | {beta:g} | {what} | {c.objective:.6g} | "
              f"{c.duality_gap:.4g} | {100 * c.duality_gap / c.objective:.2f} % | "
              f"{c.sigma_upper / beta:.4f} | {c.sigma_lower / beta:.4f} | {c.status} | "
              f"{c.seconds:.1f} |")


if __name__ == "__main__":
    main()
