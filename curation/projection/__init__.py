"""Random projections of gradients to k dimensions (Fastfood JL by default) behind one interface.

``make_projector(ProjectorSpec.create("fastfood", d, 512, seed))`` gives a :class:`Projector` whose
``project`` / ``project_stream`` map a d-vector (or a stream of per-parameter chunks) to k floats.
Modules: :mod:`spec` (the serialisable spec), :mod:`base` (the interface and chunk streaming),
:mod:`fastfood`, :mod:`dense` (Gaussian/Rademacher references), :mod:`sketch` (count-sketch),
:mod:`srht` (subsampled randomised Hadamard),
:mod:`fwht` (Walsh-Hadamard transform), :mod:`hashrng` (counter-based randomness).
"""

from __future__ import annotations

from curation.projection.base import Projector, normalize
from curation.projection.dense import DenseProjector
from curation.projection.fastfood import FastfoodProjector
from curation.projection.sketch import CountSketchProjector
from curation.projection.srht import SRHTProjector
from curation.projection.spec import KINDS, SPEC_VERSION, ProjectorSpec, default_block_size

__all__ = [
    "KINDS", "SPEC_VERSION", "ProjectorSpec", "Projector", "FastfoodProjector", "DenseProjector",
    "CountSketchProjector", "SRHTProjector", "make_projector", "normalize", "default_block_size",
]


def make_projector(spec: ProjectorSpec, **options) -> Projector:
    """The projector for ``spec.kind``; ``options`` go to its constructor (e.g. Fastfood ``cache_bytes``)."""
    if spec.kind == "fastfood":
        return FastfoodProjector(spec, **options)
    if spec.kind in ("dense_gaussian", "dense_rademacher"):
        return DenseProjector(spec, **options)
    if spec.kind == "countsketch":
        return CountSketchProjector(spec, **options)
    if spec.kind == "srht":
        return SRHTProjector(spec, **options)
    raise ValueError(f"no projector for kind {spec.kind!r}")
