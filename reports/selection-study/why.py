"""The common-direction statistics per run and seed (labels read for evaluation only).

    PYTHONPATH=. python reports/selection-study/why.py RUN_DIR [RUN_DIR ...]

Per seed: |m| (norm of the mean unit corpus feature); Pearson(mean score over queries, alignment to m);
Spearman(votes of the paper's rule, alignment); Spearman(alignment, gradient norm); mean alignment of
plausible / violating clips; the violating share among the 60 clips most aligned with m; within-category
AUC(plausible > violating) of the mean own-category score, plain and with m projected out; the share of
each selected clip's votes that come from other categories' queries; and median grad norm and loss by label.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from bench.world import WorldConfig, build_corpus, build_queries
from curation.influence import cosine_scores, remove_common_component
from curation.select import majority_vote
from _study import auc_within  # noqa: E402


recs = []
for run in map(Path, sys.argv[1:]):
    for sdir in sorted((run / "artifacts").glob("seed-*")):
        seed = int(sdir.name.split("-")[1])
        w = WorldConfig(seed=seed)
        corpus, queries = build_corpus(w, n=600), build_queries(w)
        labels, cats = np.array([s.label for s in corpus]), np.array([s.category for s in corpus])
        qcats = np.array([s.category for s in queries])
        X = np.load(sdir / "corpus-motive" / "features.npy").astype(np.float64)
        ok = np.load(sdir / "corpus-motive" / "status.npy") == 1
        Q = np.load(sdir / "queries-motive" / "features.npy").astype(np.float64)
        qok = np.load(sdir / "queries-motive" / "status.npy") == 1
        rows = pd.read_csv(sdir / "corpus-motive" / "rows.csv").set_index("row").reindex(np.nonzero(ok)[0])
        X, Q, L, C, qc = X[ok], Q[qok], labels[ok], cats[ok], qcats[qok]
        Xu = X / np.linalg.norm(X, axis=1, keepdims=True)
        mu = Xu.mean(0)
        al = Xu @ (mu / np.linalg.norm(mu))
        S = cosine_scores(X, Q).astype(np.float64)
        sel = majority_vote(S, 90.0, count=60)
        top = np.argsort(-al)[:60]
        cut = np.array(sel.params["cutoffs"])
        above = S > cut
        same = C[:, None] == qc[None, :]
        ch = sel.selected
        t, q, _ = remove_common_component(X, Q, "project")
        Sp = cosine_scores(t, q).astype(np.float64)
        recs.append({
            "run": run.name, "seed": seed, "|m|": np.linalg.norm(mu),
            "r(mean score, align)": np.corrcoef(S.mean(1), al)[0, 1],
            "rho(votes, align)": spearmanr(sel.votes, al)[0],
            "rho(align, gradnorm)": spearmanr(al, rows.grad_norm)[0],
            "align plaus": al[L == "plausible"].mean(), "align viol": al[L == "violating"].mean(),
            "viol in top60 align": (L[top] == "violating").mean(),
            "AUC own (plain)": auc_within(S, L, C, qc), "AUC own (m out)": auc_within(Sp, L, C, qc),
            "other-cat vote share (selected)": (above[ch] & ~same[ch]).sum() / above[ch].sum(),
            "gradnorm viol/plaus": rows.grad_norm[L == "violating"].median() / rows.grad_norm[L == "plausible"].median(),
            "loss viol/plaus": rows.loss[L == "violating"].median() / rows.loss[L == "plausible"].median(),
        })
pd.set_option("display.width", 250)
df = pd.DataFrame(recs)
print(df.round(3).T.to_string(header=False))
