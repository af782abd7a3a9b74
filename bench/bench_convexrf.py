"""Convex-RF benchmark (issue 5): filters/s, feature images/s vs a numpy im2col+matmul baseline,
peak memory, full CIFAR-10 (fit + test accuracy, wall time) and MNIST runs.

Usage (from the repository root, with the package importable):

    python bench/bench_convexrf.py --parts filters,features      # quick (a minute)
    python bench/bench_convexrf.py --parts cifar --P 1600        # full CIFAR-10 run
    python bench/bench_convexrf.py --parts mnist --P 1600
    python bench/bench_convexrf.py --parts cifar --P 1600 --polarity split --threshold 0.25 \
        --beta 1e-4,3e-5,1e-5 --max-epochs 500    # the split features, beta on validation
    python bench/bench_convexrf.py --parts cifar --P 3000 --polarity split --threshold 0.25 \
        --penalty l2 --beta 1e-3,3e-3,1e-2 --hflip  # + mirrored training images

Each part appends a JSON line to bench/results/convexrf.jsonl and prints it; the filter grid
(paper Figure 10) is written to bench/results/convexrf_filters.png.  Data: --data-dir
(default ../shared/data relative to the repository; CIFAR-10 is decoded with the
load_cifar10.py there, Pillow needed).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import machine_info  # noqa: E402

from fastconvexrelu import _core  # noqa: E402
from fastconvexrelu.convex_rf import ConvexRF, ConvexRFClassifier, _normalize_patches  # noqa: E402


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_cifar(data_dir):
    cache = Path(os.environ.get("CONVEXRF_CIFAR_CACHE", "/tmp/convexrf/cifar10.npz"))
    if cache.exists():
        d = np.load(cache)
        return d["X_train"], d["y_train"], d["X_test"], d["y_test"]
    sys.path.insert(0, str(data_dir))
    from load_cifar10 import load_cifar10

    d = load_cifar10(Path(data_dir) / "cifar10_jpeg.npz")
    return d["X_train"], d["y_train"], d["X_test"], d["y_test"]


def load_npz_images(data_dir, name):
    d = np.load(Path(data_dir) / f"{name}.npz")
    f = lambda a: a.reshape(-1, 28, 28)  # noqa: E731
    return f(d["X_train"]), d["y_train"], f(d["X_test"]), d["y_test"]


def numpy_baseline(images, Ue, be, patch=6, stride=1, eps=10.0, grid=2, chunk=250,
                   threshold=0.0, split=False):
    """im2col (sliding_window_view) + normalization + one float32 matmul + bias/ReLU/sum-pool.

    With ``split``, the responses r give relu(r - t) and relu(-r - t) (same layout as
    ``ConvexRF(polarity="split")``: per region, the P "+" then the P "-" features).
    """
    n, H, W, C = images.shape
    oh, ow = (H - patch) // stride + 1, (W - patch) // stride + 1
    P0 = Ue.shape[1]
    P = 2 * P0 if split else P0
    out = np.empty((n, grid * grid * P), np.float32)
    ry = (np.arange(oh) * grid) // oh
    rx = (np.arange(ow) * grid) // ow
    for s in range(0, n, chunk):
        x = images[s:s + chunk].astype(np.float32)
        win = np.lib.stride_tricks.sliding_window_view(x, (patch, patch), axis=(1, 2))
        win = win[:, ::stride, ::stride]  # (m, oh, ow, C, ph, pw)
        A = win.transpose(0, 1, 2, 4, 5, 3).reshape(-1, patch * patch * C)
        mean = A.mean(1, keepdims=True)
        A = (A - mean) / np.sqrt(A.var(1, ddof=1, keepdims=True) + eps)
        R = A @ Ue + be
        if split:
            R = np.concatenate([np.maximum(R - threshold, 0), np.maximum(-R - threshold, 0)], 1)
        else:
            R = np.maximum(R - threshold, 0)
        R = R.reshape(x.shape[0], oh, ow, P)
        for a in range(grid):
            for b in range(grid):
                out[s:s + chunk, (a * grid + b) * P:(a * grid + b + 1) * P] = \
                    R[:, ry == a][:, :, rx == b].sum((1, 2))
    return out


def part_filters(args, Xtr):
    rows = []
    for P in (1600, 4000):
        rf = ConvexRF(n_filters=P, random_state=0)
        t = time.perf_counter()
        rf.fit(Xtr[:10000])
        dt = time.perf_counter() - t
        rows.append(dict(part="filters", P=P, kept=int(rf.filters_.shape[0]), fit_s=dt,
                         filters_per_s=P / dt, peak_mb=peak_mb()))
        if P == 1600:
            rf2 = ConvexRF(n_filters=P, whiten=False, random_state=0).fit(Xtr[:10000])
            rf2.plot_filters(HERE / "results" / "convexrf_filters.png", n_max=256, space="whitened")
    return rows


def part_features(args, Xtr):
    rows = []
    imgs = Xtr[:args.n_feat]
    runs = []
    split = args.polarity == "split"
    for P in (1600, 4000):  # C++ first, so that peak_mb covers the C++ path only
        rf = ConvexRF(n_filters=P, random_state=0, chunk_size=500, polarity=args.polarity,
                      threshold=args.threshold).fit(Xtr[:10000])
        t = time.perf_counter()
        F = rf.transform(imgs)
        runs.append((P, rf, F, time.perf_counter() - t, peak_mb()))
    for P, rf, F, dt, peak in runs:
        t = time.perf_counter()
        Fb = numpy_baseline(imgs, rf.effective_filters_, rf.effective_bias_,
                            threshold=args.threshold, split=split)
        db = time.perf_counter() - t
        err = float(np.abs(F - Fb).max() / np.abs(Fb).max())
        rows.append(dict(part="features", P=P, polarity=args.polarity, threshold=args.threshold,
                         n_features=F.shape[1], n_images=len(imgs), cpp_img_per_s=len(imgs) / dt,
                         numpy_img_per_s=len(imgs) / db, speedup=db / dt, max_rel_diff=err,
                         avx2=bool(_core.patch_features_has_avx2()),
                         peak_mb_cpp=peak, peak_mb_with_numpy=peak_mb()))
    return rows


def part_classify(args, name, Xtr, ytr, Xte, yte):
    t = time.perf_counter()
    betas = args.beta if len(args.beta) > 1 else args.beta[0]
    clf = ConvexRFClassifier(n_filters=args.P, beta=betas, penalty=args.penalty, tol=args.tol,
                             max_epochs=args.max_epochs, random_state=0, chunk_size=1000,
                             epsilon=args.epsilon, polarity=args.polarity,
                             threshold=args.threshold, n_jobs=args.n_jobs, hflip=args.hflip,
                             patch_size=args.patch_size, verbose=True)
    clf.fit(Xtr, ytr)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    acc = clf.score(Xte, yte)
    test_s = time.perf_counter() - t
    return [dict(part=name, P=args.P, beta=clf.beta_, penalty=args.penalty,
                 polarity=args.polarity, threshold=args.threshold, hflip=args.hflip,
                 patch_size=args.patch_size,
                 n_features=clf.n_features_out_,
                 validation=({str(k): v for k, v in clf.validation_scores_.items()}
                             if clf.validation_scores_ else None),
                 n_train=len(Xtr), n_test=len(Xte),
                 test_accuracy=acc, fit_s=fit_s, test_s=test_s, total_s=fit_s + test_s,
                 rf_fit_s=clf.rf_.fit_time_, gram_s=clf.gram_time_, solve_s=clf.solve_time_,
                 lasso_epochs=clf.n_epochs_.tolist(),
                 rel_gaps=(clf.duality_gaps_ / clf.objectives_).tolist(),
                 converged=clf.converged_, peak_mb=peak_mb())]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--parts", default="filters,features")
    ap.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--P", type=int, default=1600)
    ap.add_argument("--beta", type=lambda v: [float(b) for b in v.split(",")], default=[1e-3],
                    help="output-layer beta, or a comma list chosen on a 10%% validation split")
    ap.add_argument("--penalty", choices=("l1", "l2"), default="l1")
    ap.add_argument("--polarity", choices=("one", "split"), default="one")
    ap.add_argument("--threshold", type=float, default=0.0)
    ap.add_argument("--hflip", action="store_true",
                    help="train on the images and their mirrors, average their scores")
    ap.add_argument("--patch-size", type=int, default=6, help="Convex-RF patch size")
    ap.add_argument("--n-jobs", type=int, default=None)
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--epsilon", type=float, default=10.0)
    ap.add_argument("--max-epochs", type=int, default=50)
    ap.add_argument("--n-feat", type=int, default=2000)
    ap.add_argument("--out", default=str(HERE / "results" / "convexrf.jsonl"))
    args = ap.parse_args()
    parts = args.parts.split(",")
    (HERE / "results").mkdir(exist_ok=True)
    rows = []
    if any(p in parts for p in ("filters", "features", "cifar")):
        Xtr, ytr, Xte, yte = load_cifar(args.data_dir)
    if "filters" in parts:
        rows += part_filters(args, Xtr)
    if "features" in parts:
        rows += part_features(args, Xtr)
    if "cifar" in parts:
        rows += part_classify(args, "cifar10", Xtr, ytr, Xte, yte)
    for name in ("mnist", "fashion_mnist"):
        if name in parts:
            Xa, ya, Xb, yb = load_npz_images(args.data_dir, name)
            rows += part_classify(args, name, Xa, ya, Xb, yb)
    info = machine_info()
    with open(args.out, "a") as fh:
        for r in rows:
            r["cmd"] = " ".join(sys.argv)
            r["machine"] = info
            r["date"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
            fh.write(json.dumps(r) + "\n")
            print(json.dumps({k: v for k, v in r.items() if k != "machine"}), flush=True)


if __name__ == "__main__":
    main()
