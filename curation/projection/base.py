"""The :class:`Projector` interface: project a vector, a batch, or a stream of gradient chunks.

Every projector splits the d-dim input into blocks of ``n = spec.block_size`` coordinates (the last one
zero-padded), and blocks into *groups* of ``group_blocks`` consecutive blocks aligned at multiples of
``group_blocks``. A subclass maps one group to its summed k-dim output; the base class assembles groups
from whatever chunks arrive and adds the group outputs in order in float32. Because group boundaries
depend only on the spec (never on how the input was chunked or batched), and the kernels are elementwise,
``project_stream`` gives bit-identical results for any chunking, any batch size and any thread count
(the dense references use matmuls and match to float32 rounding only).
"""

from __future__ import annotations

import abc
from typing import Iterable, Sequence

import torch

from curation.errors import NonFiniteError, ShapeError
from curation.projection.spec import ProjectorSpec

#: Input coordinates (per batch row) processed together; groups have ``max(1, GROUP_ELEMS // n)`` blocks.
GROUP_ELEMS = 1 << 16


class Projector(abc.ABC):
    """A fixed random linear map ``R^d -> R^k`` described by a :class:`ProjectorSpec`."""

    def __init__(self, spec: ProjectorSpec):
        self.spec = spec
        self.group_blocks = max(1, GROUP_ELEMS // spec.block_size)

    @property
    def input_dim(self) -> int:
        return self.spec.input_dim

    @property
    def output_dim(self) -> int:
        return self.spec.output_dim

    @abc.abstractmethod
    def _project_group(self, xg: torch.Tensor, group: int) -> torch.Tensor:
        """``xg``: float32 ``(B, G, n)``, the blocks ``group*group_blocks ...`` (``G`` may be short for the
        last group). Returns float32 ``(B, k)``, the sum of the blocks' outputs."""

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
        n, gb, d = self.spec.block_size, self.group_blocks, self.input_dim
        group_len = n * gb
        acc: torch.Tensor | None = None
        buf: torch.Tensor | None = None
        fill = 0  # coordinates of the current group already in buf
        pos = 0  # coordinates consumed so far
        group = 0
        batch = None
        squeeze = False
        starts: list[int] = []  # global start of each chunk, for error messages

        def run(xg_flat: torch.Tensor, length: int) -> None:
            nonlocal acc, group
            nblocks = -(-length // n)
            xg = xg_flat[:, : nblocks * n].reshape(xg_flat.shape[0], nblocks, n)
            out = self._project_group(xg, group)
            if not bool(torch.isfinite(out).all()):
                self._raise_nonfinite(xg_flat[:, :length], group * group_len, starts, names)
            acc = out if acc is None else acc + out
            group += 1

        for ci, chunk in enumerate(chunks):
            if not isinstance(chunk, torch.Tensor):
                raise ShapeError(f"chunk {ci} is a {type(chunk).__name__}, expected a torch.Tensor")
            if batch is None:
                if chunk.dim() not in (1, 2):
                    raise ShapeError(f"chunks must be (n_i,) or (B, n_i); chunk 0 has shape {tuple(chunk.shape)}")
                squeeze = chunk.dim() == 1
                batch = 1 if squeeze else chunk.shape[0]
                buf = torch.zeros(batch, min(group_len, self.spec.num_blocks * n), dtype=torch.float32,
                                  device=chunk.device)
            t = chunk.reshape(1, -1) if (squeeze and chunk.dim() == 1) else chunk
            if t.dim() != 2 or t.shape[0] != batch or (squeeze and chunk.dim() != 1):
                raise ShapeError(f"chunk {ci} has shape {tuple(chunk.shape)} but chunk 0 set the layout "
                                 f"{'(n_i,)' if squeeze else f'({batch}, n_i)'}; give every chunk the same batch")
            if not t.is_floating_point():
                raise ShapeError(f"chunk {ci} has dtype {t.dtype}; expected a floating-point tensor")
            length = t.shape[1]
            starts.append(pos)
            if pos + length > d:
                raise ShapeError(f"the chunks hold more than input_dim={d} coordinates (chunk {ci} ends at "
                                 f"{pos + length}); the projection spec does not match this model's gradient")
            off = 0
            while off < length:
                if fill == 0 and length - off >= group_len:
                    xg = t[:, off : off + group_len]
                    if xg.dtype != torch.float32 or not xg.is_contiguous():
                        xg = xg.to(torch.float32).contiguous()
                    run(xg, group_len)
                    off += group_len
                    continue
                take = min(group_len - fill, length - off)
                buf[:, fill : fill + take] = t[:, off : off + take]
                fill += take
                off += take
                if fill == group_len:
                    run(buf, group_len)
                    fill = 0
            pos += length
        if batch is None:
            raise ShapeError(f"no chunks were given; expected tensors totalling input_dim={d}")
        if pos != d:
            raise ShapeError(f"the chunks hold {pos} coordinates, expected input_dim={d}; check the parameter "
                             f"list and order against the one the projection spec was built for")
        if fill:
            buf[:, fill:] = 0
            run(buf, fill)
        assert acc is not None
        return acc[0] if squeeze else acc

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
