"""Experiment (nothing shipped): continue the shipped tiny checkpoint for N more steps with another sigma
sampling and learning rate, then run the sample checks of the 50 test prompts at guidance 3 and 5
(one seed set; for three, save the model with OUT_DIR and run ``python -m bench.backends.tiny.report
--checkpoint OUT_DIR``). The continuation starts from the checkpoint's EMA weights with a fresh optimizer,
so it is close to, not the same as, a longer run of the recipe.

    python reports/tiny/finetune_experiment.py 300 uniform 2e-4 [OUT_DIR]
"""
import sys, time, json, dataclasses, numpy as np, torch
from bench.backends.registry import load_backend, embedded_checkpoint
from bench.backends.tiny.recipe import PretrainRecipe, load_corpus
from bench.backends.tiny.train import pretrain
from bench.backends.tiny import sample_check
from bench.backends.tiny.sampler import sample
from bench.backends.tiny.report import _to_uint8
from bench.world import load_test_prompts
extra = int(sys.argv[1]); sampling = sys.argv[2]; lr = float(sys.argv[3])
meta = json.load(open(embedded_checkpoint() / "recipe.json"))
rj, start = meta["recipe"], meta["steps_done"]
recipe = PretrainRecipe.from_dict(rj)
clips, captions, _ = load_corpus(recipe, progress=False)
model = load_backend("tiny")
cfg = dataclasses.replace(recipe.train, steps=start + extra, sigma_sampling=sampling, lr=lr, warmup=1, threads=2)
t0 = time.perf_counter()
losses = pretrain(model, clips, captions, cfg, start_step=start, progress=False)
print(f"fine-tune {extra} steps {sampling} lr {lr}: {time.perf_counter()-t0:.0f}s, last-50 loss {np.mean(losses[-50:]):.3f}", flush=True)
model.denoiser.eval(); model.text_encoder.eval()
if len(sys.argv) > 4:
    model.save(sys.argv[4])
    json.dump({**meta, "steps_done": start + extra, "note": f"continued {extra} steps ({sampling}, lr {lr}) from the shipped checkpoint"},
              open(f"{sys.argv[4]}/recipe.json", "w"), indent=2)
prompts = load_test_prompts(); h = model.video_format[1]
for g in (3.0, 5.0):
    gen = _to_uint8(sample(model, [tp.caption for tp in prompts], [tp.seed for tp in prompts], steps=30, guidance=g, sampler="euler", linear_decode=True))  # the sampler and decode its figures were measured with
    one, mv = sample_check.check_prompts(gen, prompts, height=h)
    grain = float(np.abs(np.diff(gen.astype(np.float32), axis=-2)).mean())
    print(f"  guidance {g}: one {np.mean(one):.2f} moves {np.mean(mv):.2f} grain {grain:.1f}", flush=True)
