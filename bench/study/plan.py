"""The plan of a pairwise preference study: which rater judges which pair, in which order, on which side.

:func:`build_plan` makes a balanced plan. Every rater judges every prompt once for every chosen
pairing. Per rater and pairing, model A is on the left in ⌊n/2⌋ or ⌈n/2⌉ of the n judgments (n the
number of prompts; the odd one is drawn), which side is which is drawn per judgment, and the order is
shuffled per rater. Attention checks are then inserted:

* ``repeat``: an earlier ordinary pair shown again with the sides swapped, at least
  :data:`REPEAT_GAP` items after the original where the plan is long enough (else as late as it can be);
  it passes when the rater picks the same model (or tie)
  as the first time;
* ``identical``: the same video on both sides (model_a = model_b); it passes on ``tie``.

Where a prompt has several seeds, rater ``r`` sees seed ``seeds[(r + offset(prompt)) % n_seeds]``, so
the seeds are spread evenly over raters. All draws come from :func:`curation.seeds.derive_seed`
with the study seed and the rater's name, so a plan is reproduced exactly from its seed and inputs.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from bench.errors import StudyError
from bench.manifest import sha256_json
from bench.study.sources import VideoKey
from curation.seeds import derive_seed, numpy_rng

PLAN_FORMAT = "motive-bench-study-plan/1"
DEFAULT_QUESTION = "Which video shows more realistic motion?"
REPEAT_GAP = 3
RATER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
CHECK_KINDS = ("", "repeat", "identical")


@dataclass(frozen=True)
class Item:
    """One judgment a rater is asked for. ``left`` is the model shown on the left (model_a or model_b)."""

    prompt: str
    seed: int
    model_a: str
    model_b: str
    left: str
    check: str = ""  # "", "repeat" or "identical"
    of: int | None = None  # for a repeat check: index of the original item in the same rater's list

    @property
    def right(self) -> str:
        """The model shown on the right."""
        return self.model_b if self.left == self.model_a else self.model_a


@dataclass
class StudyPlan:
    """A whole study: models and their folders, video file names, pairings and per-rater item lists."""

    study: str
    seed: int
    question: str
    models: dict[str, str]  # model -> folder, absolute, or relative to the study directory (``root``)
    videos: dict[str, dict[str, str]]  # model -> "<prompt>-<seed>" -> file name in the folder
    pairings: list[tuple[str, str]]
    raters: dict[str, list[Item]]
    checks: dict[str, int] = field(default_factory=dict)  # {"repeat": k, "identical": k}
    root: Path | None = field(default=None, compare=False)  # the study directory, set by read_plan

    def video_path(self, model: str, prompt: str, seed: int) -> Path:
        """Absolute path of ``model``'s video for (prompt, seed)."""
        folder = Path(self.models[model])
        if not folder.is_absolute() and self.root is not None:
            folder = self.root / folder
        return folder / self.videos[model][f"{prompt}-{seed}"]

    def fingerprint(self) -> str:
        """SHA-256 of what the stored votes refer to (models, pairings, every rater's items in order)."""
        data = self.to_json()
        return sha256_json({k: data[k] for k in ("study", "seed", "pairings", "raters")})

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "study": self.study,
            "seed": self.seed,
            "question": self.question,
            "models": self.models,
            "videos": self.videos,
            "pairings": [list(p) for p in self.pairings],
            "checks": self.checks,
            "raters": {r: [dataclasses.asdict(i) for i in items] for r, items in self.raters.items()},
        }


def parse_pairings(texts: Sequence[str] | None, models: Sequence[str]) -> list[tuple[str, str]]:
    """``["A:B", ...]`` -> pairings (model_a, model_b); None or empty gives every pair of ``models`` in order."""
    if not texts:
        return list(itertools.combinations(models, 2))
    out: list[tuple[str, str]] = []
    for text in texts:
        a, sep, b = text.partition(":")
        if not sep or not a or not b:
            raise StudyError(f"pairing {text!r} is not of the form MODEL_A:MODEL_B (e.g. motive:base)")
        for m in (a, b):
            if m not in models:
                raise StudyError(f"pairing {text!r} names model {m!r}, which is not in the study; models: {sorted(models)}")
        if a == b:
            raise StudyError(f"pairing {text!r} pairs a model with itself; identical-video checks are added automatically")
        if (a, b) in out or (b, a) in out:
            raise StudyError(f"pairing {text!r} is given twice")
        out.append((a, b))
    return out


def rater_names(raters: int | Sequence[str]) -> list[str]:
    """``3`` -> ``["rater-01", "rater-02", "rater-03"]``; a list of names is validated and returned."""
    if isinstance(raters, int):
        if raters < 1:
            raise StudyError(f"--raters must be at least 1; got {raters}")
        width = max(2, len(str(raters)))
        return [f"rater-{i + 1:0{width}d}" for i in range(raters)]
    names = list(raters)
    for n in names:
        if not RATER_NAME.match(n):
            raise StudyError(f"rater name {n!r} must be 1-64 letters, digits or '_.-', starting with a letter or digit")
    if len(set(names)) != len(names) or not names:
        raise StudyError(f"rater names must be unique and at least one; got {names}")
    return names


