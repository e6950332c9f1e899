"""Experiment (nothing shipped): continue the shipped checkpoint with the loss weighted toward the object.

Small objects fail the one-object check far more often than large ones (0.41 against 0.72 at guidance 5),
and in the plain loss an object of a few pixels is a few per cent of the error. Here each latent cell's
squared error is weighted by ``1 + ALPHA * c`` (``c``: the world's ground-truth object coverage
``raster.object_coverage``, max-pooled over the 4 frames and 2 x 2 pixels each latent cell packs), the
weights divided by their corpus mean so the loss keeps its scale. Check the result with
``python reports/tiny/noise_experts.py eval OUT_DIR OUT_DIR 0.5 val 5``.

    python reports/tiny/object_weighted.py STEPS ALPHA OUT_DIR
"""
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from noise_experts import train  # this folder's script: the shared continue-and-save step

from bench.backends.registry import embedded_checkpoint
from bench.backends.tiny.recipe import PretrainRecipe
from bench.world import WorldConfig, build_corpus
from bench.world.raster import object_coverage

steps, alpha, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
recipe = PretrainRecipe.from_dict(json.load(open(embedded_checkpoint() / "recipe.json"))["recipe"])
world = WorldConfig(seed=recipe.world_seed)
t0 = time.perf_counter()
cover = torch.as_tensor(np.stack([object_coverage(s, world) for s in build_corpus(world, n=recipe.corpus_size)]))[:, None]
cover = torch.cat([cover[:, :, :1].expand(-1, -1, 3, -1, -1), cover], dim=2)  # frame 0 packs alone (see latent.pack)
cells = F.max_pool3d(cover, kernel_size=(4, 2, 2))  # (N, 1, F', H', W')
weights = 1 + alpha * cells
weights = weights / weights.mean()
print(f"coverage: {time.perf_counter() - t0:.0f}s, mean cell coverage {cells.mean():.4f}, "
      f"object cells' weight {weights[cells > 0.5].mean():.2f}, background {weights[cells == 0].mean():.2f}", flush=True)
train(steps, 0.0, 1.0, out, weights=weights, label=f"object-weighted (alpha {alpha})")
