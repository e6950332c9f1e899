"""Where in the network does the common gradient direction live?  Exact (unprojected) masked gradients, seed 0.

Pass 1: the mean of the unit-normalised exact gradients of the valid corpus clips, m. Pass 2: for each clip,
the alignment cos(g_i, m) split by parameter group (sum over groups = the alignment). Prints each group's
share of parameters, of |m|^2, and of the mean alignment by label; and the exact-vs-projected alignment.

    PYTHONPATH=. python reports/selection-study/layers.py reports/selection-study/base
"""

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).parent))
from _study import seed0_setup  # noqa: E402

from bench.world import WorldConfig, build_corpus

torch.set_num_threads(1)
run = Path(sys.argv[1])
backend, data, cm, _, feat, d = seed0_setup(run)
names = [n for n, _ in feat.params]
sizes = [p.numel() for _, p in feat.params]


def group(n):
    n = n.replace("denoiser.unet.", "")
    m = re.match(r"(down_blocks|up_blocks)\.(\d+)\.(attentions|resnets|downsamplers|upsamplers)", n)
    if m:
        return f"{m.group(1)}.{m.group(2)}.{m.group(3)}"
    m = re.match(r"(mid_block)\.(attentions|resnets)", n)
    if m:
        return f"{m.group(1)}.{m.group(2)}"
    return n.rsplit(".", 1)[0] if not n.startswith(("conv_", "time_")) else n.split(".")[0]


groups = [group(n) for n in names]
gnames = sorted(set(groups), key=groups.index)
bounds = np.cumsum([0] + sizes)
gidx = {g: np.concatenate([np.arange(bounds[i], bounds[i + 1]) for i, gg in enumerate(groups) if gg == g]) for g in gnames}
rows = [i for i, c in enumerate(data.clip_ids) if not cm[c].zero_mask]
labels = np.array([s.label for s in build_corpus(WorldConfig(seed=0), n=600)])


def grad(i):
    lat, emb = feat.encode(data.videos[i], data.captions[i])
    return feat.flat_gradient(lat, emb, cm[data.clip_ids[i]].mask).double()


acc = torch.zeros(d, dtype=torch.float64)
for i in rows:
    g = grad(i)
    acc += g / g.norm()
m = acc / len(rows)
m_hat = m / m.norm()
print(f"|mean unit exact gradient| = {float(m.norm()):.4f} over {len(rows)} clips")
contrib = np.zeros((len(rows), len(gnames)))
for r, i in enumerate(rows):
    g = grad(i)
    u = g / g.norm()
    prod = (u * m_hat).numpy()
    contrib[r] = [prod[gidx[gn]].sum() for gn in gnames]
L = labels[rows]
m2 = (m_hat.numpy() ** 2)
tab = pd.DataFrame({"group": gnames, "param_share": [len(gidx[g]) / d for g in gnames],
                    "mean_dir_energy_share": [m2[gidx[g]].sum() for g in gnames],
                    "align_plausible": contrib[L == "plausible"].mean(0),
                    "align_violating": contrib[L == "violating"].mean(0),
                    "align_camera_only": contrib[L == "camera_only"].mean(0)})
pd.set_option("display.width", 200)
print(tab.round(4).to_string(index=False))
print("total alignment by label:", {lab: round(float(contrib[L == lab].sum(1).mean()), 4)
                                    for lab in ("plausible", "violating", "camera_only")})
