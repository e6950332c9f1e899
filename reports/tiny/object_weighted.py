"""Experiment (nothing shipped): continue the shipped checkpoint with the loss weighted toward the object.

Small objects fail the one-object check far more often than large ones (0.41 against 0.72 at guidance 5),
and in the plain loss an object of a few pixels is a few per cent of the error. Here each latent cell's
squared error is weighted by ``1 + ALPHA * c`` (``c``: the world's ground-truth object coverage
``raster.object_coverage``, max-pooled over the 4 frames and 2 x 2 pixels each latent cell packs), the
weights divided by their corpus mean so the loss keeps its scale. Then the validation checks of
``noise_experts.py`` run on the result (the test prompts only with ``--test``).

    python reports/tiny/object_weighted.py STEPS ALPHA OUT_DIR [--test]
"""
import dataclasses
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from bench.backends.registry import embedded_checkpoint, load_backend
from bench.backends.tiny.recipe import PretrainRecipe, load_corpus
from bench.backends.tiny.train import pretrain
from bench.world import WorldConfig, build_corpus
from bench.world.raster import object_coverage

torch.set_num_threads(2)
steps, alpha, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
meta = json.load(open(embedded_checkpoint() / "recipe.json"))
recipe, start = PretrainRecipe.from_dict(meta["recipe"]), meta["steps_done"]
clips, captions, _ = load_corpus(recipe, progress=False)
world = WorldConfig(seed=recipe.world_seed)
t0 = time.perf_counter()
cover = torch.as_tensor(np.stack([object_coverage(s, world) for s in build_corpus(world, n=recipe.corpus_size)]))[:, None]
cover = torch.cat([cover[:, :, :1].expand(-1, -1, 3, -1, -1), cover], dim=2)  # frame 0 packs alone (see latent.pack)
cells = F.max_pool3d(cover, kernel_size=(4, 2, 2))  # (N, 1, F', H', W')
weights = 1 + alpha * cells
weights = weights / weights.mean()
print(f"coverage: {time.perf_counter() - t0:.0f}s, mean cell coverage {cells.mean():.4f}, "
      f"object cells' weight {weights[cells > 0.5].mean():.2f}, background {weights[cells == 0].mean():.2f}", flush=True)
model = load_backend("tiny")
cfg = dataclasses.replace(recipe.train, steps=start + steps, threads=2)
t0 = time.perf_counter()
losses = pretrain(model, clips, captions, cfg, start_step=start, progress=False, weights=weights)
print(f"object-weighted (alpha {alpha}) {steps} steps: {time.perf_counter() - t0:.0f}s, "
      f"weighted loss first-50 {np.mean(losses[:50]):.4f} last-100 {np.mean(losses[-100:]):.4f}", flush=True)
model.denoiser.eval(), model.text_encoder.eval()
model.save(out)
note = f"continued {steps} steps with the object-weighted loss, alpha {alpha}"
json.dump({**meta, "steps_done": start + steps, "note": note}, open(f"{out}/recipe.json", "w"), indent=2)
