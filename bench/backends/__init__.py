"""Model backends behind one :class:`bench.backends.base.Backend` protocol: ``tiny`` (embedded, CPU)
and ``wan`` (a local diffusers Wan checkpoint)."""
