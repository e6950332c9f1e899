"""Projection, scoring and selection speed, and peak memory, measured in one run; prints a Markdown report.

    python tests/benchmarks/projection_ratios.py [--threads 2] [--quick] > reports/benchmarks/projection.md

Every ratio compares timings taken in this same run on this machine. Timings are the best of a few
repeats (the machine may be shared; the median is printed too). The peak-memory figure is measured in a
fresh subprocess from its resident-set high-water mark.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import numpy as np
import torch


def timed(fn, repeats: int, warmup: bool = True) -> tuple[float, float, float]:
    """(best wall, median wall, best CPU) seconds of ``fn()`` over ``repeats`` runs (after a warm-up run).

    CPU time (``time.process_time``) is what the process itself used; on a shared machine it is the
    better estimate of an unloaded single-threaded wall time (it still includes cache contention).
    """
    if warmup:
        fn()
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), statistics.median(walls), min(cpus)


def projection_rates(d: int, batch: int, k: int, repeats: int, dense: bool, stored: bool) -> list[dict]:
    from curation.projection import ProjectorSpec, make_projector

    x = torch.randn(batch, d, generator=torch.Generator().manual_seed(0))
    rows = []
    ff = make_projector(ProjectorSpec.create("fastfood", d, k, seed=0))
    best, med, cpu = timed(lambda: ff.project(x), 1, warmup=False)
    rows.append({"method": "fastfood, first call of a new projector (randomness generated)", "d": d,
                 "best_s": best, "median_s": med, "cpu_s": cpu})
    best, med, cpu = timed(lambda: ff.project(x), repeats)
    rows.append({"method": f"fastfood (n={ff.spec.block_size}, randomness cached={ff.cache_complete})",
                 "d": d, "best_s": best, "median_s": med, "cpu_s": cpu})
    ff0 = make_projector(ProjectorSpec.create("fastfood", d, k, seed=0), cache_bytes=0)
    best, med, cpu = timed(lambda: ff0.project(x), max(1, repeats // 2))
    rows.append({"method": "fastfood (randomness regenerated per call)", "d": d, "best_s": best, "median_s": med,
                 "cpu_s": cpu})
    if dense:
        dp = make_projector(ProjectorSpec.create("dense_gaussian", d, k, seed=0))
        best, med, cpu = timed(lambda: dp.project(x), 1, warmup=False)
        rows.append({"method": "dense Gaussian, regenerated per block", "d": d, "best_s": best, "median_s": med,
                     "cpu_s": cpu})
    if stored:
        w = torch.randn(d, k) / k**0.5
        best, med, cpu = timed(lambda: x @ w, repeats)
        rows.append({"method": "stored d x k matrix, one matmul", "d": d, "best_s": best, "median_s": med,
                     "cpu_s": cpu})
        del w
    for r in rows:
        r["grads_per_s"] = batch / r["best_s"]
    return rows


def block_size_sweep(d: int = 1 << 20, batch: int = 8, k: int = 512) -> None:
    """Print Fastfood's time at d, batch 8 for block sizes 1024..65536 (randomness cached)."""
    from curation.projection import ProjectorSpec, make_projector

    x = torch.randn(batch, d, generator=torch.Generator().manual_seed(0))
    print(f"## Fastfood block size sweep, d = {d:,}, batch {batch}, k = {k}\n")
    print("| block size n | best wall s | best CPU s | gradients/s (CPU) |\n|---|---|---|---|")
    for n in (1024, 4096, 16384, 65536):
        proj = make_projector(ProjectorSpec.create("fastfood", d, k, seed=0, block_size=n), cache_bytes=1 << 30)
        best, _, cpu = timed(lambda: proj.project(x), 5)
        print(f"| {n} | {best:.3f} | {cpu:.3f} | {batch / cpu:.1f} |")


def scoring_and_vote(repeats: int) -> dict:
    from curation.influence import cosine_scores
    from curation.select import majority_vote

    rng = np.random.default_rng(0)
    train = rng.normal(size=(10_000, 512)).astype(np.float32)
    query = rng.normal(size=(50, 512)).astype(np.float32)
    best_s, _, _ = timed(lambda: cosine_scores(train, query), repeats)
    scores = cosine_scores(train, query)
    best_v, _, _ = timed(lambda: majority_vote(scores), repeats)
    best_t, med_t, cpu_t = timed(lambda: majority_vote(cosine_scores(train, query)), repeats)
    return {"scores_best_ms": best_s * 1e3, "vote_best_ms": best_v * 1e3, "total_best_ms": best_t * 1e3,
            "total_median_ms": med_t * 1e3, "total_cpu_ms": cpu_t * 1e3}


