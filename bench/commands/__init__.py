"""One module per ``motive-bench`` subcommand (see :mod:`bench.cli` for the contract)."""
