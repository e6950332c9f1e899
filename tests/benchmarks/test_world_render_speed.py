"""Render speed of the synthetic world (pytest-benchmark; run with ``pytest --benchmark-only -m 'not gpu'``).

Target of issue 3: 2,000 corpus clips (17 x 32 x 32) in <= 60 s on the 2-core CPU, i.e. <= 30 ms per
clip. The benchmark renders a balanced 100-clip slice of the default corpus; multiply its mean by 20.
"""

from __future__ import annotations

from bench.world import WorldConfig, build_corpus, render_many


def test_render_100_corpus_clips(benchmark):
    config = WorldConfig()
    specs = build_corpus(config, n=100)
    clips = benchmark.pedantic(render_many, args=(specs, config), rounds=3, iterations=1)
    assert clips.shape == (100, 17, 32, 32, 3)
