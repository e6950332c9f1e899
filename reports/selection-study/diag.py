"""Selection diagnostics on one seed of a finished `curate` run (reads features from <run>/artifacts).

Labels are read here (this is an evaluation script, not curation code).

    PYTHONPATH=. python reports/selection-study/diag.py reports/selection-study/base-s0 0
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.world import WorldConfig, build_corpus, build_queries
from curation.influence import cosine_scores
from curation.select import majority_vote

pd.set_option("display.width", 200)
pd.set_option("display.max_columns", 30)

run, seed = Path(sys.argv[1]), int(sys.argv[2])
kind = sys.argv[3] if len(sys.argv) > 3 else "motive"
adir = run / "artifacts" / f"seed-{seed}"
wcfg = WorldConfig(seed=seed)
corpus, queries = build_corpus(wcfg, n=600), build_queries(wcfg)
labels = np.array([s.label for s in corpus])
cats = np.array([s.category for s in corpus])
variants = np.array([s.params.get("variant", "") for s in corpus])
qcats = np.array([s.category for s in queries])


def load(part):
    d = adir / f"{part}-{kind}"
    f = np.load(d / "features.npy", mmap_mode="r")
    st = np.load(d / "status.npy")
    rows = pd.read_csv(d / "rows.csv")
    return np.array(f, dtype=np.float64), st == 1, rows


X, valid, rows = load("corpus")
Q, qvalid, qrows = load("queries")
Q, qrows = Q[qvalid], qrows[qvalid]
qcats = qcats[qvalid]
idx = np.nonzero(valid)[0]
S = cosine_scores(X[idx], Q).astype(np.float64)  # (n_valid, 50)
L, C, V = labels[idx], cats[idx], variants[idx]
print(f"valid clips {len(idx)} / 600; by label", pd.Series(L).value_counts().to_dict())

# 1. gradient norms and losses by label
rows = rows.set_index("row") if "row" in rows.columns else rows
print("\n== rows.csv columns", list(rows.columns))
gn = rows.reindex(idx)
df = pd.DataFrame({"label": L, "cat": C, "grad_norm": gn["grad_norm"].to_numpy(), "loss": gn["loss"].to_numpy(),
                   "coverage": gn["mask_coverage"].to_numpy(), "proj_norm": np.linalg.norm(X[idx], axis=1)})
print("\n== grad norm / loss / mask coverage by label (median)")
print(df.groupby("label")[["grad_norm", "loss", "coverage", "proj_norm"]].median().round(4))
print("\n== grad norm by category x label (median)")
print(df.pivot_table(index="cat", columns="label", values="grad_norm", aggfunc="median").round(3))
print("query grad norm median", round(float(qrows["grad_norm"].median()), 4), "loss", round(float(qrows["loss"].median()), 4))

# 2. mean cosine by (query cat == clip cat?) x label, and full table
same = C[:, None] == qcats[None, :]
print("\n== mean cosine: own-category queries vs other-category queries, by clip label")
for lab in ("plausible", "violating"):
    m = L == lab
    print(f"  {lab:10s} own {S[m][same[m]].mean():.4f}  other {S[m][~same[m]].mean():.4f}")
tab = []
for qc in sorted(set(qcats)):
    for cc in sorted(set(C)):
        for lab in ("plausible", "violating"):
            m = (C == cc) & (L == lab)
            tab.append({"qcat": qc, "ccat": cc, "label": lab, "cos": S[m][:, qcats == qc].mean()})
tab = pd.DataFrame(tab)
diag = tab[tab.qcat == tab.ccat].pivot(index="ccat", columns="label", values="cos")
diag["other_q_plaus"] = [tab[(tab.ccat == c) & (tab.qcat != c) & (tab.label == "plausible")].cos.mean() for c in diag.index]
diag["other_q_viol"] = [tab[(tab.ccat == c) & (tab.qcat != c) & (tab.label == "violating")].cos.mean() for c in diag.index]
print("\n== mean cosine to own-category queries (plausible / violating clips) and to other-category queries")
print(diag.round(4))
# AUC plausible vs violating per own-category query block
from scipy.stats import mannwhitneyu
print("\n== within category, AUC(plausible > violating) of the mean own-category score; of the mean all-query score")
aucs = []
for c in sorted(set(C)):
    m = C == c
    own = S[m][:, qcats == c].mean(1)
    allq = S[m].mean(1)
    p, v = L[m] == "plausible", L[m] == "violating"
    a1 = mannwhitneyu(own[p], own[v]).statistic / (p.sum() * v.sum())
    a2 = mannwhitneyu(allq[p], allq[v]).statistic / (p.sum() * v.sum())
    aucs.append({"cat": c, "auc_own": a1, "auc_all": a2, "n_p": int(p.sum()), "n_v": int(v.sum())})
print(pd.DataFrame(aucs).round(3).to_string(index=False))

# 3. the baseline selection: who gets in, and who votes
sel = majority_vote(S, 90.0, count=60)
chosen = sel.selected
votes = sel.votes
cut = np.array(sel.params["cutoffs"])
above = S > cut
print("\n== selected (baseline majority vote) by category x label")
print(pd.crosstab(C[chosen], L[chosen], margins=True))
print("violating variants selected:", pd.Series(V[chosen][L[chosen] == "violating"]).value_counts().to_dict())
print("violating variants in pool:", pd.Series(V[L == "violating"]).value_counts().to_dict())
print("\nvotes of selected clips: min", votes[chosen].min(), "max", votes[chosen].max())
print("\n== where do the votes of the selected clips come from (mean over selected clips of that label)")
for lab in ("plausible", "violating"):
    m = chosen[L[chosen] == lab]
    if len(m):
        own = (above[m] & same[m]).sum(1)
        oth = (above[m] & ~same[m]).sum(1)
        print(f"  {lab:10s} n={len(m)}  own-category votes {own.mean():.2f} (of 5)  other-category votes {oth.mean():.2f} (of 45)")
print("\n== votes a clip gets from each query category (rows: clip category; mean over all clips of that cat), all labels")
vt = pd.DataFrame(above.astype(float), columns=qcats).groupby(C).mean().T.groupby(level=0).sum().T
print(vt.round(2))
print("\n== share of each query's above-cutoff clips that are (own category, plausible)")
own_share = [(above[:, j] & (C == qcats[j]) & (L == "plausible")).sum() / above[:, j].sum() for j in range(len(qcats))]
print(pd.Series(own_share, index=qcats).groupby(level=0).mean().round(3).to_dict())

# 4. the "common component": how much of the score is explained by a shared direction
Xu = X[idx] / np.linalg.norm(X[idx], axis=1, keepdims=True)
Qu = Q / np.linalg.norm(Q, axis=1, keepdims=True)
mu = Xu.mean(0)
print("\n== common component: |mean unit corpus feature| =", round(float(np.linalg.norm(mu)), 4),
      " mean pairwise corpus cosine", round(float((Xu @ Xu.T).mean()), 4),
      " mean corpus-query cosine", round(float(S.mean()), 4), " mean query-query cosine", round(float((Qu @ Qu.T).mean()), 4))
cm = Xu @ (mu / np.linalg.norm(mu))
print("cosine of each clip to the corpus mean direction, by label (mean):",
      pd.Series(cm).groupby(L).mean().round(4).to_dict())
qm = Qu @ (mu / np.linalg.norm(mu))
print("cosine of queries to the corpus mean direction: mean", round(float(qm.mean()), 4))
print("corr(mean score over queries, cosine to corpus mean) =", round(float(np.corrcoef(S.mean(1), cm)[0, 1]), 4))
from scipy.stats import spearmanr
print("spearman(votes, cosine to corpus mean) =", round(float(spearmanr(votes, cm)[0]), 4))
print("spearman(votes, grad_norm) =", round(float(spearmanr(votes, df.grad_norm)[0]), 4),
      " spearman(votes, loss) =", round(float(spearmanr(votes, df.loss)[0]), 4),
      " spearman(votes, coverage) =", round(float(spearmanr(votes, df.coverage)[0]), 4))
