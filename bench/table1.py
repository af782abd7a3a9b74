"""The paper's Table 1, image rows: Convex-RF (Algorithm 2) on MNIST, Fashion-MNIST, CIFAR-10.

Usage (from the repository root, package importable):

    python bench/table1.py --datasets mnist,fashion_mnist,cifar10 --P 1600

Prints a Markdown table (test accuracy, wall time) and appends JSON lines to
bench/results/table1_convexrf.jsonl.  Only the Convex-RF row is in this script yet: the other
rows of Table 1 (one-layer least squares, backprop, the cutting-plane convex network) and the
regression data sets are not in this script yet.  Paper targets: MNIST 97.72%, CIFAR-10 80.28%.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import machine_info  # noqa: E402
from bench_convexrf import load_cifar, load_npz_images  # noqa: E402

from fastconvexrelu import ConvexRFClassifier  # noqa: E402

PAPER = {"mnist": 0.9772, "cifar10": 0.8028, "fashion_mnist": None}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--datasets", default="mnist,fashion_mnist,cifar10")
    ap.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--P", type=int, default=1600)
    ap.add_argument("--beta", type=float, default=1e-3)
    ap.add_argument("--max-epochs", type=int, default=50)
    args = ap.parse_args()
    rows = []
    for name in args.datasets.split(","):
        if name == "cifar10":
            Xa, ya, Xb, yb = load_cifar(args.data_dir)
            kw = dict(patch_size=6, epsilon=10.0)
        else:
            Xa, ya, Xb, yb = load_npz_images(args.data_dir, name)
            kw = dict(patch_size=6, epsilon=10.0)
        t = time.perf_counter()
        clf = ConvexRFClassifier(n_filters=args.P, beta=args.beta, tol=1e-3,
                                 max_epochs=args.max_epochs, random_state=0, **kw)
        clf.fit(Xa, ya)
        acc = clf.score(Xb, yb)
        rows.append(dict(dataset=name, P=args.P, beta=args.beta, test_accuracy=acc,
                         wall_s=time.perf_counter() - t, paper=PAPER.get(name)))
        print(json.dumps(rows[-1]), flush=True)
    print("\n| data set | Convex-RF (ours) | paper | wall time |\n| --- | --- | --- | --- |")
    for r in rows:
        paper = f"{100 * r['paper']:.2f}%" if r["paper"] else "-"
        print(f"| {r['dataset']} | {100 * r['test_accuracy']:.2f}% | {paper} | {r['wall_s']:.0f} s |")
    info = machine_info()
    with open(HERE / "results" / "table1_convexrf.jsonl", "a") as fh:
        for r in rows:
            fh.write(json.dumps({**r, "cmd": " ".join(sys.argv), "machine": info}) + "\n")


if __name__ == "__main__":
    main()
