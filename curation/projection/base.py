"""The :class:`Projector` interface: project a vector, a batch, or a stream of gradient chunks.

Every projector splits the d-dim input into blocks of ``n = spec.block_size`` coordinates (the last one
zero-padded). Blocks form *reduction groups* of ``reduce_blocks = reduce_elems // n`` consecutive blocks
(aligned at multiples of ``reduce_blocks``; ``reduce_elems`` is a class attribute, part of the kind's
meaning). A subclass maps a run of whole groups to one k-dim output per group (:meth:`_project_groups`);
the default sums the per-block outputs of :meth:`_project_blocks` by a pairwise tree within each group.
The base class assembles runs (*steps*) from whatever chunks arrive, and the group outputs are added one
after another in float32. The order depends only on the spec, never on how the input was chunked or
batched; the per-block kernels treat every block and batch row alike. So ``project_stream`` gives
bit-identical results for any chunking, any batch size and any thread count (tested; the dense references
use large matmuls and match to float32 rounding only). The step length, a whole number of reduction
groups, is chosen from the batch size so that one step's working set stays in the L2 cache.
"""

from __future__ import annotations

import abc
from typing import Iterable, Sequence

import torch

from curation.errors import NonFiniteError, ShapeError
from curation.projection.fwht import tree_sum
from curation.projection.spec import ProjectorSpec

#: Default coordinates per reduction group (part of the spec's meaning: changing it changes the float
#: rounding); a kind may set its own ``reduce_elems``.
REDUCE_ELEMS = 1 << 15
#: Target coordinates per step over the whole batch (speed only; measured best at 2^17..2^18 here).
STEP_ELEMS = 1 << 18


