"""The paper's Table 1, regression columns: Boston, California, Bank (bank8FM), Stock.

Usage (from the repository root, package importable):

    python bench/table1_regression.py --datasets boston,stock,bank8FM,california --max-train 4500

For every data set (X and y standardized with the training statistics) three models are fitted
and scored by the relative test error ||yhat - y||^2 / ||y - mean(y)||^2 on the test split
(the ratio is unit free, so it is the same in standardized and original units):

1. one-layer least squares: ridge in closed form (numpy) with a tiny penalty (1e-8 * n) and an
   unpenalized intercept;
2. two-layer ReLU network trained by backprop (torch, CPU, 1 thread): Adam, minibatches of 64,
   weight decay (Adam's L2 term) and the number of epochs tuned on a validation split (20% of
   the training set; the epoch count is the best one seen on the validation curve), then refit
   on the full training set; the number of hidden neurons m is the number of active neurons of
   the selected convex model (``n_active_``), so both two-layer rows have the same width;
3. our convex two-layer network ``ConvexReLURegressor(bias=True)``: the route in
   {"seeded" (``solver="arrangements", patterns="seeded"``, the route of ``solver="auto"`` on
   general scalar data: non-convex seeds -> l1 combination -> the convex program over their
   activation patterns -> one round of pattern generation, library defaults), "cutting_plane"
   (Algorithm 3, capped rounds), "arrangements" (sampled activation patterns, capped
   first-order iterations)} and beta in n * {1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2}
   (n = rows of the fit) chosen on the same validation split (lowest validation error over all
   route x beta pairs), then refit on the full training set with the chosen pair.

4. (``--methods ...,reference``) reference models that are not two-layer networks, to show how
   hard a split is: RBF kernel ridge (alpha, gamma by 5-fold cross-validation on the training
   set), a random forest (500 trees) and gradient boosting (scikit-learn defaults).

Selection uses only the validation split; the test split is touched once per model, for the
reported number.  The whole validation grid (every route x beta) is written to the results file.

Training sets larger than --max-train rows (California) are subsampled at random (seed 0) for
all three methods; the test split is always used in full.  Solver caps mean the convex fits
usually stop before ``tol``: this is recorded as "not converged" in the notes (the
ConvergenceWarnings are printed, not hidden).  Prints a Markdown table and writes it with the
command, date and machine facts to bench/results/table1_regression.md.
"""
from __future__ import annotations

import argparse
import datetime
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import machine_info  # noqa: E402

from fastconvexrelu import ConvexReLURegressor  # noqa: E402

# Paper, Table 1: (least squares, backprop, convex) relative test errors.
PAPER = {
    "boston": (0.3490, 0.1612, 0.1492),
    "california": (0.8158, 0.8101, 0.6344),
    "bank8FM": (0.9258, 0.6440, 0.5534),
    "stock": (1.0697, 0.8684, 0.6184),
}
BETA_GRID = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2)


def rel_err(yhat, y):
    """||yhat - y||^2 / ||y - mean(y)||^2."""
    return float(np.sum((yhat - y) ** 2) / np.sum((y - y.mean()) ** 2))


def load(data_dir, name, max_train, rng):
    d = np.load(Path(data_dir) / f"{name}.npz")
    X, y = d["X_train"].astype(float), d["y_train"].astype(float).ravel()
    Xt, yt = d["X_test"].astype(float), d["y_test"].astype(float).ravel()
    n_full = len(y)
    if max_train and n_full > max_train:
        idx = rng.choice(n_full, max_train, replace=False)
        X, y = X[idx], y[idx]
    mu, sd = X.mean(0), X.std(0)
    sd[sd == 0] = 1.0
    ym, ys = y.mean(), y.std()
    return (X - mu) / sd, (y - ym) / ys, (Xt - mu) / sd, (yt - ym) / ys, n_full


# --------------------------------------------------------------------------- least squares
def ridge_fit_predict(X, y, Xt, lam_rel=1e-8):
    """Closed-form ridge with unpenalized intercept: (A^T A + lam I) w = A^T y on centered data."""
    xm, ym = X.mean(0), y.mean()
    A = X - xm
    lam = lam_rel * len(y)
    w = np.linalg.solve(A.T @ A + lam * np.eye(A.shape[1]), A.T @ (y - ym))
    return (Xt - xm) @ w + ym


# --------------------------------------------------------------------------- references
REFERENCE_METHODS = ("reference: RBF kernel ridge (5-fold CV)", "reference: random forest",
                     "reference: gradient boosting")


