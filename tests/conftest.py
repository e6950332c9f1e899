"""Shared test fixtures. Tests are tiny, seeded, in-process and offline."""

from __future__ import annotations

import os

# Keep tests deterministic and light on this 2-core machine.
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
