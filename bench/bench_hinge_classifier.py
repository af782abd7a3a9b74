"""ConvexReLUClassifier defaults (hinge, solver="auto" -> arrangements, l1 penalty of A.7.3,
200 sampled patterns) on MNIST: wall time, FISTA iterations, restricted gap, test accuracy.

    PYTHONPATH=python:bench python bench/bench_hinge_classifier.py --n 1000 [--n-test 2000]

Prints one line per run plus the machine facts (bench/_machine.py).
"""
from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from _machine import machine_info
from fastconvexrelu import ConvexReLUClassifier


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000, help="training images (first n)")
    ap.add_argument("--n-test", type=int, default=2000, help="test images (first n)")
    ap.add_argument("--classes", type=int, default=10, help="use only labels < classes")
    ap.add_argument("--data", default="/work/shared/data/mnist.npz")
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    d = np.load(a.data)
    Xtr, ytr = d["X_train"].reshape(len(d["X_train"]), -1) / 255.0, d["y_train"]
    Xte, yte = d["X_test"].reshape(len(d["X_test"]), -1) / 255.0, d["y_test"]
    keep = ytr < a.classes
    Xtr, ytr = Xtr[keep][: a.n], ytr[keep][: a.n]
    keep = yte < a.classes
    Xte, yte = Xte[keep][: a.n_test], yte[keep][: a.n_test]
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        clf = ConvexReLUClassifier(verbose=a.verbose).fit(Xtr, ytr)
    wall = time.perf_counter() - t0
    acc = float(np.mean(clf.predict(Xte) == yte))
    row = dict(n=int(len(ytr)), classes=a.classes, wall_s=round(wall, 1), n_iter=int(clf.n_iter_),
               objective=float(clf.objective_), restricted_gap=float(clf.restricted_gap_),
               rel_gap=float(clf.restricted_gap_ / clf.objective_), converged=bool(clf.converged_),
               test_acc=acc, n_test=int(len(yte)), warnings=len(w))
    print(json.dumps(row))
    print(json.dumps(machine_info()))


if __name__ == "__main__":
    main()
