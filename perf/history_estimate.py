"""History-based estimation on the Open LLM Leaderboard v1 bank (the 5 files joined: 1989 models x 493 items).

Protocol (issue 8): hold out 20 % of the models (seeded), fit the factor model on the rest, and for
budgets 25, 50, 100, 200 estimate every held-out model's bank-wide mean with 20 seeds; report MAE,
mean CI width, coverage of the bank-wide mean and the ESS gain (MSE of the uniform sample mean / MSE
of the method, same budget) for the active method (asymptotic and anytime intervals), the IRT
baseline and the uniform sample mean; plus the time of fit + one 100-question estimate.

    python perf/history_estimate.py [--models 40] [--seeds 20] [--fit-cache /tmp/fit.npz] [--ranks 4,8,16]

--models limits the held-out models evaluated (all 397 for the full protocol: --models 0).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time

import numpy as np

from bayesbench.history import ItemBank, load_fit


def _data_dir() -> str:
    """$BAYESBENCH_LEADERBOARD, else ../shared/data/open-llm-leaderboard-v1 next to the checkout (or a worktree's)."""
    if os.environ.get("BAYESBENCH_LEADERBOARD"):
        return os.environ["BAYESBENCH_LEADERBOARD"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for up in ("..", os.path.join("..", "..")):
        cand = os.path.normpath(os.path.join(root, up, "shared", "data", "open-llm-leaderboard-v1"))
        if os.path.isdir(cand):
            return cand
    return os.path.normpath(os.path.join(root, "..", "shared", "data", "open-llm-leaderboard-v1"))


DATA = _data_dir()


def load_bank() -> ItemBank:
    paths = sorted(glob.glob(os.path.join(DATA, "M_*.csv.gz")))
    if not paths:
        sys.exit(f"no leaderboard files under {DATA}; set BAYESBENCH_LEADERBOARD to the folder")
    return ItemBank.from_csv(*paths)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=40, help="held-out models to evaluate (0 = all)")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--budgets", default="25,50,100,200")
    ap.add_argument("--fit-cache", default=None, help="npz to load the fit from / save it to")
    ap.add_argument("--ranks", default="16,32")
    ap.add_argument("--penalties", default="3,10")
    args = ap.parse_args()
    bank = load_bank()
    rng = np.random.default_rng(0)
    perm = rng.permutation(bank.n_models)
    n_test = bank.n_models // 5
    test_models = [bank.models[i] for i in perm[:n_test]]
    train = bank.filter(models=[bank.models[i] for i in perm[n_test:]])
    t0 = time.perf_counter()
    if args.fit_cache and os.path.exists(args.fit_cache):
        fit = load_fit(args.fit_cache)
        fit_s = float(fit.cv.get("fit_seconds", float("nan")))
    else:
        fit = train.fit(
            ranks=[int(x) for x in args.ranks.split(",")],
            penalties=[float(x) for x in args.penalties.split(",")],
            seed=0,
        )
        fit_s = time.perf_counter() - t0
        if args.fit_cache:
            fit.save(args.fit_cache)
    print(
        f"bank {bank.n_models} x {bank.n_items}; fit on {train.n_models} models: rank {fit.rank}, penalty "
        f"{fit.penalty:g}, held-out entry accuracy {fit.heldout_accuracy:.3f}, log-loss {fit.heldout_log_loss:.3f}, "
        f"{fit_s:.1f} s (CV over ranks {args.ranks} x penalties {args.penalties})"
    )
    row0 = bank.row(test_models[0])
    t1 = time.perf_counter()
    fit.estimate(lambda j: row0[j], budget=100, seed=0)
    est_s = time.perf_counter() - t1
    print(f"one 100-question estimate: {est_s:.2f} s; fit + estimate {fit_s + est_s:.1f} s")

    evald = test_models if args.models == 0 else test_models[: args.models]
    budgets = [int(b) for b in args.budgets.split(",")]
    methods = ("active/asymptotic", "active/anytime", "irt", "uniform/wilson", "uniform/anytime")
    print(f"\n{len(evald)} held-out models x {args.seeds} seeds (IRT: fixed anchors, 1 run per model)")
    print("gain = exact MSE of the uniform sample mean (without replacement | with replacement) / MSE of the row")
    print(
        f"{'budget':>6} {'method':<18} {'MAE':>7} {'width':>7} {'cover':>7} {'miss@any':>8} "
        f"{'gain':>6} {'g_iid':>6} {'calls':>6}"
    )
    for B in budgets:
        res: dict[str, dict[str, list]] = {m: {"err": [], "w": [], "cov": [], "any": [], "calls": []} for m in methods}
        anchors = None
        from bayesbench.history._baselines import anchor_items

        anchors = anchor_items(fit, B)
        exact_u, exact_iid = [], []
        for k, name in enumerate(evald):
            row = bank.row(name)
            theta = float(np.mean(row))
            def f(j, row=row):
                return row[j]

            N = len(row)
            var = theta * (1 - theta)  # the exact MSE of the uniform sample mean, without / with replacement
            exact_u.append(var / B * (N - B) / (N - 1))
            exact_iid.append(var / B)
            for seed in range(1000 * k, 1000 * k + args.seeds):  # distinct draws for every model
                e = fit.estimate(f, budget=B, seed=seed, ci="asymptotic")
                r = res["active/asymptotic"]
                r["err"].append(e.mean - theta)
                r["w"].append(e.width)
                r["cov"].append(e.ci[0] <= theta <= e.ci[1])
                r["calls"].append(e.n_calls)
                e = fit.estimate(f, budget=B, seed=seed, ci="anytime")
                r = res["active/anytime"]
                r["err"].append(e.mean - theta)
                r["w"].append(e.width)
                r["cov"].append(e.ci[0] <= theta <= e.ci[1])
                r["any"].append(any(not (lo <= theta <= hi) for _, _, lo, hi in e.trace))
                r["calls"].append(e.n_calls)
                u = fit.estimate_uniform(f, budget=B, seed=seed)
                r = res["uniform/wilson"]
                r["err"].append(u.mean - theta)
                r["w"].append(u.width)
                r["cov"].append(u.ci[0] <= theta <= u.ci[1])
                r["calls"].append(u.n_calls)
                ua = fit.estimate_uniform(f, budget=B, seed=seed, ci="anytime")
                r = res["uniform/anytime"]
                r["err"].append(ua.mean - theta)
                r["w"].append(ua.width)
                r["cov"].append(ua.ci[0] <= theta <= ua.ci[1])
                r["calls"].append(ua.n_calls)
            ir = fit.estimate_irt(f, budget=B, anchors=anchors)
            r = res["irt"]
            r["err"].append(ir.mean - theta)
            r["w"].append(ir.width)
            r["cov"].append(ir.ci[0] <= theta <= ir.ci[1])
            r["calls"].append(ir.n_calls)
        mse_u, mse_iid = np.mean(exact_u), np.mean(exact_iid)
        for m in methods:
            r = res[m]
            err = np.asarray(r["err"])
            mse = np.mean(err**2)
            anym = f"{np.mean(r['any']):8.3f}" if r["any"] else f"{'':8}"
            print(
                f"{B:>6} {m:<18} {np.mean(np.abs(err)):7.4f} {np.mean(r['w']):7.4f} {np.mean(r['cov']):7.3f} "
                f"{anym} {mse_u / mse:6.2f} {mse_iid / mse:6.2f} {np.mean(r['calls']):6.1f}"
            )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
