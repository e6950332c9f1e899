"""Per-clip cost of featurisation against one plain forward+backward of the same model, in one run.

    python tests/benchmarks/featurize_cost.py [--repeats 30] [--threads 1]

On the embedded tiny backend (one thread, batch 1, a 17x32x32 clip of the world and its flow mask):
``curation.featurize.measure_overhead`` alternates a plain forward+backward (ordinary loss, fresh noise)
with the featurisation step (masked loss at t_fix with eps_fix, backward, gradient norm, streamed
Fastfood projection) and reports medians and their ratio; the projection of the same gradient is also
timed alone. Prints a Markdown table. The issue's target is a ratio <= 1.2.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3, help="independent measure_overhead rounds")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from bench.backends.registry import load_backend
    from bench.world import WorldConfig, build_corpus, render_many, to_tensor
    from curation.featurize import GradientFeaturizer, measure_overhead
    from curation.flow import make_flow
    from curation.masks import MaskBuilder, MaskConfig
    from curation.projection import ProjectorSpec, make_projector

    model = load_backend("tiny")
    d = sum(p.numel() for _, p in model.trainable_parameters())
    spec = ProjectorSpec.create("fastfood", d, 512, seed=0)
    feat = GradientFeaturizer(model, make_projector(spec))
    config = WorldConfig(seed=0)
    clip = next(c for c in build_corpus(config, n=40) if c.label == "plausible")
    video = to_tensor(render_many([clip], config))[0]
    mask = MaskBuilder(make_flow("dis"), model.latent_geometry, MaskConfig()).build(clip.clip_id, video).mask
    lat, emb = feat.encode(video, clip.caption)

    grads = [torch.randn(p.numel(), generator=torch.Generator().manual_seed(i)) for i, (_, p) in
             enumerate(feat.params)]
    proj = feat.projector
    proj.project_stream(grads)
    import time

    proj_times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        proj.project_stream(grads)
        proj_times.append(time.perf_counter() - t0)

    print(f"Machine: {os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} thread(s), load average "
          f"{os.getloadavg()[0]:.1f}; tiny backend, {d:,} trainable parameters, Fastfood n={spec.block_size}, "
          f"k=512.\n")
    print("| round | plain forward+backward s | featurize s | ratio |\n|---|---|---|---|")
    ratios = []
    for r in range(args.rounds):
        m = measure_overhead(feat, lat, emb, mask, repeats=args.repeats)
        ratios.append(m["ratio"])
        print(f"| {r + 1} | {m['plain_s']:.4f} | {m['featurize_s']:.4f} | {m['ratio']:.3f} |")
    print(f"\nmedian ratio {float(np.median(ratios)):.3f}; the streamed projection alone: "
          f"{float(np.median(proj_times)) * 1e3:.2f} ms median over {args.repeats} calls.")


if __name__ == "__main__":
    main()