def reference_rows(name, X, y, Xt, yt):
    """Strong models that are not two-layer networks, fitted on the whole training set (kernel
    ridge: alpha and gamma by 5-fold cross-validation on it): how hard the test split is."""
    from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.model_selection import GridSearchCV, KFold

    d = X.shape[1]
    models = (
        GridSearchCV(KernelRidge(kernel="rbf"),
                     {"alpha": [1e-3, 1e-2, 1e-1, 1.0],
                      "gamma": [g / d for g in (0.1, 0.3, 1.0, 3.0)]},
                     cv=KFold(5, shuffle=True, random_state=0)),
        RandomForestRegressor(500, random_state=0, n_jobs=2),
        GradientBoostingRegressor(random_state=0),
    )
    rows = []
    for method, model in zip(REFERENCE_METHODS, models):
        t = time.perf_counter()
        model.fit(X, y)
        err = rel_err(model.predict(Xt), yt)
        notes = (f"alpha={model.best_params_['alpha']:g}, gamma={model.best_params_['gamma']:.3g}"
                 if hasattr(model, "best_params_") else "scikit-learn defaults")
        rows.append(dict(data=name, method=method, err=err, paper=None,
                         time=time.perf_counter() - t, notes=notes))
        print(f"  {method}: {err:.4f}", flush=True)
    return rows


# --------------------------------------------------------------------------- backprop
def backprop_train(X, y, m, wd, epochs, lr, seed, Xv=None, yv=None, batch=64):
    """Adam on 1/2 mean squared error + wd/2 ||params||^2 (torch's Adam weight_decay).

    Returns the model and, when a validation set is given, the validation error after each
    epoch."""
    import torch

    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], m), torch.nn.ReLU(),
                              torch.nn.Linear(m, 1))
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=wd)
    Xt_ = torch.as_tensor(X, dtype=torch.float32)
    yt_ = torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1)
    Xv_ = None if Xv is None else torch.as_tensor(Xv, dtype=torch.float32)
    gen = torch.Generator().manual_seed(seed)
    curve = []
    n = len(y)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            opt.zero_grad()
            loss = 0.5 * torch.mean((net(Xt_[idx]) - yt_[idx]) ** 2)
            loss.backward()
            opt.step()
        if Xv_ is not None:
            with torch.no_grad():
                curve.append(rel_err(net(Xv_).numpy().ravel(), yv))
    return net, curve


def backprop_predict(net, X):
    import torch

    with torch.no_grad():
        return net(torch.as_tensor(X, dtype=torch.float32)).numpy().ravel()


def tune_backprop(Xa, ya, Xv, yv, m, args, budget):
    """Grid over weight decay and learning rate; epochs = argmin of the validation curve."""
    best = None
    t0 = time.perf_counter()
    tried = 0
    for lr in (1e-3, 1e-2):
        for wd in (0.0, 1e-4, 1e-3, 1e-2):
            if tried and time.perf_counter() - t0 > budget:
                break
            _, curve = backprop_train(Xa, ya, m, wd, args.bp_epochs, lr, 0, Xv, yv)
            tried += 1
            e = int(np.argmin(curve))
            if best is None or curve[e] < best[0]:
                best = (curve[e], wd, lr, e + 1)
    return best, tried


# --------------------------------------------------------------------------- convex
def convex_model(solver, beta, n, args):
    """``solver``: "seeded" (arrangements over seeded patterns, library defaults),
    "cutting_plane" or "arrangements" (sampled patterns)."""
    if solver == "seeded":
        return ConvexReLURegressor(solver="arrangements", patterns="seeded", beta=beta,
                                   bias=True, random_state=0, tol=1e-6)
    if solver == "cutting_plane":
        kw = dict(max_iter=args.cp_rounds, tol=1e-6)
    else:
        big = n > 2000
        kw = dict(n_patterns=args.arr_patterns_big if big else args.arr_patterns,
                  max_iter=args.arr_iter_big if big else args.arr_iter,
                  random_state=0, tol=1e-6)
    return ConvexReLURegressor(solver=solver, beta=beta, bias=True, **kw)


