"""Labels, categories and violation variants of each run's Motive picks (3 seeds). python picks.py RUN ..."""
import json
import sys
from collections import Counter
from pathlib import Path

from bench.world import WorldConfig, build_corpus

for run in map(Path, sys.argv[1:]):
    cats, viol, lab = Counter(), Counter(), Counter()
    for sd in sorted(run.glob("seed-*")):
        seed = int(sd.name.split("-")[1])
        specs = {s.clip_id: s for s in build_corpus(WorldConfig(seed=seed), n=600)}
        for cid in json.loads((sd / "selections" / "motive" / "selection.json").read_text())["selected_ids"]:
            s = specs[cid]
            cats[s.category] += 1
            lab[s.label] += 1
            if s.label == "violating":
                viol[f"{s.category}/{s.params['variant']}"] += 1
    print(f"{run.name}: labels {dict(lab)}; picks per category {dict(sorted(cats.items()))}; "
          f"violating kept {dict(viol.most_common())}")
