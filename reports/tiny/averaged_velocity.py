"""Sessions 12 and 13's experiments: the validation shares of a sampler whose velocity is an average (not shipped).

    python reports/tiny/pretrain_variant.py OUT steps=12000 position_channels=2 decoder=none   # 43 min
    python reports/tiny/averaged_velocity.py attach OUT OUT_DEC       # give it the shipped learned decoder
    python reports/tiny/averaged_velocity.py ensemble bench/backends/tiny/checkpoint OUT_DEC 5 6
    python reports/tiny/averaged_velocity.py compose ENS OUT_A OUT_B   # then the report with --checkpoint ENS
    python reports/tiny/averaged_velocity.py mirror bench/backends/tiny/checkpoint 5 6 [orth]

``attach``: the decoder stage reads neither the denoiser nor its samples, so a denoiser-only run gets the
shipped decoder's weights (its latent fit must agree with the shipped one to 1e-4; on another host the
rendered corpus can differ in a few pixels, see reports/tiny/README.md, session 12).
``compose OUT A B ...``: the same kind of average as one :class:`TinyBackend` (``TinyConfig.members``, members of
one shape), given the shipped decoder and saved, so ``python -m bench.backends.tiny.report --checkpoint OUT``
measures it on the test prompts (session 13). ``ensemble A B G SETS [test]``: the mean of two independently trained models' velocities, each with its own text
encoder. ``mirror CKPT G SETS [orth]``: ``(v(z, p) + F^-1 v(F z, mirror(p))) / 2`` with ``F`` the horizontal
flip acting on the linear latent (grid flipped, the 2x2 cells' columns swapped, projected on the kept PCA
subspace: exact on data there, but not orthogonal in whitened units; ``orth`` takes its orthogonal polar
factor instead) and ``mirror(p)`` the prompt with left and right swapped. Guidance, Heun, learned decoder,
validation prompts (``test``: the 50 test prompts, the report's seeds), SETS seed sets, 2 threads.
"""
import re
import sys
import time

import numpy as np
import torch

from bench.backends.registry import embedded_checkpoint
from bench.backends.tiny import sample_check
from bench.backends.tiny.model import TinyBackend
from bench.backends.tiny.report import _to_uint8
from bench.backends.tiny.sampler import sample
from bench.world import load_test_prompts, validation_prompts


class Averaged:
    """Duck-types a TinyBackend for :func:`sample`: the prompt embedding holds both members' halves."""

    def __init__(self, base, members):  # members: [(text transform, velocity(z, t, emb))]
        self.base, self.members = base, members

    def __getattr__(self, name):
        return getattr(self.base, name)

    def encode_prompt(self, texts):
        return torch.stack([enc([f(t) for t in texts]) for f, enc, _ in self.members], -1)

    def velocity(self, z, t, emb):
        return sum(vel(z, t, emb[..., i]) for i, (_, _, vel) in enumerate(self.members)) / len(self.members)


def mirror_member(model, orthogonal=False):
    lat = model.latent
    idx = torch.arange(48).reshape(3, 4, 2, 2).flip(-1).reshape(-1)  # packed (colour, dt, dy, dx): swap dx
    comp, std, mean = lat.components.double(), lat.std.double(), lat.mean.double()
    m = torch.diag(1 / std) @ comp @ comp[:, idx].T @ torch.diag(std)
    if orthogonal:
        u, _, vh = torch.linalg.svd(m)
        m = u @ vh
    c = ((comp @ (mean[idx] - mean)) / std).float().view(1, -1, 1, 1, 1)  # the flip's offset (the mean's asymmetry)
    m_inv, m = torch.linalg.inv(m).float(), m.float()

    def flip(z, a):
        return torch.einsum("kj,bjfhw->bkfhw", a, z).flip(-1)

    def velocity(z, t, emb):  # x' = F x + c, eps' = F eps  =>  z' = F z + (1 - s) c, v' = F v - c
        s = t.reshape(-1, 1, 1, 1, 1) / 1000.0
        return flip(model.velocity(flip(z, m) + (1 - s) * c, t, emb) + c, m_inv)

    def swap(text):
        return re.sub(r"\b(left|right)\b", lambda w: "right" if w.group(1) == "left" else "left", text)

    return swap, model.encode_prompt, velocity


def shares(model, guidance, sets, test=False):
    prompts, t0 = load_test_prompts() if test else validation_prompts(), time.time()
    texts = [p.caption for p in prompts]
    one, moves = (a.mean(1) for a in sample_check.check_seed_sets(
        lambda seeds: _to_uint8(sample(model, texts, seeds, guidance=guidance)), prompts, sets))
    return f"one object {np.mean(one):.3f} ({min(one):.2f}-{max(one):.2f}), moves {np.mean(moves):.3f} ({time.time() - t0:.0f} s)"


def main(cmd, *args):
    torch.set_num_threads(2)
    if cmd == "attach":
        model, shipped = TinyBackend.load(args[0]), TinyBackend.load(embedded_checkpoint())
        for k, v in shipped.state_dict().items():
            if k.startswith("latent.") and not torch.allclose(v, model.state_dict()[k], atol=1e-4):
                raise SystemExit(f"{k} differs from the shipped latent: the shipped decoder does not fit this run")
        model.set_decoder(shipped.decoder)
        model.save(args[1])
        return print("saved", args[1])
    if cmd == "compose":  # OUT A B ...: one TinyBackend ensemble of single runs, decoded by the shipped decoder
        members = [TinyBackend.load(path) for path in args[1:]]
        for m in members:
            m.set_decoder(None)
        model = TinyBackend.from_members(members)
        model.set_decoder(TinyBackend.load(embedded_checkpoint()).decoder)
        model.save(args[0])
        return print("saved", args[0])
    plain = lambda text: text  # noqa: E731
    if cmd == "ensemble":
        a, b = TinyBackend.load(args[0]), TinyBackend.load(args[1])
        model, rest = Averaged(a, [(plain, a.encode_prompt, a.velocity), (plain, b.encode_prompt, b.velocity)]), args[2:]
    elif cmd == "mirror":
        a = TinyBackend.load(args[0])
        model = Averaged(a, [(plain, a.encode_prompt, a.velocity), mirror_member(a, orthogonal="orth" in args[3:])])
        rest = args[1:3]
    else:
        raise SystemExit(__doc__)
    print(cmd, " ".join(args), shares(model, float(rest[0]), int(rest[1]), test="test" in rest[2:]), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
