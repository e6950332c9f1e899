"""The masked rectified-flow loss: mask of ones is the ordinary loss; the mask only weights it."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from _toy_attributable import ToyModel
from curation.errors import ShapeError
from curation.objective import ObjectiveConfig, masked_flow_loss, shared_noise
from curation.protocols import AttributableModel


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def setup():
    model = ToyModel()
    gen = torch.Generator().manual_seed(0)
    video = torch.rand((2, 3, 9, 16, 16), generator=gen) * 2 - 1
    h = model.encode_video(video)
    emb = model.encode_prompt(["a ball bounces", "a cube slides"])
    eps = shared_noise(tuple(h.shape[1:]), noise_seed=7)
    return model, h, emb, eps


def test_toy_model_is_attributable(setup):
    assert isinstance(setup[0], AttributableModel)


def test_ones_mask_equals_ordinary_loss(setup):
    model, h, emb, eps = setup
    sigma = 0.751
    z = (1 - sigma) * h + sigma * eps
    v = model.velocity(z, torch.full((2,), 751.0), emb)
    ordinary = F.mse_loss(v, eps - h)
    ones = torch.ones(h.shape[2:])
    assert masked_flow_loss(model, h, emb, eps, ones).item() == pytest.approx(ordinary.item(), rel=1e-6)
    assert masked_flow_loss(model, h, emb, eps, None).item() == pytest.approx(ordinary.item(), rel=1e-6)


def test_mask_weights_locations_of_channel_mean_error(setup):
    model, h, emb, eps = setup
    z = 0.249 * h + 0.751 * eps
    err = (model.velocity(z, torch.full((2,), 751.0), emb) - (eps - h)).pow(2).mean(1)  # (B, F', H', W')
    mask = torch.zeros(h.shape[2:])
    mask[1, 2, 3] = 1.0
    expected = err[:, 1, 2, 3].mean() / mask.numel()
    assert masked_flow_loss(model, h, emb, eps, mask).item() == pytest.approx(expected.item(), rel=1e-5)
    assert masked_flow_loss(model, h, emb, eps, torch.zeros_like(mask)).item() == 0.0


def test_shared_noise_is_named_and_reproducible():
    a, b = shared_noise((3, 2, 4, 4), 7), shared_noise((3, 2, 4, 4), 7)
    assert torch.equal(a, b) and not torch.equal(a, shared_noise((3, 2, 4, 4), 8))
    cfg = ObjectiveConfig(noise_seed=7)
    assert cfg.sigma == pytest.approx(0.751) and cfg.to_dict()["eps_seed"] > 0


def test_shape_errors_say_what_was_expected(setup):
    model, h, emb, eps = setup
    with pytest.raises(ShapeError, match="standard latent shape"):
        masked_flow_loss(model, h, emb, eps[:, :1])
    with pytest.raises(ShapeError, match="latent_geometry"):
        masked_flow_loss(model, h, emb, eps, torch.ones(2, 2, 2))