class Projector(abc.ABC):
    """A fixed random linear map ``R^d -> R^k`` described by a :class:`ProjectorSpec`."""

    #: The spec kinds a subclass implements; the constructor refuses any other.
    kinds: tuple[str, ...] = ()
    #: Coordinates per reduction group for this kind.
    reduce_elems: int = REDUCE_ELEMS

    def __init__(self, spec: ProjectorSpec):
        if spec.kind not in self.kinds:
            raise ValueError(f"{type(self).__name__} implements kinds {list(self.kinds)}, got {spec.kind!r}")
        self.spec = spec
        self.reduce_blocks = max(1, self.reduce_elems // spec.block_size)
        self._buf: tuple[tuple, torch.Tensor] | None = None  # the step buffer kept between calls

    def step_blocks(self, batch: int) -> int:
        """Blocks per step for a batch of ``batch`` rows: a multiple of ``reduce_blocks``."""
        groups = max(1, STEP_ELEMS // (batch * self.reduce_blocks * self.spec.block_size))
        return self.reduce_blocks * groups

    @property
    def input_dim(self) -> int:
        return self.spec.input_dim

    @property
    def output_dim(self) -> int:
        return self.spec.output_dim

    def _project_blocks(self, xb: torch.Tensor, first: int) -> torch.Tensor:
        """``xb``: float32 ``(B, C, n)``, the blocks ``first ... first + C - 1``. Returns float32
        ``(B, C, k)``, each block's k-dim output (computed the same way whatever ``B`` and ``C`` are).
        A subclass implements this or overrides :meth:`_project_groups`."""
        raise NotImplementedError

    def _project_groups(self, xb: torch.Tensor, first: int) -> torch.Tensor:
        """``xb``: float32 ``(B, C, n)``, the blocks ``first ... first + C - 1``, where ``first`` is a multiple
        of ``reduce_blocks`` and ``C`` is one too except on the last step. Returns float32 ``(B, G, k)``,
        ``G = ceil(C / reduce_blocks)``: the sum of each group's block outputs (a missing block counts as
        zero), computed the same way whatever ``B`` is."""
        rb = self.reduce_blocks
        y = self._project_blocks(xb, first)  # (B, C, k)
        nblocks = y.shape[1]
        ngroups = -(-nblocks // rb)
        if ngroups * rb != nblocks:  # the last step: pad with zero blocks (a zero adds exactly)
            y = torch.cat([y, y.new_zeros(y.shape[0], ngroups * rb - nblocks, y.shape[2])], 1)
        return tree_sum(y.view(y.shape[0], ngroups, rb, y.shape[2]), 2)  # (B, groups, k)

    # ------------------------------------------------------------------ public API
    def project(self, x: torch.Tensor) -> torch.Tensor:
        """Project ``x``: float ``(d,)`` -> float32 ``(k,)``, or ``(B, d)`` -> ``(B, k)`` (unnormalised)."""
        if not isinstance(x, torch.Tensor) or x.dim() not in (1, 2):
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ShapeError(f"project expects a tensor of shape (d,) or (B, d) with d={self.input_dim}, "
                             f"got {got}; flatten the gradient or use project_stream for per-parameter chunks")
        return self.project_stream([x])

    def project_stream(self, chunks: Iterable[torch.Tensor], names: Sequence[str] | None = None) -> torch.Tensor:
        """Project the concatenation along the last dim of ``chunks`` without building it.

        ``chunks``: float tensors ``(n_i,)`` or ``(B, n_i)`` (all the same rank and ``B``; any float dtype,
        converted to float32), e.g. the flattened ``.grad`` of each parameter in a fixed order. ``names``
        optionally labels the chunks in error messages. Returns float32 ``(k,)`` or ``(B, k)``, equal to
        ``project(torch.cat(chunks, -1))``.

        Raises :class:`ShapeError` when the total length is not ``input_dim`` or ranks/batches differ, and
        :class:`NonFiniteError` naming the chunk and position of the first NaN/Inf (never zeroed silently).
        """
        return self._stream(chunks, names, want_norm=False)[0]

    def project_stream_with_norm(self, chunks: Iterable[torch.Tensor],
                                 names: Sequence[str] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`project_stream` plus the input's squared l2 norm, float64 ``()`` or ``(B,)``, taken in the
        same pass (one reduction per step instead of one per chunk; summation order may depend on the
        chunking, unlike the projection itself)."""
        y, sq = self._stream(chunks, names, want_norm=True)
        assert sq is not None
        return y, sq

    @torch.no_grad()
    def _stream(self, chunks: Iterable[torch.Tensor], names: Sequence[str] | None,
                want_norm: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        n, d = self.spec.block_size, self.input_dim
        acc: torch.Tensor | None = None
        buf: torch.Tensor | None = None
        step_len = 0  # coordinates per step (set from the batch size)
        fill = 0  # coordinates of the current step already in buf
        pos = 0  # coordinates consumed so far
        first_block = 0
        batch = None
        squeeze = False
        starts: list[int] = []  # global start of each chunk, for error messages
        pieces: list[torch.Tensor] = []  # the current step's input not yet copied into buf
        sq: torch.Tensor | None = None

        def run(xs: torch.Tensor, length: int) -> None:
            nonlocal acc, first_block, sq
            nblocks = -(-length // n)
            xb = xs[:, : nblocks * n].reshape(xs.shape[0], nblocks, n)  # zero beyond length
            if want_norm:  # float32 norms of blocks, added in float64
                part = torch.linalg.vector_norm(xb, dim=2).double().square().sum(1)
                sq = part if sq is None else sq + part
            parts = self._project_groups(xb, first_block)  # (B, groups, k)
            for j in range(parts.shape[1]):
                acc = parts[:, j] if acc is None else acc + parts[:, j]
            if not bool(torch.isfinite(acc).all()):
                self._raise_nonfinite(xs[:, :length], first_block * n, starts, names)
            first_block += nblocks

        for ci, chunk in enumerate(chunks):
            if not isinstance(chunk, torch.Tensor):
                raise ShapeError(f"chunk {ci} is a {type(chunk).__name__}, expected a torch.Tensor")
            if batch is None:
                if chunk.dim() not in (1, 2):
                    raise ShapeError(f"chunks must be (n_i,) or (B, n_i); chunk 0 has shape {tuple(chunk.shape)}")
                squeeze = chunk.dim() == 1
                batch = 1 if squeeze else chunk.shape[0]
                step_len = self.step_blocks(batch) * n
                buf = self._step_buffer(batch, min(step_len, self.spec.num_blocks * n), chunk.device)
            shape = chunk.shape
            if len(shape) != (1 if squeeze else 2) or (not squeeze and shape[0] != batch):
                raise ShapeError(f"chunk {ci} has shape {tuple(shape)} but chunk 0 set the layout "
                                 f"{'(n_i,)' if squeeze else f'({batch}, n_i)'}; give every chunk the same batch")
            if not chunk.is_floating_point():
                raise ShapeError(f"chunk {ci} has dtype {chunk.dtype}; expected a floating-point tensor")
            t = chunk.view(1, -1) if squeeze and chunk.is_contiguous() else (
                chunk.reshape(1, -1) if squeeze else chunk)
            length = shape[-1]
            starts.append(pos)
            if pos + length > d:
                raise ShapeError(f"the chunks hold more than input_dim={d} coordinates (chunk {ci} ends at "
                                 f"{pos + length}); the projection spec does not match this model's gradient")
            off = 0
            while off < length:
                if fill == 0 and length - off >= step_len:
                    xs = t[:, off : off + step_len]  # a strided view for a batch: the kernels take it as is
                    if xs.dtype != torch.float32:  # (a copy per step here would page-fault 4 bytes/coordinate)
                        xs = xs.to(torch.float32)
                    run(xs, step_len)
                    off += step_len
                    continue
                take = min(step_len - fill, length - off)
                piece = t[:, off : off + take]
                pieces.append(piece if piece.dtype == torch.float32 else piece.to(torch.float32))
                fill += take
                off += take
                if fill == step_len:  # one copy of all pending pieces (small parameters come by the hundred)
                    torch.cat(pieces, dim=1, out=buf)
                    pieces.clear()
                    run(buf, step_len)
                    fill = 0
            pos += length
        if batch is None:
            raise ShapeError(f"no chunks were given; expected tensors totalling input_dim={d}")
        if pos != d:
            raise ShapeError(f"the chunks hold {pos} coordinates, expected input_dim={d}; check the parameter "
                             f"list and order against the one the projection spec was built for")
        if fill:
            torch.cat(pieces, dim=1, out=buf[:, :fill])
            buf[:, fill:] = 0
            run(buf, fill)
        assert acc is not None
        if squeeze:
            return acc[0], None if sq is None else sq[0]
        return acc, sq

    def _step_buffer(self, batch: int, length: int, device: torch.device) -> torch.Tensor:
        """A float32 ``(batch, length)`` buffer for assembling steps, kept for the next call of the same shape
        (every step overwrites what it uses, and the last one zeroes its tail)."""
        key = (batch, length, str(device))
        cached = self._buf
        if cached is None or cached[0] != key:
            cached = (key, torch.zeros(batch, length, dtype=torch.float32, device=device))
            self._buf = cached
        return cached[1]

    # ------------------------------------------------------------------ helpers
    def _raise_nonfinite(self, xg: torch.Tensor, offset: int, starts: list[int], names: Sequence[str] | None) -> None:
        bad = (~torch.isfinite(xg)).nonzero()
        if bad.numel() == 0:
            raise NonFiniteError(
                f"the {self.spec.kind} projection overflowed float32 on finite input near coordinates "
                f"{offset}..{offset + xg.shape[1]} (max |x| = {float(xg.abs().max()):.3g}); rescale the input")
        row, col = (int(v) for v in bad[0])
        j = offset + col
        ci = max(i for i, s in enumerate(starts) if s <= j)
        label = f" {names[ci]!r}" if names is not None and ci < len(names) else ""
        raise NonFiniteError(
            f"projection input holds {float(xg[row, col])} at coordinate {j} (chunk {ci}{label}, element "
            f"{j - starts[ci]}, batch row {row}); non-finite gradients are never zeroed silently: check the "
            f"loss for overflow (e.g. bf16) or skip this clip")


def normalize(y: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """l2-normalise along the last dim: ``(..., k)`` -> ``(..., k)`` float32; an all-zero row stays zero.

    Any positive scalar on the gradient (e.g. the paper's 1/F) cancels here, so it cannot change a cosine.
    """
    y = y.to(torch.float32)
    return y / y.norm(dim=-1, keepdim=True).clamp_min(eps)
