"""The Motive core: video standardisation, motion estimation, motion masks, the masked
rectified-flow loss, per-clip gradients, Fastfood JL projection, the feature store, influence
scores, selection and baselines.

This package imports neither ``bench`` nor ``evaluators``. It sees a model only through the
:class:`curation.protocols.AttributableModel` protocol, which the backends satisfy structurally.
"""
