"""Which parameter groups carry the plausible-vs-violating signal, and which the common direction?  Seed 0.

Exact (unprojected) masked gradients of the valid corpus clips and the queries (float16 in memory, ~1.4 GB; scored in chunks of 40 rows), split
into the groups of layers.py. Per group: |m| (mean unit corpus gradient restricted to the group), the
within-category AUC(plausible > violating) of the mean own-category cosine, and the plausible share of
the paper's majority-vote top 60 on that group's gradient alone - plain and with m projected out.

    PYTHONPATH=. python reports/selection-study/layer_signal.py reports/selection-study/base
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench.world import WorldConfig, build_corpus, build_queries  # noqa: E402
from curation.select import majority_vote  # noqa: E402
from variants import within_category  # noqa: E402
from _study import auc_within, seed0_setup  # noqa: E402

torch.set_num_threads(1)


run = Path(sys.argv[1])
backend, data, cm, qm, feat, d = seed0_setup(run, query_masks=True)
names = [n.replace("denoiser.unet.", "") for n, _ in feat.params]
sizes = [p.numel() for _, p in feat.params]


def group(n):
    if n.startswith(("conv_in", "down_blocks.0", "up_blocks.2", "conv_norm_out", "conv_out")):
        return "full-res (conv_in, down0, up2, conv_out)"
    if n.startswith(("down_blocks.1", "up_blocks.1")):
        return "half-res (down1, up1)"
    if n.startswith("time_embedding"):
        return "time embedding"
    return "deep (down2, mid, up0)"


groups = [group(n) for n in names]
bounds = np.cumsum([0] + sizes)
gnames = sorted(set(groups))
gidx = {g: np.concatenate([np.arange(bounds[i], bounds[i + 1]) for i, gg in enumerate(groups) if gg == g])
        for g in gnames}
gidx["all"] = np.arange(d)


def grads(ids, caps, videos, masks):
    keep = [i for i, c in enumerate(ids) if not masks[c].zero_mask]
    out = np.zeros((len(keep), d), np.float16)
    for r, i in enumerate(keep):
        lat, emb = feat.encode(videos[i], caps[i])
        g = feat.flat_gradient(lat, emb, masks[ids[i]].mask)
        out[r] = (g / g.norm()).numpy().astype(np.float16)  # unit rows: float16 keeps ~3 digits per entry
    return np.array(keep), out


ck, G = grads(data.clip_ids, data.captions, data.videos, cm)
qk, QG = grads(data.query_ids, data.query_captions, data.query_videos, qm)
w = WorldConfig(seed=0)
L = np.array([s.label for s in build_corpus(w, n=600)])[ck]
C = np.array([s.category for s in build_corpus(w, n=600)])[ck]
qc = np.array([s.category for s in build_queries(w)])[qk]


def group_scores(g, chunk=40):
    """Plain and m-projected-out cosines (clips x queries) on group g, without copying the whole group."""
    idx = gidx[g]
    Qg = QG[:, idx].astype(np.float32)
    Qg /= np.linalg.norm(Qg, axis=1, keepdims=True)
    dots, msum = np.zeros((len(G), len(Qg))), np.zeros(len(idx))
    for a in range(0, len(G), chunk):
        Xc = G[a:a + chunk][:, idx].astype(np.float32)
        Xc /= np.linalg.norm(Xc, axis=1, keepdims=True)
        dots[a:a + chunk] = Xc @ Qg.T
        msum += Xc.sum(0)
    m = msum / len(G)
    mh = (m / np.linalg.norm(m)).astype(np.float32)
    xm = np.concatenate([(G[a:a + chunk][:, idx].astype(np.float32) /
                          np.linalg.norm(G[a:a + chunk][:, idx].astype(np.float32), axis=1, keepdims=True)) @ mh
                         for a in range(0, len(G), chunk)])
    qm = Qg @ mh
    sp = (dots - np.outer(xm, qm)) / np.sqrt(np.outer(1 - xm ** 2, 1 - qm ** 2))
    return dots, sp, float(np.linalg.norm(m))


recs = []
for g in ["all"] + gnames:
    S, Sp, mnorm = group_scores(g)
    share = lambda sel: float((L[sel] == "plausible").mean())  # noqa: E731
    recs.append({"group": g, "param share": len(gidx[g]) / d, "|m|": mnorm,
                 "AUC own plain": auc_within(S, L, C, qc), "AUC own m-out": auc_within(Sp, L, C, qc),
                 "majority plain": share(majority_vote(S, 90, count=60).selected),
                 "majority m-out": share(majority_vote(Sp, 90, count=60).selected),
                 "within-cat m-out": share(within_category(Sp, C, qc, 60))})
pd.set_option("display.width", 200)
print(pd.DataFrame(recs).round(3).to_string(index=False))
