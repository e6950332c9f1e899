"""Analyse reports/selection-study/eps_common.py's features (seed 0): the common direction under each noise setting.

    PYTHONPATH=. python reports/selection-study/eps_analyse.py reports/selection-study/base
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.world import WorldConfig, build_corpus, build_queries
from curation.influence import cosine_scores
from curation.select import majority_vote

sys.path.insert(0, str(Path(__file__).parent))
from variants import within_category  # noqa: E402

run = Path(sys.argv[1])
d = run / "artifacts" / "eps-study"
wcfg = WorldConfig(seed=0)
corpus, queries = build_corpus(wcfg, n=600), build_queries(wcfg)
labels = np.array([s.label for s in corpus])
cats = np.array([s.category for s in corpus])
qcats_all = np.array([s.category for s in queries])
mus = {}
recs = []
for setting in ("shared0", "shared1", "perclip"):
    if not (d / f"{setting}-queries.npy").exists():
        continue
    X, Q = np.load(d / f"{setting}-corpus.npy").astype(np.float64), np.load(d / f"{setting}-queries.npy").astype(np.float64)
    ok, qok = ~np.isnan(X).any(1), ~np.isnan(Q).any(1)
    X, Q, L, C, qc = X[ok], Q[qok], labels[ok], cats[ok], qcats_all[qok]
    Xu, Qu = X / np.linalg.norm(X, axis=1, keepdims=True), Q / np.linalg.norm(Q, axis=1, keepdims=True)
    mu = Xu.mean(0)
    mus[setting] = mu / np.linalg.norm(mu)
    m_hat = mus[setting]
    S = cosine_scores(X, Q).astype(np.float64)
    Sp = cosine_scores(Xu - np.outer(Xu @ m_hat, m_hat), Qu - np.outer(Qu @ m_hat, m_hat)).astype(np.float64)
    share = lambda sel: float((L[sel] == "plausible").mean())  # noqa: E731
    al = Xu @ m_hat
    recs.append({"setting": setting, "|mean unit|": np.linalg.norm(mu), "mean corpus-query cos": S.mean(),
                 "align plaus": al[L == "plausible"].mean(), "align viol": al[L == "violating"].mean(),
                 "align queries": (Qu @ m_hat).mean(),
                 "majority": share(majority_vote(S, 90, count=60).selected),
                 "within-cat": share(within_category(S, C, qc, 60)),
                 "proj-out majority": share(majority_vote(Sp, 90, count=60).selected),
                 "proj-out within-cat": share(within_category(Sp, C, qc, 60))})
pd.set_option("display.width", 200)
print(pd.DataFrame(recs).round(3).to_string(index=False))
names = list(mus)
print("cosine between the mean directions:")
for i in range(len(names)):
    for j in range(i + 1, len(names)):
        print(f"  {names[i]} vs {names[j]}: {float(mus[names[i]] @ mus[names[j]]):.3f}")
