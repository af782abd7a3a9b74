"""The paper's Table 1, image rows: least squares, backprop, the convex network and Convex-RF
on MNIST, Fashion-MNIST and CIFAR-10, each trained in this one script.

Usage (from the repository root, package importable):

    python bench/table1.py --datasets mnist,cifar10 --rows ls,backprop,convex,convexrf \
        --hidden 2000 --P 1600

Rows (test accuracy; pixels scaled to [0, 1], no other preprocessing, as in the paper):

* ``ls``: one-layer network by least squares, ``min_W ||[X, 1] W - Y||_F^2 + 1e-3 n ||W||_F^2``
  on one-hot targets Y (closed form), prediction ``argmax``.
* ``backprop``: two-layer ReLU network with ``--hidden`` units, softmax cross-entropy, weight
  decay and Adam (torch, CPU, minibatches of 256); the weight decay and the number of epochs
  are chosen on a 10% validation split of the training set, then the network is retrained on
  the whole training set.  Skipped with a note when torch is not installed.
* ``convex``: the convex two-layer network of Table 1 with the same number of hidden neurons:
  hidden neurons from eq. (10) (Lemma 2.7: the direction from each of ``--hidden`` sampled
  training images to the convex hull of the others, i.e. the paper's cutting-plane seed
  neurons), ReLU, and the convex l1 multiclass output layer of A.7.3 solved to a relative
  duality gap ``--tol`` (``ConvexRFClassifier`` with one "patch" = the whole image, no pooling,
  no whitening, no patch normalization).  No oracle rounds are run on top of the seed neurons.
  ``--convex-penalty l2`` uses the ridge output layer instead; ``--convex-polarity split``
  takes ``--hidden/2`` directions with the neurons +-u (same width); several ``--beta-convex``
  are chosen on a 10% validation split inside the classifier.
* ``convex_oracle``: the convex network grown by the cutting plane: the convex (ridge) output
  layer is solved over the current neurons, then the 200 most violated dual constraints
  ``max_{||u||=1} ||R^T relu([x 1] u)||`` (R: residual) found by projected gradient ascent
  from random training images are added as neurons, until ``--hidden`` neurons; ridge beta
  from ``--beta-oracle`` chosen on a 10% validation split, then everything redone on all
  training images.
* ``convexrf``: Convex-RF (Algorithm 2): ``ConvexRFClassifier(n_filters=--P, patch_size=6)``
  with ``--polarity``, ``--threshold``, ``--penalty``, ``--hflip`` (mirrored training images)
  and ``--beta`` (a list: chosen on a 10% validation split inside the classifier).

Prints a Markdown table and appends JSON lines to bench/results/table1_images.jsonl.
Paper: MNIST 86.04 / 96.25 / 96.94 / 97.72 %, CIFAR-10 36.39 / 41.57 / 42.16 / 80.28 %.
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

PAPER = {
    "mnist": dict(ls=0.8604, backprop=0.9625, convex=0.9694, convex_oracle=0.9694,
                  convexrf=0.9772),
    "cifar10": dict(ls=0.3639, backprop=0.4157, convex=0.4216, convex_oracle=0.4216,
                    convexrf=0.8028),
    "fashion_mnist": {},
}


def _flat01(X):
    return (np.asarray(X, dtype=np.float32) / 255.0).reshape(X.shape[0], -1)


def _with_one(X):
    """[X 1]: a constant column for the bias."""
    return np.hstack([X, np.ones((X.shape[0], 1), np.float32)])


def row_ls(Xa, ya, Xb, yb, args):
    A = _with_one(_flat01(Xa)).astype(np.float64)
    classes, idx = np.unique(ya, return_inverse=True)
    Y = np.eye(classes.size)[idx]
    G = A.T @ A
    G[np.diag_indices_from(G)] += 1e-3 * A.shape[0]
    W = np.linalg.solve(G, A.T @ Y)
    B = _with_one(_flat01(Xb)).astype(np.float64)
    return float(np.mean(classes[np.argmax(B @ W, axis=1)] == yb)), ""


def _train_torch(X, y, n_classes, m, wd, epochs, seed, Xv=None, yv=None):
    """Adam (lr 1e-3, minibatches of 256) on mean cross-entropy + torch weight decay ``wd``;
    returns the network and the validation accuracy after each epoch (when Xv is given)."""
    import torch

    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], m), torch.nn.ReLU(),
                              torch.nn.Linear(m, n_classes))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=wd)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y, dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    accs = []
    for _ in range(epochs):
        perm = torch.randperm(X.shape[0], generator=gen)
        for s in range(0, X.shape[0], 256):
            idx = perm[s:s + 256]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
        if Xv is not None:
            accs.append(_torch_acc(net, Xv, yv))
    return net, accs


def _torch_acc(net, X, y):
    import torch

    with torch.no_grad():
        pred = net(torch.as_tensor(X)).argmax(dim=1).numpy()
    return float(np.mean(pred == y))


def row_backprop(Xa, ya, Xb, yb, args):
    try:
        import torch
    except ImportError:
        return None, "torch not installed"
    torch.set_num_threads(2)
    classes, idx = np.unique(ya, return_inverse=True)
    X = _flat01(Xa)
    rng = np.random.default_rng(0)
    perm = rng.permutation(X.shape[0])
    nv = X.shape[0] // 10
    va, tr = perm[:nv], perm[nv:]
    best = (-1.0, None, None)
    for wd in args.bp_wd:
        _, accs = _train_torch(X[tr], idx[tr], classes.size, args.hidden, wd, args.bp_epochs, 0,
                               X[va], idx[va])
        e = int(np.argmax(accs))
        if accs[e] > best[0]:
            best = (accs[e], wd, e + 1)
    acc_v, wd, epochs = best
    net, _ = _train_torch(X, idx, classes.size, args.hidden, wd, epochs, 0)
    yhat = classes[np.asarray(
        _torch_predict(net, _flat01(Xb)))]
    return float(np.mean(yhat == yb)), f"wd={wd:g}, epochs={epochs} (val acc {acc_v:.4f})"


def _torch_predict(net, X):
    import torch

    with torch.no_grad():
        return net(torch.as_tensor(X)).argmax(dim=1).numpy()


def row_convex(Xa, ya, Xb, yb, args):
    betas = args.beta_convex
    split = args.convex_polarity == "split"
    # same number of hidden neurons as backprop: with "split", hidden/2 directions u, neurons +-u
    clf = ConvexRFClassifier(
        n_filters=args.hidden // 2 if split else args.hidden, patch_size=Xa.shape[1:3],
        pool_grid=1, epsilon=None, whiten=False, bias="none", polarity=args.convex_polarity,
        beta=betas if len(betas) > 1 else betas[0], penalty=args.convex_penalty, tol=args.tol,
        max_epochs=args.max_epochs, random_state=0, validation_fraction=0.1,
    )  # several betas: chosen on a 10% validation split, as for backprop
    clf.fit(_flat01(Xa).reshape(Xa.shape), ya)
    acc = clf.score(_flat01(Xb).reshape(Xb.shape), yb)
    note = ""
    if clf.validation_scores_:
        note = "val acc " + ", ".join(f"{b:g}: {a:.4f}" for b, a in clf.validation_scores_.items())
        note += "; "
    gap = float(np.max(clf.duality_gaps_ / clf.objectives_))
    return acc, (note + f"{clf.n_features_out_} neurons ({args.convex_polarity}), "
                 f"{args.convex_penalty}, beta={clf.beta_:g}, max rel. duality gap {gap:.1e}, "
                 f"converged={clf.converged_}")


def _ridge_output(Phi, Yc, lam):
    """Convex output layer: ridge on standardized neurons, (1/2n)||A W - Yc||^2 + lam/2 ||W||^2."""
    n = Phi.shape[0]
    mu, sd = Phi.mean(0), Phi.std(0) + 1e-6
    A = (Phi - mu) / sd
    G = (A.T @ A).astype(np.float64) / n
    W = np.linalg.solve(G + lam * np.eye(G.shape[0]), (A.T @ Yc).astype(np.float64) / n)
    return W, mu, sd, A


def _oracle_neurons(X, Yc, width, per, lam, seed=0):
    """Cutting plane on the hidden layer: solve the convex output layer over the current neurons,
    then add the ``per`` most violated dual constraints max_{||u|| = 1} ||R^T relu([X 1] u)||_2
    (R the residual), found by projected gradient ascent from ``2 per`` random centered training
    images (near-duplicates, |cos| > 0.95, skipped); until ``width`` neurons."""
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    Xb = _with_one(X)
    xm = X.mean(0)

    def starts(k):
        U = np.vstack([X[rng.integers(0, n, k)].T - xm[:, None], -0.1 * np.ones((1, k))])
        return (U / np.linalg.norm(U, axis=0)).astype(np.float32)

    U = starts(min(per, width))
    while U.shape[1] < width:
        W, _, _, A = _ridge_output(np.maximum(Xb @ U, 0), Yc, lam)
        R = Yc - A @ W.astype(np.float32)
        C, eta = starts(2 * per), 0.3
        for _ in range(25):
            Z = Xb @ C
            g = Xb.T @ ((Z > 0) * (R @ (R.T @ np.maximum(Z, 0))))
            g -= C * (C * g).sum(0)  # tangent to the sphere
            C = C + eta * g / (np.linalg.norm(g, axis=0) + 1e-12)
            C /= np.linalg.norm(C, axis=0)
            eta *= 0.92
        viol = np.linalg.norm(R.T @ np.maximum(Xb @ C, 0), axis=0)
        keep = []
        for j in np.argsort(-viol):
            if all(abs(float(C[:, j] @ C[:, k])) < 0.95 for k in keep):
                keep.append(j)
            if len(keep) == min(per, width - U.shape[1]):
                break
        U = np.hstack([U, C[:, keep]])
    return U


def row_convex_oracle(Xa, ya, Xb, yb, args):
    """The convex network with oracle neurons (cutting plane), ``--hidden`` neurons, ridge output
    layer with beta chosen on a 10% validation split (neurons regenerated on all images)."""
    classes, idx = np.unique(ya, return_inverse=True)
    X, Xt = _flat01(Xa), _flat01(Xb)
    Y = np.eye(classes.size)[idx]

    def fit(Xf, Yf, lam_gen):
        Yc = (Yf - Yf.mean(0)).astype(np.float32)
        return _oracle_neurons(Xf, Yc, args.hidden, 200, lam_gen), Yc

    def scores(Phi, Yc, Phi_e, lam):
        W, mu, sd, _ = _ridge_output(Phi, Yc, lam)
        return ((Phi_e - mu) / sd) @ W

    def hidden(U, Xf):
        return np.maximum(_with_one(Xf) @ U, 0)

    perm = np.random.default_rng(0).permutation(X.shape[0])
    va, tr = perm[:X.shape[0] // 10], perm[X.shape[0] // 10:]
    lam_gen = min(args.beta_oracle)
    U, Yc = fit(X[tr], Y[tr], lam_gen)
    Phi, Phi_va = hidden(U, X[tr]), hidden(U, X[va])
    val = {b: float(np.mean(np.argmax(scores(Phi, Yc, Phi_va, b), 1) == idx[va]))
           for b in args.beta_oracle}
    beta = max(sorted(val, reverse=True), key=lambda b: val[b])
    U, Yc = fit(X, Y, lam_gen)
    acc = float(np.mean(classes[np.argmax(scores(hidden(U, X), Yc, hidden(U, Xt), beta), 1)]
                        == yb))
    return acc, ("val acc " + ", ".join(f"{b:g}: {a:.4f}" for b, a in val.items())
                 + f"; {U.shape[1]} oracle neurons, ridge beta={beta:g}")


def row_convexrf(Xa, ya, Xb, yb, args):
    betas = args.beta if len(args.beta) > 1 else args.beta[0]
    clf = ConvexRFClassifier(n_filters=args.P, beta=betas, penalty=args.penalty, tol=args.tol,
                             max_epochs=args.max_epochs, random_state=0, patch_size=6,
                             epsilon=10.0, polarity=args.polarity, threshold=args.threshold,
                             hflip=args.hflip)
    clf.fit(Xa, ya)
    val = ""
    if clf.validation_scores_:
        val = "val acc " + ", ".join(f"{b:g}: {a:.4f}" for b, a in clf.validation_scores_.items())
        val += "; "
    return clf.score(Xb, yb), (f"{val}P={args.P}, {clf.n_features_out_} features, "
                               f"polarity={args.polarity}, threshold={args.threshold:g}, "
                               f"hflip={args.hflip}, {args.penalty}, beta={clf.beta_:g}, "
                               f"converged={clf.converged_}")


ROWS = dict(ls=row_ls, backprop=row_backprop, convex=row_convex,
            convex_oracle=row_convex_oracle, convexrf=row_convexrf)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="mnist,fashion_mnist,cifar10")
    ap.add_argument("--rows", default="ls,backprop,convex,convexrf")
    ap.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--hidden", type=int, default=2000,
                    help="hidden neurons of the backprop and convex networks")
    ap.add_argument("--P", type=int, default=1600, help="Convex-RF filters")
    ap.add_argument("--beta", type=lambda v: [float(b) for b in v.split(",")], default=[1e-3],
                    help="Convex-RF output-layer beta(s) (several: chosen on a 10%% validation "
                         "split)")
    ap.add_argument("--penalty", choices=("l1", "l2"), default="l1",
                    help="Convex-RF output-layer penalty")
    ap.add_argument("--polarity", choices=("one", "split"), default="one",
                    help="Convex-RF neurons u (one) or +-u (split)")
    ap.add_argument("--threshold", type=float, default=0.0, help="Convex-RF ReLU threshold")
    ap.add_argument("--hflip", action="store_true",
                    help="Convex-RF: also train on mirrored images, average image/mirror scores")
    ap.add_argument("--beta-convex", type=lambda v: [float(b) for b in v.split(",")],
                    default=[1e-4],
                    help="output-layer beta(s) of the convex network (several: chosen on a "
                         "10%% validation split)")
    ap.add_argument("--convex-penalty", choices=("l1", "l2"), default="l1",
                    help="output-layer penalty of the convex network (l1: A.7.3)")
    ap.add_argument("--convex-polarity", choices=("one", "split"), default="one",
                    help="convex network neurons: --hidden directions u (one) or --hidden/2 "
                         "directions with neurons +-u (split)")
    ap.add_argument("--beta-oracle", type=lambda v: [float(b) for b in v.split(",")],
                    default=[1e-4, 1e-3],
                    help="convex_oracle row: ridge beta(s) chosen on a 10%% validation split "
                         "(the smallest also drives the neuron generation)")
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--max-epochs", type=int, default=100)
    ap.add_argument("--bp-epochs", type=int, default=10)
    ap.add_argument("--max-train", type=int, default=None,
                    help="use only the first N training images (smoke runs)")
    ap.add_argument("--bp-wd", type=lambda s: [float(v) for v in s.split(",")],
                    default=[1e-5, 1e-4])
    args = ap.parse_args()
    rows = []
    for name in args.datasets.split(","):
        if name == "cifar10":
            Xa, ya, Xb, yb = load_cifar(args.data_dir)
        else:
            Xa, ya, Xb, yb = load_npz_images(args.data_dir, name)
        if args.max_train:
            Xa, ya = Xa[:args.max_train], ya[:args.max_train]
        for row in args.rows.split(","):
            t = time.perf_counter()
            acc, note = ROWS[row](Xa, ya, Xb, yb, args)
            rows.append(dict(dataset=name, row=row, test_accuracy=acc, note=note,
                             wall_s=time.perf_counter() - t,
                             paper=PAPER.get(name, {}).get(row)))
            print(json.dumps(rows[-1]), flush=True)
    print("\n| data set | row | test accuracy | paper | wall time | notes |\n"
          "| --- | --- | ---: | ---: | ---: | --- |")
    for r in rows:
        acc = "n/a" if r["test_accuracy"] is None else f"{100 * r['test_accuracy']:.2f}%"
        paper = f"{100 * r['paper']:.2f}%" if r["paper"] else "-"
        print(f"| {r['dataset']} | {r['row']} | {acc} | {paper} | {r['wall_s']:.0f} s | "
              f"{r['note']} |")
    info = machine_info(("torch",))
    with open(HERE / "results" / "table1_images.jsonl", "a") as fh:
        for r in rows:
            fh.write(json.dumps({**r, "cmd": " ".join(sys.argv), "machine": info}) + "\n")


if __name__ == "__main__":
    main()
