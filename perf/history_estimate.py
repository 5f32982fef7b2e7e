"""History-based estimation on the Open LLM Leaderboard v1 bank (the 5 files joined: 1989 models x 493 items).

Protocol (issue 8): hold out 20 % of the models (seeded), fit the factor model on the rest, and for
budgets 25, 50, 100, 200 estimate every held-out model's bank-wide mean with 20 seeds; report MAE,
mean CI width, coverage of the bank-wide mean and the ESS gain (MSE of the uniform sample mean / MSE
of the method, same budget) for the active method (asymptotic and anytime intervals), the IRT
baseline and the uniform sample mean.

First, in the same run, the fit itself: the configuration before the speed-up (the previous loss code,
the BLAS library's own thread count) against the current default (in-place loss, one BLAS thread),
each with the same CV grid: fit time, one 100-question estimate, held-out entry accuracy and log-loss,
the chosen rank / penalty and the gain at budget 100 on a few held-out models; times as a ratio.

    python perf/history_estimate.py [--models 40] [--seeds 20] [--full] [--no-old] [--fit-cache /tmp/fit.npz]

--models limits the held-out models evaluated; --full evaluates all 397 (about 14 minutes of CPU).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time

import numpy as np

from bayesbench.history import ItemBank, _factor, fit_bank, load_fit


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


def _loss_grad_before(theta, H, M, n_obs, K, lam):
    """The loss + gradient as it was before the speed-up (commit 16a3b43), for the OLD row of the table."""
    nm, ni = H.shape
    U = theta[: nm * K].reshape(nm, K)
    V = theta[nm * K: nm * K + ni * K].reshape(ni, K)
    b = theta[nm * K + ni * K:]
    U32, V32 = U.astype(np.float32), V.astype(np.float32)
    L = U32 @ V32.T + b.astype(np.float32)
    E = np.exp(-np.abs(L))
    D = 1.0 + E
    sp = np.maximum(L, 0.0) + np.log(D)
    P = np.where(L >= 0, 1.0, E) / D
    term = sp - H * L
    R = P - H
    if M is not None:
        term *= M
        R *= M
    loss = float(term.sum(dtype=np.float64)) / n_obs + 0.5 * lam * (np.sum(U * U) + np.sum(V * V)) / n_obs
    R /= n_obs
    gU = (R @ V32).astype(np.float64) + lam * U / n_obs
    gV = (R.T @ U32).astype(np.float64) + lam * V / n_obs
    gb = R.sum(axis=0, dtype=np.float64)
    return loss, np.concatenate([gU.ravel(), gV.ravel(), gb])


def _quick_gain(fit, bank, models, seeds, budget=100):
    """(gain vs the without-replacement uniform mean, its bootstrap SE over models, asymptotic coverage)."""
    sq, cover, exact = [], [], []
    for k, name in enumerate(models):
        row = bank.row(name)
        theta = float(np.mean(row))
        N = len(row)
        exact.append(theta * (1 - theta) / budget * (N - budget) / (N - 1))
        errs = []
        for seed in range(1000 * k, 1000 * k + seeds):
            e = fit.estimate(lambda j, row=row: row[j], budget=budget, seed=seed)
            errs.append((e.mean - theta) ** 2)
            cover.append(e.ci[0] <= theta <= e.ci[1])
        sq.append(np.mean(errs))
    sq, exact = np.asarray(sq), np.asarray(exact)
    boot = np.random.default_rng(0).integers(0, len(sq), (500, len(sq)))
    gains = exact[boot].mean(1) / sq[boot].mean(1)
    return float(exact.mean() / sq.mean()), float(gains.std()), float(np.mean(cover))


def compare_fits(train, bank, test_models, ranks, penalties, n_models, n_seeds, with_old):
    """The fit table: OLD (previous loss, library BLAS threads) vs NEW (the default), same data and grid."""
    configs = []
    if with_old:
        configs.append(("old: previous loss, BLAS threads default", dict(threads=None, cv_tol=None),
                        _loss_grad_before))
    configs.append(("new: default (in-place loss, 1 thread, cv_tol)", {}, None))
    rows, fits = [], []
    row0 = bank.row(test_models[0])
    for label, kw, loss in configs:
        saved = _factor._loss_grad
        if loss is not None:
            _factor._loss_grad = loss
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            fit = fit_bank(train, ranks=ranks, penalties=penalties, seed=0, **kw)
            fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
        finally:
            _factor._loss_grad = saved
        t1 = time.perf_counter()
        fit.estimate(lambda j: row0[j], budget=100, seed=0)
        est_s = time.perf_counter() - t1
        gain, gse, cov = _quick_gain(fit, bank, test_models[:n_models], n_seeds)
        rows.append((label, fit_s, fit_cpu, est_s, fit, gain, gse, cov))
        fits.append(fit)
        sys.stdout.flush()
    print(f"fit on {train.n_models} models x {train.n_items} items, CV over ranks {ranks} x penalties {penalties}; "
          f"gain/coverage at budget 100 on {n_models} held-out models x {n_seeds} seeds (asymptotic interval)")
    print(f"{'configuration':<46} {'fit s':>7} {'fit cpu':>7} {'est s':>6} {'total s':>8} {'rank':>4} {'pen':>4} "
          f"{'acc':>6} {'logloss':>7} {'gain100':>12} {'cover':>6}")
    for label, fit_s, fit_cpu, est_s, fit, gain, gse, cov in rows:
        print(f"{label:<46} {fit_s:7.1f} {fit_cpu:7.1f} {est_s:6.2f} {fit_s + est_s:8.1f} {fit.rank:>4} "
              f"{fit.penalty:>4g} {fit.heldout_accuracy:6.4f} {fit.heldout_log_loss:7.4f} "
              f"{f'{gain:.2f} +- {gse:.2f}':>12} {cov:6.3f}")
    if len(rows) == 2:
        (_, f0, c0, e0, a, g0, _, _), (_, f1, c1, e1, b, g1, _, _) = rows
        dp = float(np.max(np.abs(a.predict() - b.predict())))
        print(f"old / new: fit time {f0 / f1:.1f}x (CPU {c0 / c1:.1f}x), fit + estimate {(f0 + e0) / (f1 + e1):.1f}x; "
              f"held-out accuracy {b.heldout_accuracy - a.heldout_accuracy:+.4f}, gain {g1 - g0:+.2f}; "
              f"max |prior-mean prediction difference| {dp:.4f}")
    return fits[-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=40, help="held-out models to evaluate (0 = all)")
    ap.add_argument("--full", action="store_true", help="the issue's full protocol: every held-out model")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--budgets", default="25,50,100,200")
    ap.add_argument("--fit-cache", default=None, help="npz to load the fit from / save it to (skips the fit table)")
    ap.add_argument("--ranks", default="16,32")
    ap.add_argument("--penalties", default="3,10")
    ap.add_argument("--no-old", action="store_true", help="skip the OLD fit configuration (slow) in the fit table")
    ap.add_argument("--compare-models", type=int, default=40, help="held-out models for the fit table's gain")
    ap.add_argument("--compare-seeds", type=int, default=20)
    ap.add_argument("--report-every", type=int, default=0, help="print the table after every this many models")
    args = ap.parse_args()
    bank = load_bank()
    rng = np.random.default_rng(0)
    perm = rng.permutation(bank.n_models)
    n_test = bank.n_models // 5
    test_models = [bank.models[i] for i in perm[:n_test]]
    train = bank.filter(models=[bank.models[i] for i in perm[n_test:]])
    ranks = tuple(int(x) for x in args.ranks.split(","))
    penalties = tuple(float(x) for x in args.penalties.split(","))
    if args.fit_cache and os.path.exists(args.fit_cache):
        fit = load_fit(args.fit_cache)
        print(f"fit loaded from {args.fit_cache}: rank {fit.rank}, penalty {fit.penalty:g}, held-out entry "
              f"accuracy {fit.heldout_accuracy:.4f} (fitted in {fit.cv.get('fit_seconds', float('nan')):.1f} s)")
    else:
        fit = compare_fits(train, bank, test_models, ranks, penalties, args.compare_models, args.compare_seeds,
                              not args.no_old)
        if args.fit_cache:
            fit.save(args.fit_cache)
    sys.stdout.flush()

    evald = test_models if args.full or args.models == 0 else test_models[: args.models]
    budgets = [int(b) for b in args.budgets.split(",")]
    run_protocol(fit, bank, evald, budgets, args.seeds, args.report_every)


METHODS = ("active/asymptotic", "active/anytime", "irt", "uniform/wilson", "uniform/anytime")


def _add(r, e, theta, trace=False):
    r["err"].append(e.mean - theta)
    r["w"].append(e.width)
    r["cov"].append(e.ci[0] <= theta <= e.ci[1])
    r["calls"].append(e.n_calls)
    if trace:
        r["any"].append(any(not (lo <= theta <= hi) for _, _, lo, hi in e.trace))


def _table(res, exact, budgets, n_models, seeds, cpu):
    print(f"\n{n_models} held-out models x {seeds} seeds (IRT: fixed anchors, 1 run per model); {cpu:.0f} s of CPU")
    print("gain = exact MSE of the uniform sample mean (without replacement | with replacement) / MSE of the row")
    print(f"{'budget':>6} {'method':<18} {'MAE':>7} {'width':>7} {'cover':>7} {'miss@any':>8} "
          f"{'gain':>6} {'g_iid':>6} {'calls':>6}")
    for B in budgets:
        mse_u, mse_iid = np.mean(exact[B]["wor"]), np.mean(exact[B]["iid"])
        for m in METHODS:
            r = res[B][m]
            err = np.asarray(r["err"])
            mse = np.mean(err**2)
            anym = f"{np.mean(r['any']):8.3f}" if r["any"] else f"{'':8}"
            print(f"{B:>6} {m:<18} {np.mean(np.abs(err)):7.4f} {np.mean(r['w']):7.4f} {np.mean(r['cov']):7.3f} "
                  f"{anym} {mse_u / mse:6.2f} {mse_iid / mse:6.2f} {np.mean(r['calls']):6.1f}")
    sys.stdout.flush()


def run_protocol(fit, bank, models, budgets, seeds, report_every=0):
    """Every model x seed x budget; the table at the end (and every ``report_every`` models)."""
    from bayesbench.history._baselines import anchor_items

    t0 = time.process_time()
    anchors = {B: anchor_items(fit, B) for B in budgets}
    res = {B: {m: {"err": [], "w": [], "cov": [], "any": [], "calls": []} for m in METHODS} for B in budgets}
    exact = {B: {"wor": [], "iid": []} for B in budgets}
    for k, name in enumerate(models):
        row = bank.row(name)
        theta = float(np.mean(row))
        N = len(row)

        def f(j, row=row):
            return row[j]

        for B in budgets:
            var = theta * (1 - theta)  # the exact MSE of the uniform sample mean, without / with replacement
            exact[B]["wor"].append(var / B * (N - B) / (N - 1))
            exact[B]["iid"].append(var / B)
            r = res[B]
            for seed in range(1000 * k, 1000 * k + seeds):  # distinct draws for every model
                _add(r["active/asymptotic"], fit.estimate(f, budget=B, seed=seed, ci="asymptotic"), theta)
                _add(r["active/anytime"], fit.estimate(f, budget=B, seed=seed, ci="anytime"), theta, trace=True)
                _add(r["uniform/wilson"], fit.estimate_uniform(f, budget=B, seed=seed), theta)
                _add(r["uniform/anytime"], fit.estimate_uniform(f, budget=B, seed=seed, ci="anytime"), theta)
            _add(r["irt"], fit.estimate_irt(f, budget=B, anchors=anchors[B]), theta)
        if report_every and (k + 1) % report_every == 0 and k + 1 < len(models):
            _table(res, exact, budgets, k + 1, seeds, time.process_time() - t0)
    _table(res, exact, budgets, len(models), seeds, time.process_time() - t0)


if __name__ == "__main__":
    main()
