"""Run the committed pretraining recipe with a snapshot every 1,000 steps (how the shipped checkpoint and the
training curve of reports/tiny/README.md were made), then measure a snapshot with the report:

    python reports/tiny/pretrain_with_snapshots.py OUT_DIR [STEPS]      # default: the committed recipe's steps
    python -m bench.backends.tiny.report --checkpoint OUT_DIR/snapshots/step-004000 --out /tmp/curve-4000 --guidance 5

The same as ``python reports/tiny/pretrain_variant.py OUT_DIR [steps=STEPS]``, which it calls.
"""
import sys

from pretrain_variant import main  # reports/tiny/, this script's own directory

main(sys.argv[1], [f"steps={int(sys.argv[2])}"] if len(sys.argv) > 2 else [])
