#!/bin/bash
# Selection configurations of `curate` on the features of reports/selection-study/base (the shipped checkpoint,
# seeds 0 1 2): each run directory links base's artifacts, so world, masks and gradients are read back, not
# recomputed (the stores' manifests do not depend on the selection options).
set -e
cd "$(dirname "$0")/../.."
BASE=${BASE:-reports/selection-study/base}
PREFIX=${PREFIX:-reports/selection-study/cfg}
EXTRA=${EXTRA:-}
for cfg in "mean majority" "project majority" "none within_category" "mean within_category" "project within_category" "none category" "mean category"; do
  set -- $cfg
  out=$PREFIX-centre_$1-vote_$2
  mkdir -p $out
  [ -e $out/artifacts ] || ln -s "$(realpath $BASE/artifacts)" $out/artifacts
  echo "== python -m bench curate --no-cost --centre $1 --vote $2 $EXTRA --out $out"
  python -m bench curate --no-cost --centre $1 --vote $2 $EXTRA --out $out 2>/dev/null | grep -E "^seed [0-9]: motive|^motive|^whole_video|beats|difference|spread|meets"
done
