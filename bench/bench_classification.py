"""Default classification, side by side with backprop (issue 16).

Every row in one run, on the same standardized inputs (columns centred and scaled by the
training statistics), defaults only:

* ours: ``ConvexReLUClassifier()`` (the seeded weight-decay route for these data, beta="auto");
* sklearn: ``MLPClassifier(hidden_layer_sizes=(200,), random_state=0)``;
* torch: a PyTorch MLP of width 200 (Adam, lr 1e-3, batches of 128, ``--torch-epochs`` or about
  10 000 steps, at least 20 epochs) trained on OUR objective -- weight decay at the same beta,
  sum of the cross-entropies + beta/2 (|U|^2 + |W|^2) -- from 3 seeds: accuracy and time of
  seed 0, and the best J of the 3 (the J table);
* pyscnn 0.0.10 (``--pyscnn``): gated ReLU, one-hot squared loss, 100 gates, lambda chosen on
  a 20% validation split of the training set; ``--pyscnn-relu`` adds its ReLU model (augmented
  Lagrangian) at that lambda.

J of every network is recomputed by ``fastconvexrelu.network_objective`` on the training set:
sum_i l(f(x_i), y_i) + beta sum_j ||u_j|| ||w_j|| (the weight-decay penalty at its balanced
rescaling, never above beta/2 (|U|^2 + |W|^2)).

    python bench/bench_classification.py --data cancer wine digits
    python bench/bench_classification.py --data fashion10k fashion60k mnist60k

Results are appended to ``bench/results/classification.jsonl`` and printed as a table.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _machine import machine_info  # noqa: E402

DATA = ("cancer", "wine", "digits", "fashion10k", "fashion60k", "mnist60k")


def load(name, data_dir):
    from sklearn.model_selection import train_test_split

    if name in ("cancer", "wine", "digits"):
        from sklearn import datasets

        X, y = getattr(datasets, {"cancer": "load_breast_cancer", "wine": "load_wine",
                                  "digits": "load_digits"}[name])(return_X_y=True)
        # breast cancer: 398 training rows (the split); digits: the before-stop hook's
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2 if name == "digits" else 0.3,
                                              random_state=1, stratify=None if name == "digits" else y)
    else:
        f = "mnist.npz" if name.startswith("mnist") else "fashion_mnist.npz"
        z = np.load(os.path.join(data_dir, f))
        ntr = 10000 if name.endswith("10k") else 60000
        Xtr = z["X_train"].reshape(len(z["X_train"]), -1)[:ntr].astype(np.float64)
        ytr = z["y_train"][:ntr]
        Xte = z["X_test"].reshape(len(z["X_test"]), -1).astype(np.float64)
        yte = z["y_test"]
    mu, sd = Xtr.mean(0), Xtr.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    return (Xtr - mu) / sd, np.asarray(ytr), (Xte - mu) / sd, np.asarray(yte)


def objective(X, y, classes, U, b, W, c, beta):
    from fastconvexrelu import network_objective

    idx = np.searchsorted(classes, y)
    if W.ndim == 1 or W.shape[1] == 1:  # binary: one logistic output
        return float(network_objective(X, 2.0 * idx - 1.0, U, b, W.reshape(-1), float(np.ravel(c)[0]),
                                       beta, "logistic"))
    return float(network_objective(X, np.eye(len(classes))[idx], U, b, W, c, beta, "softmax",
                                   penalty="weight_decay"))


def run_ours(Xtr, ytr, Xte, yte):
    from fastconvexrelu import ConvexReLUClassifier

    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        est = ConvexReLUClassifier(random_state=0).fit(Xtr, ytr)
    t = time.perf_counter() - t0
    acc = est.score(Xte, yte)
    return dict(method="ours: ConvexReLUClassifier()", acc=acc, time=t, J=est.objective_,
                beta=est.beta_, solver=est.solver_, neurons=est.n_active_,
                restricted_gap=est.restricted_gap_, duality_gap=est.duality_gap_,
                warnings=[str(x.message)[:120] for x in w])


def run_sklearn(Xtr, ytr, Xte, yte, beta, classes):
    from sklearn.neural_network import MLPClassifier

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = MLPClassifier(hidden_layer_sizes=(200,), random_state=0).fit(Xtr, ytr)
    t = time.perf_counter() - t0
    U, W = m.coefs_
    b, c = m.intercepts_
    if W.shape[1] == 1:  # sklearn's binary output: logistic of one unit, classes_[1] positive
        J = objective(Xtr, ytr, classes, U, b, W[:, 0], c, beta)
    else:
        J = objective(Xtr, ytr, classes, U, b, W, c, beta)
    return dict(method="sklearn MLPClassifier(200)", acc=m.score(Xte, yte), time=t, J=J,
                n_iter=int(m.n_iter_))


def run_torch(Xtr, ytr, Xte, yte, beta, classes, seed, epochs):
    import torch

    torch.manual_seed(seed)
    n, d = Xtr.shape
    K = len(classes)
    o = 1 if K == 2 else K
    idx = torch.as_tensor(np.searchsorted(classes, ytr))
    X = torch.as_tensor(Xtr, dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(d, 200), torch.nn.ReLU(), torch.nn.Linear(200, o))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    if epochs is None:
        epochs = max(20, math.ceil(10000 / math.ceil(n / 128)))
        epochs = min(epochs, 200)
    lam = beta / n  # our objective / n: mean cross-entropy + beta/(2n) (|U|^2 + |W|^2)
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n)
        for s in range(0, n, 128):
            bi = perm[s:s + 128]
            out = net(X[bi])
            if o == 1:
                loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    out[:, 0], idx[bi].float())
            else:
                loss = torch.nn.functional.cross_entropy(out, idx[bi])
            pen = net[0].weight.pow(2).sum() + net[2].weight.pow(2).sum()
            opt.zero_grad()
            (loss + 0.5 * lam * pen).backward()
            opt.step()
    t = time.perf_counter() - t0
    U = net[0].weight.detach().double().numpy().T
    b = net[0].bias.detach().double().numpy()
    W = net[2].weight.detach().double().numpy().T
    c = net[2].bias.detach().double().numpy()
    with torch.no_grad():
        F = net(torch.as_tensor(Xte, dtype=torch.float32)).numpy()
    pred = classes[(F[:, 0] > 0).astype(int)] if o == 1 else classes[F.argmax(1)]
    J = objective(Xtr, ytr, classes, U, b, W[:, 0] if o == 1 else W, c, beta)
    return dict(method="torch MLP(200), Adam, our objective", acc=float(np.mean(pred == yte)),
                time=t, J=J, seed=seed, epochs=epochs)


def _pyscnn_fit(Model, Solver, X, Y, lam, n_classes):
    """One pyscnn fit of ``Model`` (100 gates, one-hot squared loss) with group-l1 ``lam``."""
    from scnn.activations import sample_gate_vectors
    from scnn.metrics import Metrics
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1

    model = Model(sample_gate_vectors(0, X.shape[1], 100), c=n_classes)
    model, _ = optimize_model(model, Solver(model), Metrics(), X, Y, None, None,
                              regularizer=NeuronGL1(lam), verbose=False)
    return model


def run_pyscnn(Xtr, ytr, Xte, yte, classes, relu=True):
    """pyscnn's gated ReLU model with lambda chosen on a 20% validation split; then (``relu``)
    its ReLU model (augmented Lagrangian) at the lambda the gated model chose (one fit: the AL
    solver is about 100x slower, so no search of its own)."""
    from scnn.models import ConvexGatedReLU, ConvexReLU
    from scnn.solvers import RFISTA, AL

    K = len(classes)
    idx = np.searchsorted(classes, ytr)
    Y = np.eye(K)[idx]
    perm = np.random.default_rng(0).permutation(len(ytr))
    nv = len(ytr) // 5
    va, tr = perm[:nv], perm[nv:]
    t0 = time.perf_counter()
    best = None
    for lam in (1e-6, 1e-5, 1e-4, 1e-3):
        model = _pyscnn_fit(ConvexGatedReLU, RFISTA, Xtr[tr], Y[tr], lam, K)
        acc = np.mean(model(Xtr[va]).argmax(1) == idx[va])
        if best is None or acc > best[0]:
            best = (acc, lam)
    model = _pyscnn_fit(ConvexGatedReLU, RFISTA, Xtr, Y, best[1], K)
    t = time.perf_counter() - t0
    acc = float(np.mean(classes[model(Xte).argmax(1)] == yte))
    out = [dict(method="pyscnn 0.0.10 gated ReLU (lambda on validation)", acc=acc, time=t,
                J=float("nan"), lam=best[1])]
    if relu:
        t0 = time.perf_counter()
        model = _pyscnn_fit(ConvexReLU, AL, Xtr, Y, best[1], K)
        t = time.perf_counter() - t0
        acc = float(np.mean(classes[model(Xte).argmax(1)] == yte))
        out.append(dict(method="pyscnn 0.0.10 ReLU (AL, the gated model's lambda)", acc=acc,
                        time=t, J=float("nan"), lam=best[1]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", nargs="+", default=list(DATA[:3]), choices=DATA)
    ap.add_argument("--data-dir", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--skip", nargs="*", default=[], choices=["ours", "sklearn", "torch", "pyscnn"])
    ap.add_argument("--pyscnn", action="store_true", help="also run pyscnn's gated ReLU model")
    ap.add_argument("--pyscnn-relu", action="store_true", help="and its ReLU model (slow)")
    ap.add_argument("--torch-seeds", type=int, default=3)
    ap.add_argument("--torch-epochs", type=int, default=None)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "classification.jsonl"))
    args = ap.parse_args()
    info = machine_info(("sklearn", "torch"))
    print(json.dumps(info))
    rows = []
    for name in args.data:
        Xtr, ytr, Xte, yte = load(name, args.data_dir)
        classes = np.unique(ytr)
        print(f"== {name}: train {Xtr.shape}, test {Xte.shape}, {len(classes)} classes", flush=True)
        res = []
        beta = None
        if "ours" not in args.skip:
            r = run_ours(Xtr, ytr, Xte, yte)
            beta = r["beta"]
            res.append(r)
            print("  ", r, flush=True)
        if beta is None:
            beta = 1e-4 * len(ytr)
        if "sklearn" not in args.skip:
            res.append(run_sklearn(Xtr, ytr, Xte, yte, beta, classes))
            print("  ", res[-1], flush=True)
        if "torch" not in args.skip:
            tr = [run_torch(Xtr, ytr, Xte, yte, beta, classes, s, args.torch_epochs)
                  for s in range(args.torch_seeds)]
            r = dict(tr[0])
            r["J_best_of_seeds"] = min(x["J"] for x in tr)
            r["n_seeds"] = len(tr)
            res.append(r)
            print("  ", r, flush=True)
        if args.pyscnn and "pyscnn" not in args.skip:
            try:
                for r in run_pyscnn(Xtr, ytr, Xte, yte, classes, relu=args.pyscnn_relu):
                    res.append(r)
                    print("  ", r, flush=True)
            except Exception as e:  # pragma: no cover - optional peer
                res.append(dict(method="pyscnn 0.0.10", error=repr(e)[:200]))
                print("  ", res[-1], flush=True)
        for r in res:
            r.update(data=name, n_train=int(len(ytr)), beta=beta, machine=info,
                     date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                     load=os.getloadavg()[0])
            rows.append(r)
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "a") as fh:
            for r in res:
                fh.write(json.dumps(r, default=float) + "\n")
    print("\n| data | method | test acc | time (s) | J (train) |")
    print("|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['data']} | {r['method']} | error | | |")
            continue
        J = r.get("J_best_of_seeds", r["J"])
        print(f"| {r['data']} | {r['method']} | {100 * r['acc']:.2f} % | {r['time']:.1f} | {J:.6g} |")


if __name__ == "__main__":
    main()
