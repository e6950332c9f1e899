"""A world clip written by ``bench.videoio.write_mp4`` at native 32 x 32 plays through in headless Chromium.

Marked slow (run with ``-m slow``): tests/test_study_e2e.py already plays ``write_mp4`` world clips in
Chromium in the default run. Skipped with a reason where Debian's chromium or Playwright is absent,
except under CI (``CI`` set), where that is a failure (the same rule as tests/test_study_e2e.py).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bench.videoio import write_mp4
from bench.world import Appearance, WorldConfig, make_spec, render

pytestmark = [pytest.mark.e2e, pytest.mark.slow]  # the study e2e test plays world clips by default

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--allow-file-access-from-files",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

PLAY = """async () => {
  const v = document.getElementById('v');
  await v.play();
  await new Promise(done => v.addEventListener('ended', done, {once: true}));
  return {w: v.videoWidth, h: v.videoHeight, duration: v.duration, error: v.error ? v.error.code : null};
}"""


def _need(ok: bool, reason: str) -> None:
    if ok:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this end-to-end test must run; .ci/run installs chromium)")
    pytest.skip(reason)


def test_exported_clip_plays_to_the_end_in_chromium(tmp_path):
    exe = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
    _need(exe is not None, "Debian's chromium is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need(False, "Playwright for Python is not installed (pip install -e '.[test]')")
    cfg = WorldConfig()
    spec = make_spec("x", "bounce", "plausible", Appearance("ball", "red", "large", "plain", "plain", "gray"), 1, cfg)
    clip = write_mp4(tmp_path / "clip.mp4", render(spec, cfg), fps=cfg.fps)
    page_path = tmp_path / "page.html"
    page_path.write_text(f'<html><body><video id="v" src="{clip.name}" muted playsinline></video></body></html>')
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(page_path.as_uri())
            result = page.evaluate(PLAY)
        finally:
            browser.close()
    assert result["error"] is None and (result["w"], result["h"]) == (32, 32)
    assert result["duration"] == pytest.approx(cfg.frames / cfg.fps, abs=0.2)
