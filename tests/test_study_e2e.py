"""End to end in a real headless Chromium (Debian's ``chromium``, driven by Playwright for Python).

A rater opens their link, the two H.264 clips play, voting unlocks only after both played through,
votes go in by mouse (click and double click) and by keyboard, the page is reloaded mid-study, and the
study is finished; the export must equal what was clicked. Skipped with a reason where chromium or
Playwright is absent, except under CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from study_helpers import make_study

from bench.study.export import export_study, model_choice
from bench.study.serve import start_in_thread
from evaluators.judgments import read_judgments

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MODELS = ("zeta_model", "omega_model")


def _need(ok: bool, reason: str) -> None:
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this end-to-end test must run; .ci/run installs chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    _need(Path(CHROMIUM).exists() or shutil.which("chromium") is not None,
          "Debian's chromium is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "Playwright for Python is not installed (pip install -e '.[test]')")
    exe = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=ARGS)
        yield b
        b.close()


SNAPSHOT = """() => {
  const L = document.getElementById('left'), R = document.getElementById('right');
  const buttons = Array.from(document.querySelectorAll('button[data-choice]'));
  return {src: !!L.getAttribute('src') && !!R.getAttribute('src'), plays: [L.dataset.plays, R.dataset.plays],
          disabled: buttons.map(b => b.disabled), progress: document.getElementById('progress-text').textContent,
          width: [L.videoWidth, R.videoWidth]};
}"""

# Atomically: while neither video has finished yet, every button is disabled and a key press is ignored.
PRESS_WHILE_LOCKED = """() => {
  const L = document.getElementById('left'), R = document.getElementById('right');
  if (!(L.getAttribute('src') && L.dataset.plays === '0' && R.dataset.plays === '0')) return null;
  const disabled = Array.from(document.querySelectorAll('button[data-choice]')).every(b => b.disabled);
  document.dispatchEvent(new KeyboardEvent('keydown', {key: '1', bubbles: true}));
  return {disabled: disabled};
}"""


def _wait_unlocked(page, k: int, total: int) -> None:
    page.wait_for_function(f"() => document.getElementById('progress-text').textContent === 'Pair {k + 1} of {total}'")
    page.wait_for_selector("#vote-left:enabled")
    snap = page.evaluate(SNAPSHOT)
    assert all(int(p) >= 1 for p in snap["plays"]), snap  # unlocked only after both played through
    assert snap["width"] == [32, 32], snap  # Chromium decoded the H.264 clips


def test_a_rater_votes_by_mouse_and_keyboard_reloads_and_finishes(tmp_path, browser):
    study_dir, plan, secrets = make_study(tmp_path, models=MODELS, prompts=("bounce-01", "roll-02", "spin-03"),
                                          raters=1, real=True, n_repeat=1, n_identical=1)
    items = plan.raters["rater-01"]
    total = len(items)
    assert total == 5
    server, thread, base = start_in_thread(study_dir)
    store = server.app.extensions["motive_study"].store
    page = browser.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{base}/r/{secrets.raters['rater-01']}")
        locked = page.wait_for_function(PRESS_WHILE_LOCKED).json_value()
        assert locked == {"disabled": True}
        clicks: list[str] = []

        _wait_unlocked(page, 0, total)
        assert store.votes() == []  # the key pressed while locked was ignored
        page.click("#vote-left")  # mouse
        clicks.append("left")

        _wait_unlocked(page, 1, total)
        page.keyboard.press("ArrowRight")  # keyboard
        clicks.append("right")

        page.wait_for_function(f"() => document.getElementById('progress-text').textContent === 'Pair 3 of {total}'")
        page.reload()  # stop mid-study and come back with the same link
        _wait_unlocked(page, 2, total)
        page.keyboard.press("3")
        clicks.append("tie")

        _wait_unlocked(page, 3, total)
        page.dblclick("#vote-right")  # a double click counts once
        clicks.append("right")

        _wait_unlocked(page, 4, total)
        page.keyboard.press("ArrowDown")
        clicks.append("tie")

        page.wait_for_selector("#finished", state="visible")
        assert page.text_content("#progress-text") == f"Finished: {total} of {total}"
        html = page.content()
        assert not any(m in html for m in MODELS)
        assert page.is_hidden("#error")  # no load or send error was shown
    finally:
        page.close()
        server.shutdown()
        thread.join(timeout=10)
        store.close()

    path, n = export_study(study_dir, tmp_path / "judgments.csv")
    df = read_judgments(path, models=MODELS)
    assert n == total == len(df)
    expected = [model_choice(side, it.left, it.model_a) for side, it in zip(clicks, items)]
    assert df["choice"].tolist() == expected
    assert df["left"].tolist() == [it.left for it in items]
    assert df["check"].tolist() == [it.check for it in items]
    assert (df["time_ms"].astype(int) >= 1000).all()  # a vote needs both 1.125 s clips played through
