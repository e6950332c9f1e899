"""Offline selection variants on finished `curate` runs' features; plausible share of each top 10%.

Labels are read only to score the selections (evaluation script, not curation code).

    PYTHONPATH=. python reports/selection-study/variants.py RUN_DIR SEED [SEED ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from bench.world import WorldConfig, build_corpus, build_queries
from curation.influence import cosine_scores
from curation.select import category_vote, majority_vote

pd.set_option("display.width", 200)


def load(adir, part, kind):
    d = adir / f"{part}-{kind}"
    return np.array(np.load(d / "features.npy", mmap_mode="r"), dtype=np.float64), np.load(d / "status.npy") == 1


def unit(a):
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def within_category(S, C, qcats, k, percentile=90.0):
    """Each query votes only among clips of its own category (cutoff = percentile within that category)."""
    votes = np.zeros(len(S))
    own = np.zeros(len(S))
    for c in sorted(set(qcats)):
        m = C == c
        js = np.nonzero(qcats == c)[0]
        sub = S[np.ix_(m, js)]
        cut = np.percentile(sub, percentile, axis=0)
        votes[m] = (sub > cut).sum(1)
        own[m] = sub.mean(1)
    order = np.lexsort((np.arange(len(S)), -own, -votes))
    return order[:k]


def variants(X, Q, C, qcats, k):
    """name -> selected row indices (into X)."""
    out = {}
    S = cosine_scores(X, Q).astype(np.float64)
    out["paper: majority vote"] = majority_vote(S, 90.0, count=k).selected
    out["category vote"] = category_vote(S, qcats, 90.0, count=k).selected
    out["within-category vote"] = within_category(S, C, qcats, k)
    z = (S - S.mean(0)) / S.std(0)
    out["mean z-score (no vote)"] = np.argsort(-z.mean(1), kind="stable")[:k]
    # centring: subtract the corpus mean of the raw projected gradients from clips and queries
    mu = X.mean(0)
    Sc = cosine_scores(X - mu, Q - mu).astype(np.float64)
    out["centred (raw mean): majority"] = majority_vote(Sc, 90.0, count=k).selected
    out["centred (raw mean): category vote"] = category_vote(Sc, qcats, 90.0, count=k).selected
    out["centred (raw mean): within-category"] = within_category(Sc, C, qcats, k)
    Xu, Qu = unit(X), unit(Q)
    mu_u = Xu.mean(0)
    Su = cosine_scores(Xu - mu_u, Qu - mu_u).astype(np.float64)
    out["centred (unit mean): majority"] = majority_vote(Su, 90.0, count=k).selected
    out["centred (unit mean): category vote"] = category_vote(Su, qcats, 90.0, count=k).selected
    out["centred (unit mean): within-category"] = within_category(Su, C, qcats, k)
    # project the mean unit direction out of every unit feature
    m_hat = mu_u / np.linalg.norm(mu_u)
    Sp = cosine_scores(Xu - np.outer(Xu @ m_hat, m_hat), Qu - np.outer(Qu @ m_hat, m_hat)).astype(np.float64)
    out["mean direction projected out: majority"] = majority_vote(Sp, 90.0, count=k).selected
    out["mean direction projected out: within-category"] = within_category(Sp, C, qcats, k)
    # categories inferred from the scores (no corpus metadata): each clip joins the query category it
    # scores highest against on average (after the mean direction is projected out)
    names = sorted(set(qcats))
    per_cat = np.stack([Sp[:, qcats == c].mean(1) for c in names], 1)
    inferred = np.array(names)[per_cat.argmax(1)]
    out["projected out: within-inferred-category"] = within_category(Sp, inferred, qcats, k)
    per_cat0 = np.stack([S[:, qcats == c].mean(1) for c in names], 1)
    inferred0 = np.array(names)[per_cat0.argmax(1)]
    out["within-inferred-category (raw cosine)"] = within_category(S, inferred0, qcats, k)
    print(f"  inferred category == caption category: {np.mean(inferred == C):.3f} (projected out), "
          f"{np.mean(inferred0 == C):.3f} (raw cosine)")
    # hubness reduction on the score matrix: subtract each clip's mean score over all queries (CSLS-like)
    Srow = S - S.mean(1, keepdims=True)
    out["clip-wise centred scores: majority"] = majority_vote(Srow, 90.0, count=k).selected
    Srow_p = Sp - Sp.mean(1, keepdims=True)
    out["projected out + clip-wise centred: majority"] = majority_vote(Srow_p, 90.0, count=k).selected
    Sdc = Su - Su.mean(1, keepdims=True)
    out["centred (unit mean) + clip-wise centred: majority"] = majority_vote(Sdc, 90.0, count=k).selected
    # remove the top r principal directions of the (uncentred) unit corpus features
    _, _, vt = np.linalg.svd(Xu, full_matrices=False)
    for r in (1, 2, 4, 8):
        P = vt[:r]
        Sr = cosine_scores(Xu - (Xu @ P.T) @ P, Qu - (Qu @ P.T) @ P).astype(np.float64)
        out[f"top-{r} directions removed: majority"] = majority_vote(Sr, 90.0, count=k).selected
    # centre only the corpus (queries untouched)
    Sq = cosine_scores(X - mu, Q).astype(np.float64)
    out["centred corpus only: majority"] = majority_vote(Sq, 90.0, count=k).selected
    # per-category centring: subtract each category's own corpus mean (from its clips and its queries)
    Xc, Qc = X.copy(), Q.copy()
    for c in sorted(set(C)):
        m = C == c
        mc = X[m].mean(0)
        Xc[m] -= mc
        Qc[qcats == c] -= mc
    Scc = cosine_scores(Xc, Qc).astype(np.float64)
    out["per-category centred: within-category"] = within_category(Scc, C, qcats, k)
    return out


def main():
    run, seeds = Path(sys.argv[1]), [int(s) for s in sys.argv[2:]]
    import os
    kind = os.environ.get("KIND", "motive")
    recs = []
    for seed in seeds:
        adir = run / "artifacts" / f"seed-{seed}"
        wcfg = WorldConfig(seed=seed)
        corpus, queries = build_corpus(wcfg, n=600), build_queries(wcfg)
        labels = np.array([s.label for s in corpus])
        cats = np.array([s.category for s in corpus])
        qcats = np.array([s.category for s in queries])
        X, valid = load(adir, "corpus", kind)
        Q, qv = load(adir, "queries", kind)
        idx = np.nonzero(valid)[0]
        for name, sel in variants(X[idx], Q[qv], cats[idx], qcats[qv], 60).items():
            rows = idx[sel]
            lab = labels[rows]
            percat = pd.Series(cats[rows]).value_counts()
            recs.append({"seed": seed, "variant": name, "plausible": (lab == "plausible").mean(),
                         "violating": int((lab == "violating").sum()), "static": int((lab == "static").sum()),
                         "camera": int((lab == "camera_only").sum()), "cats>0": int((percat > 0).sum()),
                         "max_cat": int(percat.max())})
    df = pd.DataFrame(recs)
    print(df.to_string(index=False, float_format="%.3f"))
    if len(seeds) > 1:
        g = df.groupby("variant", sort=False)["plausible"].agg(["mean", "min", "max"])
        print(g.round(3).to_string())


if __name__ == "__main__":
    main()