def _balanced_sides(n: int, seed: int, rater: str, a: str, b: str) -> list[bool]:
    """n flags, True = model_a on the left; ⌊n/2⌋ of each, the odd one drawn, then shuffled."""
    rng = numpy_rng(seed, "study-sides", rater, a, b)
    flags = [True] * (n // 2) + [False] * (n // 2)
    if n % 2:
        flags.append(bool(rng.integers(2)))
    return [flags[i] for i in rng.permutation(n)]


def _rater_items(
    rater: str,
    rater_index: int,
    keys: Mapping[str, list[int]],
    models: Sequence[str],
    pairings: Sequence[tuple[str, str]],
    seed: int,
    n_repeat: int,
    n_identical: int,
) -> list[Item]:
    prompts = sorted(keys)
    chosen_seed = {
        p: keys[p][(rater_index + derive_seed(seed, "study-seed-offset", p)) % len(keys[p])] for p in prompts
    }
    ordinary: list[Item] = []
    for a, b in pairings:
        sides = _balanced_sides(len(prompts), seed, rater, a, b)
        for p, a_left in zip(prompts, sides):
            ordinary.append(Item(p, chosen_seed[p], a, b, a if a_left else b))
    rng = numpy_rng(seed, "study-order", rater)
    order: list[Item] = [ordinary[i] for i in rng.permutation(len(ordinary))]
    # Each slot is (item, position in `order` of the original for a repeat); items are tracked by identity.
    slots: list[tuple[Item, int | None]] = [(it, None) for it in order]
    if n_repeat:
        crng = numpy_rng(seed, "study-repeat-checks", rater)
        pool = len(order) - REPEAT_GAP if len(order) - REPEAT_GAP >= n_repeat else len(order)
        candidates = crng.permutation(pool)[:n_repeat]
        for pos in sorted(int(c) for c in candidates):
            orig = order[pos]
            repeat = Item(orig.prompt, orig.seed, orig.model_a, orig.model_b, orig.right, "repeat")
            here = next(i for i, (it, _) in enumerate(slots) if it is orig)
            lo = min(here + 1 + REPEAT_GAP, len(slots))
            at = int(crng.integers(lo, len(slots) + 1))
            slots.insert(at, (repeat, pos))
    if n_identical:
        irng = numpy_rng(seed, "study-identical-checks", rater)
        for _ in range(n_identical):
            p = prompts[int(irng.integers(len(prompts)))]
            m = models[int(irng.integers(len(models)))]
            at = int(irng.integers(1, len(slots) + 1))
            slots.insert(at, (Item(p, chosen_seed[p], m, m, m, "identical"), None))
    final_index = {id(it): i for i, (it, _) in enumerate(slots)}
    items: list[Item] = []
    for it, orig_pos in slots:
        if orig_pos is not None:
            of = final_index[id(order[orig_pos])]
            it = dataclasses.replace(it, of=of)
        items.append(it)
    return items


def build_plan(
    videos: Mapping[str, Mapping[VideoKey, str]],
    models: Mapping[str, str | Path],
    raters: int | Sequence[str],
    *,
    pairings: Sequence[str] | None = None,
    seed: int = 0,
    n_repeat: int = 2,
    n_identical: int = 2,
    question: str = DEFAULT_QUESTION,
    study: str = "study",
) -> StudyPlan:
    """A balanced plan (see the module docstring) over the videos of :func:`bench.study.sources.index_videos`.

    ``pairings`` are ``"A:B"`` strings (default: every pair of models); ``n_repeat``/``n_identical``
    attention checks are inserted per rater.
    """
    names = sorted(videos)
    pairs = parse_pairings(pairings, names)
    people = rater_names(raters)
    if not question.strip():
        raise StudyError("the study question is empty; give --question a sentence such as "
                         f"{DEFAULT_QUESTION!r}")
    keys: dict[str, list[int]] = {}
    for prompt, s in videos[names[0]]:
        keys.setdefault(prompt, []).append(s)
    keys = {p: sorted(v) for p, v in keys.items()}
    n_ordinary = len(keys) * len(pairs)
    if n_repeat < 0 or n_identical < 0 or n_repeat > n_ordinary:
        raise StudyError(
            f"attention checks: got {n_repeat} repeat and {n_identical} identical checks per rater; each must be "
            f">= 0, and repeats at most the {n_ordinary} ordinary judgments a rater makes"
        )
    return StudyPlan(
        study=study,
        seed=int(seed),
        question=question.strip(),
        models={m: str(Path(models[m]).resolve()) for m in names},
        videos={m: {f"{p}-{s}": f for (p, s), f in sorted(videos[m].items())} for m in names},
        pairings=pairs,
        raters={
            r: _rater_items(r, i, keys, names, pairs, int(seed), n_repeat, n_identical)
            for i, r in enumerate(people)
        },
        checks={"repeat": n_repeat, "identical": n_identical},
    )


def write_plan(plan: StudyPlan, study_dir: str | Path) -> Path:
    """Write ``plan.json`` into ``study_dir`` atomically; returns its path."""
    study_dir = Path(study_dir)
    study_dir.mkdir(parents=True, exist_ok=True)
    path = study_dir / "plan.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(plan.to_json(), indent=1) + "\n")
    tmp.replace(path)
    return path


def read_plan(study_dir: str | Path) -> StudyPlan:
    """Read ``plan.json`` of a study directory; :class:`StudyError` if it is absent or not a plan."""
    path = Path(study_dir) / "plan.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise StudyError(f"{str(path)!r} does not exist; create the study first with `motive-bench study create`") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise StudyError(f"{str(path)!r} is not a readable study plan ({exc}); recreate it with `motive-bench study create`") from None
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise StudyError(f"{str(path)!r} has format {got!r}, expected {PLAN_FORMAT!r}; recreate it with `motive-bench study create`")
    return StudyPlan(
        study=data["study"],
        seed=int(data["seed"]),
        question=data["question"],
        models=dict(data["models"]),
        videos={m: dict(v) for m, v in data["videos"].items()},
        pairings=[(a, b) for a, b in data["pairings"]],
        raters={r: [Item(**i) for i in items] for r, items in data["raters"].items()},
        checks=dict(data.get("checks", {})),
        root=Path(study_dir).resolve(),
    )