def fit_convex(solver, beta, X, y, args):
    """Fit, returning (estimator, wall s, list of warning messages)."""
    est = convex_model(solver, beta, len(y), args)
    t = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    wall = time.perf_counter() - t
    msgs = [f"{w.category.__name__}: {w.message}" for w in caught]
    for msg in msgs:  # shown, not hidden
        print(f"    [warning] {msg}", file=sys.stderr, flush=True)
    return est, wall, msgs


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default="boston,stock,bank8FM,california")
    ap.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--max-train", type=int, default=4500)
    ap.add_argument("--val-frac", type=float, default=0.2)
    ap.add_argument("--solvers", default="seeded,cutting_plane,arrangements")
    ap.add_argument("--cp-rounds", type=int, default=60)
    ap.add_argument("--arr-patterns", type=int, default=500)
    ap.add_argument("--arr-iter", type=int, default=5000)
    ap.add_argument("--arr-patterns-big", type=int, default=200, help="for n > 2000 rows")
    ap.add_argument("--arr-iter-big", type=int, default=2000, help="for n > 2000 rows")
    ap.add_argument("--betas", default=",".join(f"{b:g}" for b in BETA_GRID),
                    help="beta grid as multiples of n (rows of the fit)")
    ap.add_argument("--convex-budget", type=float, default=3000.0,
                    help="s per data set for the convex validation grid (checked between fits)")
    ap.add_argument("--bp-epochs", type=int, default=300)
    ap.add_argument("--bp-budget", type=float, default=600.0,
                    help="s per data set for the backprop validation grid")
    ap.add_argument("--methods", default="ls,convex,backprop",
                    help="comma list of ls, convex, backprop (needs convex: same width), "
                         "reference (kernel ridge, random forest, gradient boosting)")
    ap.add_argument("--out", default=str(HERE / "results" / "table1_regression.md"))
    args = ap.parse_args()
    methods = args.methods.split(",")
    if "backprop" in methods and "convex" not in methods:
        ap.error("--methods backprop needs convex (backprop uses the convex model's width)")
    betas = [float(b) for b in args.betas.split(",")]

    import torch

    torch.set_num_threads(1)
    t_start = time.perf_counter()
    rows = []
    grid_log = []
    for name in args.datasets.split(","):
        rng = np.random.default_rng(0)
        X, y, Xt, yt, n_full = load(args.data_dir, name, args.max_train, rng)
        n = len(y)
        perm = rng.permutation(n)
        n_val = int(round(args.val_frac * n))
        va, tr = perm[:n_val], perm[n_val:]
        Xa, ya, Xv, yv = X[tr], y[tr], X[va], y[va]
        sub = f"train subsampled {n}/{n_full}" if n < n_full else f"train {n}"
        print(f"== {name}: {sub}, test {len(yt)}, d={X.shape[1]}", flush=True)
        paper = PAPER.get(name, (None, None, None))

        if "reference" in methods:
            rows.extend(reference_rows(name, X, y, Xt, yt))
        if "ls" in methods:  # (1) least squares
            t = time.perf_counter()
            err = rel_err(ridge_fit_predict(X, y, Xt), yt)
            rows.append(dict(data=name, method="one-layer least squares", err=err,
                             paper=paper[0], time=time.perf_counter() - t,
                             notes=f"ridge 1e-8*n; {sub}"))
            print(f"  LS: {err:.4f}", flush=True)
        if "convex" not in methods:
            continue

        # (3) convex: validation grid over solver x beta
        t = time.perf_counter()
        grid = []
        skipped = []
        for solver in args.solvers.split(","):
            for b in betas:
                if grid and time.perf_counter() - t > args.convex_budget:
                    print(f"  convex budget spent: skipping {solver} beta={b}*n", flush=True)
                    skipped.append(f"{solver} beta={b:g}*n")
                    continue
                est, wall, msgs = fit_convex(solver, b * len(ya), Xa, ya, args)
                verr = rel_err(est.predict(Xv), yv)
                grid.append((verr, solver, b))
                grid_log.append(dict(data=name, solver=solver, beta=b, val=verr, wall=wall,
                                     m=int(est.n_active_), conv=bool(est.converged_)))
                print(f"  convex val {solver} beta={b:g}*n: {verr:.4f} ({wall:.1f} s, "
                      f"{est.n_active_} neurons, converged={est.converged_})", flush=True)
        t_grid = time.perf_counter() - t
        verr, solver, b = min(grid)
        est, wall, msgs = fit_convex(solver, b * n, X, y, args)
        err = rel_err(est.predict(Xt), yt)
        m = max(int(est.n_active_), 1)
        conv = "converged" if est.converged_ else "not converged"
        # converged_ = the solver reached tol on its own program; the certified gap to the
        # global optimum (duality_gap_) is reported too (inf = not certified).
        gaps = f"certified gap {est.duality_gap_:.3g}"
        for attr in ("relaxation_gap_", "restricted_gap_"):
            if hasattr(est, attr):
                gaps += f", {attr.rstrip('_')} {getattr(est, attr):.3g}"
        if solver == "cutting_plane":
            extra = f"{args.cp_rounds} rounds cap"
        elif solver == "seeded":
            extra = f"arrangements, patterns='seeded', {est.n_patterns_} patterns"
        else:
            extra = (f"{est.n_patterns_} sampled patterns, "
                     f"{convex_model(solver, 1, n, args).max_iter} it cap")
        rows.append(dict(
            data=name, method="two-layer convex (ours)", err=err, paper=paper[2],
            time=wall,
            notes=(f"{solver} ({extra}, {est.n_iter_} it), beta={b:g}*n, {m} neurons, "
                   f"{conv} ({gaps})"
                   f"{' (' + str(len(msgs)) + ' warning(s))' if msgs else ''}; "
                   f"val err {verr:.4f}; grid {len(grid)} fits {t_grid:.0f} s"
                   f"{'; skipped (budget): ' + ', '.join(skipped) if skipped else ''}")))
        print(f"  convex test: {err:.4f} ({solver}, beta={b:g}*n, {m} neurons, {conv})",
              flush=True)

        if "backprop" not in methods:
            continue
        # (2) backprop with the convex model's width
        t = time.perf_counter()
        (bverr, wd, lr, ep), tried = tune_backprop(Xa, ya, Xv, yv, m, args, args.bp_budget)
        t_grid = time.perf_counter() - t
        t = time.perf_counter()
        net, _ = backprop_train(X, y, m, wd, ep, lr, 0)
        err = rel_err(backprop_predict(net, Xt), yt)
        rows.append(dict(
            data=name, method="two-layer backprop", err=err, paper=paper[1],
            time=time.perf_counter() - t,
            notes=(f"Adam lr={lr:g}, wd={wd:g}, {ep} epochs, batch 64, {m} neurons (= convex); "
                   f"val err {bverr:.4f}; grid {tried} runs {t_grid:.0f} s")))
        print(f"  backprop test: {err:.4f} (lr={lr:g}, wd={wd:g}, {ep} epochs)", flush=True)

    order = {"one-layer least squares": 0, "two-layer backprop": 1, "two-layer convex (ours)": 2,
             **{m: 3 + i for i, m in enumerate(REFERENCE_METHODS)}}
    rows.sort(key=lambda r: (args.datasets.split(",").index(r["data"]), order[r["method"]]))
    lines = ["| data | method | relative test error | paper | fit time (final) | notes |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        p = f"{r['paper']:.4f}" if r["paper"] is not None else "-"
        lines.append(f"| {r['data']} | {r['method']} | {r['err']:.4f} | {p} | "
                     f"{r['time']:.1f} s | {r['notes']} |")
    table = "\n".join(lines)
    print("\n" + table)
    total = time.perf_counter() - t_start
    info = machine_info(("torch",))
    cmd = "python bench/table1_regression.py " + " ".join(sys.argv[1:])
    text = [
        "# Table 1, regression columns (relative test error ||yhat - y||^2 / ||y - mean(y)||^2)",
        "",
        f"Command: `{cmd}`  ",
        f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}  ",
        f"Total wall time: {total:.0f} s  ",
        "Machine: " + ", ".join(f"{k}={v}" for k, v in info.items()),
        "",
        "Setup: X, y standardized with training statistics; 20% of the training set held out "
        "for validation (convex: route in {" + args.solvers + "} x beta in n*{" + args.betas
        + "}; backprop: lr, weight decay, epochs), then refit on the full training set; the "
        "test split is used only for the final numbers. 'seeded' = solver='arrangements', "
        "patterns='seeded' (library defaults, random_state=0). Backprop uses the same number of hidden "
        "neurons as the selected convex model ended with (n_active_). "
        f"Training sets above {args.max_train} rows are subsampled (seed 0); full test splits. "
        "'fit time' is the final refit only; the grid time is in the notes. "
        "'converged' is the solver's converged_ flag (its own program reached tol); the "
        "certified gap to the global optimum (duality_gap_) is given beside it (inf: none). "
        "The paper's Bank variant is not stated (ours: bank8FM).",
        "",
        table,
        "",
        "## Validation grid of the convex model (validation relative error; selection = the "
        "lowest; fit on the 80% part)",
        "",
        "| data | route | beta / n | val error | fit time | neurons | converged |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for g in grid_log:
        text.append(f"| {g['data']} | {g['solver']} | {g['beta']:g} | {g['val']:.4f} | "
                    f"{g['wall']:.1f} s | {g['m']} | {'yes' if g['conv'] else 'no'} |")
    text.append("")
    Path(args.out).write_text("\n".join(text))
    print(f"\nwrote {args.out} ({total:.0f} s)")


if __name__ == "__main__":
    main()
