"""Markdown table of `curate` runs: Motive and whole-video plausible share (mean, min-max over seeds), violating
kept, per-category spread of Motive's picks, and the verdicts.  python reports/selection-study/table.py RUN ..."""
import json
import sys
from pathlib import Path

import pandas as pd

print("| run | centre | vote | Motive mean (min-max) | violating kept | whole-video mean (min-max) | beats random / magnitude / whole-video | >= 0.95 |")
print("|---|---|---|---|---|---|---|---|")
for run in map(Path, sys.argv[1:]):
    doc = json.loads((run / "curate.json").read_text())
    o, v, c = doc["overall"], doc["verdicts"], doc["config"]
    f = lambda m: f"{o[m]['plausible_share']['mean']:.3f} ({o[m]['plausible_share']['min']:.3f}-{o[m]['plausible_share']['max']:.3f})"  # noqa: E731
    b = " / ".join(f"{v[k]['difference']:+.3f} vs {v[k]['spread']:.3f} {'yes' if v[k]['beats'] else 'no'}"
                   for k in ("vs_random", "vs_motion_magnitude", "vs_whole_video"))
    print(f"| {run.name} | {c.get('centre', 'none')} | {c['vote']} | {f('motive')} | "
          f"{o['motive']['selected_violating']['mean']:.1f} | {f('whole_video')} | {b} | {'yes' if v['meets_target'] else 'no'} |")
