"""Known-answer tests of curation.projection: explicit matrices, invariances, JL statistics, bad input."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from curation.errors import NonFiniteError, ShapeError
from curation.projection import ProjectorSpec, make_projector, normalize
from curation.projection import hashrng
from curation.projection.fwht import fwht, hadamard_kron

KINDS = ["fastfood", "dense_gaussian", "dense_rademacher", "countsketch", "srht"]


def _smooth(d: int, freq: float = 0.01) -> torch.Tensor:
    """A deterministic, RNG-free test vector."""
    return torch.cos(freq * torch.arange(d, dtype=torch.float64)).float()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("d,n,k", [(64, 64, 16), (100, 64, 16), (1000, 128, 100), (4096 + 17, 256, 64)])
def test_output_equals_explicit_matrix_fp64(kind, d, n, k):
    spec = ProjectorSpec.create(kind, d, k, seed=3, block_size=n)
    proj = make_projector(spec)
    x = torch.randn(3, d, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    ref = x.numpy() @ proj.explicit_matrix().T
    out = proj.project(x).double().numpy()
    rel = np.linalg.norm(out - ref, axis=1) / np.linalg.norm(ref, axis=1)
    assert out.shape == (3, k) and rel.max() <= 1e-6


def test_fastfood_explicit_matrix_has_gaussian_like_rows():
    spec = ProjectorSpec.create("fastfood", 256, 64, seed=0, block_size=256)
    m = make_projector(spec).explicit_matrix() * np.sqrt(64)  # rows ~ chi(256) lengths
    lengths = np.linalg.norm(m, axis=1)
    assert abs(lengths.mean() - np.sqrt(256)) < 0.5 and lengths.std() < 1.5


def test_hadamard_transforms_match_scipy():
    from scipy.linalg import hadamard

    for n in (1, 2, 64, 128, 1024, 8192):
        x = torch.randn(2, n, dtype=torch.float64, generator=torch.Generator().manual_seed(n))
        ref = fwht(x)
        if n <= 1024:
            assert torch.allclose(ref, x @ torch.from_numpy(hadamard(n).astype(np.float64)), atol=1e-9)
        out = hadamard_kron(x.float()).double()
        assert torch.allclose(out, ref, rtol=1e-5, atol=1e-4 * np.sqrt(n))


@pytest.mark.parametrize("kind", KINDS)
def test_linearity(kind):
    d = 3000
    proj = make_projector(ProjectorSpec.create(kind, d, 32, seed=5, block_size=512))
    g = torch.Generator().manual_seed(2)
    x, y = torch.randn(d, generator=g), torch.randn(d, generator=g)
    lhs = proj.project(2.5 * x - 0.5 * y)
    rhs = 2.5 * proj.project(x) - 0.5 * proj.project(y)
    assert torch.allclose(lhs, rhs, rtol=1e-4, atol=1e-4 * float(rhs.abs().max()))


@pytest.mark.parametrize("kind", ["fastfood", "countsketch", "srht"])
def test_batch_chunking_and_thread_invariance_are_bitwise(kind):
    d = 9 * (1 << 15) + 123  # several reduction groups and steps, plus a partial block
    if kind == "fastfood":  # Fastfood's groups are 2**20 coordinates: span two groups
        d += 1 << 20
    proj = make_projector(ProjectorSpec.create(kind, d, 64, seed=11, block_size=1024))
    x = torch.randn(3, d, generator=torch.Generator().manual_seed(0))
    full = proj.project(x)
    for i in range(3):
        assert torch.equal(proj.project(x[i]), full[i])
    assert torch.equal(proj.project(x[1:]), full[1:])
    rng = np.random.default_rng(0)
    for _ in range(3):
        cuts = np.sort(rng.choice(np.arange(1, d), size=rng.integers(1, 40), replace=False))
        chunks = torch.tensor_split(x, torch.from_numpy(cuts), dim=1)
        assert torch.equal(proj.project_stream(chunks), full)
    one = torch.tensor_split(x[0], [1, 2, 5, 70000, 70001], dim=0)
    assert torch.equal(proj.project_stream(list(one)), full[0])
    before = torch.get_num_threads()
    try:
        outs = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            outs.append(make_projector(proj.spec).project(x))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(outs[0], outs[1]) and torch.equal(outs[0], full)


def test_cache_does_not_change_output_and_other_dtypes_are_accepted():
    spec = ProjectorSpec.create("fastfood", 70000, 128, seed=1)
    x = _smooth(70000)
    cached = make_projector(spec).project(x)
    uncached = make_projector(spec, cache_bytes=0).project(x)
    assert torch.equal(cached, uncached)
    assert torch.equal(make_projector(spec).project(x.double()), cached)  # float64 is rounded to float32 first
    assert make_projector(spec).project(x.bfloat16()).dtype == torch.float32


def test_squared_norm_is_unbiased_and_variance_in_the_sqrt_2_over_k_band():
    d, k, seeds = 2500, 64, 100
    x = _smooth(d, 0.003) + 0.3 * torch.randn(d, generator=torch.Generator().manual_seed(9))
    x[7] = 40.0  # one spike, the case a bad JL handles worst
    ratios = np.array([
        float(make_projector(ProjectorSpec.create("fastfood", d, k, seed=s, block_size=1024)).project(x).norm() ** 2)
        for s in range(seeds)
    ]) / float(x.norm() ** 2)
    band = np.sqrt(2.0 / k)
    assert abs(ratios.mean() - 1.0) < 3.0 * band / np.sqrt(seeds)
    assert 0.7 * band < ratios.std() < 1.2 * band


@pytest.mark.parametrize("d,n,bound", [
    (8192, 2048, 1.1),  # k/n = 1/32, the default's ratio (k = 512, n = 16384): the bound
    (2048, 512, 1.2),  # k/n = 1/8: the signed sum over a group adds about k/n to the variance (measured 1.10x)
])
def test_inner_product_error_no_worse_than_dense_gaussian(d, n, bound):
    k, seeds = 64, 60
    g = torch.Generator().manual_seed(4)
    pairs = []
    for rho in (0.95, 0.9, 0.7, 0.5, 0.3, 0.0):  # correlated pairs
        x = torch.randn(d, generator=g)
        pairs.append((x, rho * x + (1 - rho**2) ** 0.5 * torch.randn(d, generator=g)))
    for width in (5, 40):  # sparse, spiky pairs inside one block
        x = torch.zeros(d)
        x[:width] = torch.randn(width, generator=g)
        pairs.append((x, x + 0.3 * torch.roll(x, 1)))
    xs = torch.stack([p for pair in pairs for p in pair])
    true = torch.stack([x @ y / (x.norm() * y.norm()) for x, y in pairs]).numpy()
    norms = torch.stack([x.norm() * y.norm() for x, y in pairs]).numpy()

    def rms_error(kind):
        errs = []
        for s in range(seeds):
            out = make_projector(ProjectorSpec.create(kind, d, k, seed=s, block_size=n)).project(xs)
            est = (out[0::2] * out[1::2]).sum(1).numpy() / norms
            errs.append(est - true)
        return float(np.sqrt(np.mean(np.square(errs))))

    ff, dense = rms_error("fastfood"), rms_error("dense_gaussian")
    print(f"rms inner-product error: fastfood {ff:.4f}, dense Gaussian {dense:.4f}")
    assert ff <= bound * dense, (ff, dense)


def test_tiny_and_huge_entries_give_finite_nonzero_output():
    d = 5000
    proj = make_projector(ProjectorSpec.create("fastfood", d, 64, seed=2, block_size=1024))
    x = _smooth(d)
    for scale in (1e-9, 1e4):
        y = proj.project(x * scale)
        assert torch.isfinite(y).all() and (y != 0).any()
        assert torch.allclose(y, proj.project(x) * scale, rtol=1e-5, atol=1e-6 * scale * float(y.abs().max()) / scale)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_nonfinite_input_raises_named_error_with_location(bad):
    d = 10000
    proj = make_projector(ProjectorSpec.create("fastfood", d, 32, seed=0, block_size=1024))
    chunks = [torch.ones(4000), torch.ones(6000)]
    chunks[1][1234] = bad
    with pytest.raises(NonFiniteError) as info:
        proj.project_stream(chunks, names=["layer0.weight", "layer1.weight"])
    msg = str(info.value)
    assert "5234" in msg and "chunk 1" in msg and "layer1.weight" in msg and "element 1234" in msg


def test_shape_errors_name_the_problem():
    proj = make_projector(ProjectorSpec.create("fastfood", 1000, 16, seed=0))
    with pytest.raises(ShapeError, match="999"):
        proj.project(torch.ones(999))
    with pytest.raises(ShapeError, match="more than input_dim"):
        proj.project_stream([torch.ones(600), torch.ones(600)])
    with pytest.raises(ShapeError):
        proj.project(torch.ones(2, 2, 250))
    with pytest.raises(ShapeError):
        proj.project_stream([torch.ones(2, 500), torch.ones(3, 500)])
    with pytest.raises(ShapeError, match="exceeds input_dim"):
        ProjectorSpec.create("fastfood", 100, 512)
    with pytest.raises(ShapeError, match="power of two"):
        ProjectorSpec("fastfood", 1000, 64, 0, block_size=1000)
    with pytest.raises(ShapeError, match="2\\*\\*37"):
        ProjectorSpec.create("fastfood", (1 << 37) + 1, 512)
    with pytest.raises(ValueError, match="unknown projection kind"):
        ProjectorSpec.create("gaussian", 100, 10)


def test_spec_round_trip_and_version_guard():
    spec = ProjectorSpec.create("fastfood", 123456, 512, seed=42)
    assert spec.block_size == 16384 and spec.num_blocks == 8
    assert ProjectorSpec.create("srht", 123456, 512, seed=42).block_size == 4096
    assert ProjectorSpec.from_dict(spec.to_dict()) == spec
    with pytest.raises(ValueError, match="unknown projection spec fields"):
        ProjectorSpec.from_dict({**spec.to_dict(), "extra": 1})
    with pytest.raises(ValueError, match="version"):
        ProjectorSpec.from_dict({**spec.to_dict(), "version": 99})


def test_golden_hash_of_fixed_seed_output():
    """If this fails, the projection changed: bump SPEC_VERSION (stores built before must be rebuilt)."""
    spec = ProjectorSpec.create("fastfood", 5000, 64, seed=7, block_size=1024)
    y = make_projector(spec).project(_smooth(5000))
    assert hashlib.sha256(y.numpy().tobytes()).hexdigest() == (
        "02651ee9487bece68b0e7d18459be4b6d4501a526ab35f102734fc9bf9529d9e")
    spec = ProjectorSpec.create("fastfood", 200000, 512, seed=1)
    y = make_projector(spec).project(_smooth(200000, 0.001))
    assert hashlib.sha256(y.numpy().tobytes()).hexdigest() == (
        "3071c57ff463e578aabda231b3f36bebef61dff3a5c72a5f704c8cf2442188d2")
    d = 3 * (1 << 20) + 17  # several groups of 2**20 coordinates and a partial one
    y = make_projector(ProjectorSpec.create("fastfood", d, 512, seed=2)).project(_smooth(d, 0.0007))
    assert hashlib.sha256(y.numpy().tobytes()).hexdigest() == (
        "8b0e859d4fa8c59d8039325e0ad1cc581928829467c4d66c47136c18c0ddd29f")


def test_normalize_and_scale_invariance_of_direction():
    y = torch.tensor([[3.0, 4.0], [0.0, 0.0]])
    out = normalize(y)
    assert torch.allclose(out[0], torch.tensor([0.6, 0.8])) and torch.equal(out[1], torch.zeros(2))
    proj = make_projector(ProjectorSpec.create("fastfood", 3000, 32, seed=0, block_size=512))
    x = _smooth(3000)
    assert torch.allclose(normalize(proj.project(x / 17.0)), normalize(proj.project(x)), atol=1e-6)


def test_hash_randomness_is_well_formed():
    keys = hashrng.block_keys(0, "fastfood", range(8), "P")
    perms = hashrng.permutations(keys, 10)
    assert all(np.array_equal(np.sort(p), np.arange(1024)) for p in perms)
    assert not np.array_equal(perms[0], perms[1])
    g = hashrng.normals(hashrng.block_keys(0, "fastfood", range(64), "G"), 4096).astype(np.float64)
    assert abs(g.mean()) < 0.01 and abs(g.var() - 1.0) < 0.015
    s = hashrng.signs(keys, 4096)
    assert set(np.unique(s)) == {-1.0, 1.0} and abs(s.mean()) < 0.05


def test_fastfood_columns_across_groups_match_the_formula():
    """Coordinates in different groups (2**20 each) use their group's Pi, G, S and their own block's signs."""
    from scipy.linalg import hadamard

    from curation.projection.fastfood import GROUP_ELEMS, block_signs, group_parameters

    n, k = 256, 32
    d = 2 * GROUP_ELEMS + 1000
    spec = ProjectorSpec.create("fastfood", d, k, seed=5, block_size=n)
    proj = make_projector(spec)
    rb = GROUP_ELEMS // n
    coords = [0, 7, n + 3, GROUP_ELEMS - 1, GROUP_ELEMS + 5, 2 * GROUP_ELEMS + 999]
    x = torch.zeros(len(coords), d)
    x[torch.arange(len(coords)), torch.tensor(coords)] = 1.0
    out = proj.project(x).double().numpy()
    H = hadamard(n).astype(np.float64)
    p = group_parameters(spec, range(3))
    for row, j in enumerate(coords):
        b, local = divmod(j, n)
        q = b // rb
        beta = float(block_signs(spec, b, 1)[0, local])
        col = H[:k] @ (p["g"][q].astype(np.float64) * H[p["perm"][q], local]) * p["scale"][q] * beta
        np.testing.assert_allclose(out[row], col, rtol=1e-5, atol=1e-6 * np.abs(col).max())
    # the signs differ from block to block within a group; the shared parts differ between groups
    s = block_signs(spec, 0, 3)
    assert not torch.equal(s[0], s[1]) and not torch.equal(s[1], s[2])
    assert not np.array_equal(p["perm"][0], p["perm"][1]) and not np.array_equal(p["g"][0], p["g"][2])


def test_sign_words_unpack_least_significant_bit_first():
    words = hashrng.packed_sign_words(123, 5, 3)
    s = hashrng.signs_from_words(words)
    assert s.shape == (96,) and s.dtype == torch.float32
    for w in range(3):
        for i in range(32):
            assert (s[32 * w + i] < 0) == bool((int(words[w]) >> i) & 1)
    assert np.array_equal(hashrng.packed_sign_words(123, 6, 1), words[1:2])  # a counter, not a stream


def test_stream_with_norm_gives_the_same_projection_and_the_squared_norm():
    d = (1 << 20) + 3001
    proj = make_projector(ProjectorSpec.create("fastfood", d, 64, seed=3))
    x = torch.randn(2, d, generator=torch.Generator().manual_seed(8))
    chunks = torch.tensor_split(x, [5, 4000, 600000], dim=1)
    y, sq = proj.project_stream_with_norm(chunks)
    assert torch.equal(y, proj.project(x)) and sq.dtype == torch.float64 and sq.shape == (2,)
    np.testing.assert_allclose(sq.numpy(), (x.double() ** 2).sum(1).numpy(), rtol=1e-6)
    y1, sq1 = proj.project_stream_with_norm([x[0]])
    assert torch.equal(y1, y[0]) and sq1.shape == ()