_MEMORY_CHILD = r"""
import json, sys, time, torch
torch.set_num_threads(int(sys.argv[2]))
from curation.projection import ProjectorSpec, make_projector

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

d, mode = int(sys.argv[1]), sys.argv[3]
g = torch.empty(d, dtype=torch.float32).normal_(generator=torch.Generator().manual_seed(0))
options = {"cache_bytes": 2 << 30} if mode == "cached" else {}
proj = make_projector(ProjectorSpec.create("fastfood", d, 512, seed=0), **options)
small = torch.ones(proj.spec.block_size * 64)
make_projector(ProjectorSpec.create("fastfood", small.numel(), 512, seed=0)).project(small)  # imports, tables
base = status("VmRSS")
with open("/proc/self/clear_refs", "w") as fh:  # reset the high-water mark to the current RSS
    fh.write("5")
if mode == "cached":
    proj.project(g)  # the first call fills the cache; the timed call below reuses it
t0, c0 = time.perf_counter(), time.process_time()
if mode == "stream":
    y = proj.project_stream(list(torch.split(g, 1_000_003)))
else:
    y = proj.project(g)
dt, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": dt, "cpu_seconds": cpu, "extra_bytes": status("VmHWM") - base,
                  "grad_bytes": g.numel() * 4, "cache_bytes": proj._cache_used}))
"""


def peak_memory(d: int, threads: int, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, str(d), str(threads), mode],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="skip d=10^7 and d=10^8 (minutes)")
    ap.add_argument("--sweep", action="store_true", help="only the Fastfood block-size sweep")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.sweep:
        block_size_sweep()
        return
    load = os.getloadavg()
    print("# Projection, scoring and selection benchmarks\n")
    print(f"Command: `python tests/benchmarks/projection_ratios.py --threads {args.threads}"
          f"{' --quick' if args.quick else ''}`  ")
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{args.threads} torch threads; load average at start {load[0]:.1f} "
          f"(other jobs share these cores, so absolute times are inflated; ratios are from this one run).\n")
    print("## Projection, k = 512, batch 8\n")
    print("| method | d | best wall s / batch | median wall s | best CPU s | gradients/s (wall) | gradients/s (CPU) |\n"
          "|---|---|---|---|---|---|---|")
    rows = projection_rates(1 << 20, 8, 512, repeats=5, dense=True, stored=True)
    if not args.quick:
        rows += projection_rates(10_000_000, 8, 512, repeats=3, dense=True, stored=False)
        rows += projection_rates(100_000_000, 8, 512, repeats=2, dense=False, stored=False)
    for r in rows:
        print(f"| {r['method']} | {r['d']:,} | {r['best_s']:.3f} | {r['median_s']:.3f} | {r['cpu_s']:.3f} | "
              f"{r['grads_per_s']:.1f} | {8 / r['cpu_s']:.1f} |")
    ff = next(r for r in rows if r["d"] == 1 << 20 and "cached=" in r["method"])
    stored = next(r for r in rows if r["method"].startswith("stored"))
    dense = next(r for r in rows if r["d"] == 1 << 20 and r["method"].startswith("dense"))
    print(f"\nAt d = 2^20: Fastfood is {stored['best_s'] / ff['best_s']:.1f}x the stored-matrix matmul "
          f"({stored['cpu_s'] / ff['cpu_s']:.1f}x by CPU time) and {dense['best_s'] / ff['best_s']:.0f}x the "
          f"regenerated dense projector.")
    if not args.quick:
        ff7 = next(r for r in rows if r["d"] == 10_000_000 and "cached=" in r["method"])
        dense7 = next(r for r in rows if r["d"] == 10_000_000 and r["method"].startswith("dense"))
        print(f"At d = 10^7: Fastfood is {dense7['best_s'] / ff7['best_s']:.0f}x the regenerated dense projector; "
              f"a stored 10^7 x 512 float32 matrix would need 20.5 GB and was not built.")
        print("\n## d = 10^8, one gradient, fresh process\n")
        print("| input | wall s | CPU s | gradients/s (wall) | peak extra RSS | gradient size | ratio |\n"
              "|---|---|---|---|---|---|---|")
        labels = {"flat": "one flat tensor (default 256 MiB randomness cache, filling)",
                  "stream": "stream of 1,000,003-element chunks (same)",
                  "cached": "one flat tensor, second call with a 2 GiB cache holding all randomness"}
        for mode, label in labels.items():
            m = peak_memory(100_000_000, args.threads, mode)
            print(f"| {label} | {m['seconds']:.2f} | {m['cpu_seconds']:.2f} | {1 / m['seconds']:.2f} | "
                  f"{m['extra_bytes'] / 2**20:.0f} MiB | "
                  f"{m['grad_bytes'] / 2**20:.0f} MiB | {m['extra_bytes'] / m['grad_bytes']:.2f}x |")
    s = scoring_and_vote(repeats=10)
    print("\n## Scoring 10,000 clips x 50 queries (k = 512) and the majority vote\n")
    print(f"cosine scores {s['scores_best_ms']:.1f} ms, majority vote {s['vote_best_ms']:.1f} ms; "
          f"both together {s['total_best_ms']:.1f} ms best wall, {s['total_median_ms']:.1f} ms median wall, "
          f"{s['total_cpu_ms']:.1f} ms best CPU.")


if __name__ == "__main__":
    main()
