"""``motive-bench study create|serve|export|demo`` from the command line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

import pytest
from study_helpers import make_videos

from bench.cli import main
from bench.study.plan import read_plan
from bench.study.tokens import read_secrets
from evaluators.judgments import read_judgments

PROMPTS = ("bounce-01", "roll-02", "spin-03", "float-04")


def test_create_then_export_an_empty_study(tmp_path, capsys):
    make_videos(tmp_path / "run", ["base", "tuned", "other"], PROMPTS)
    code = main(["study", "create", str(tmp_path / "run"), "--out", str(tmp_path / "s"), "--raters", "3",
                 "--pairing", "tuned:base", "--seed", "5", "--repeat-checks", "1", "--identical-checks", "1",
                 "--question", "Which moves better?"])
    out = capsys.readouterr().out
    assert code == 0 and "pairings ['tuned:base']" in out and "3 raters x [6] items" in out
    plan = read_plan(tmp_path / "s")
    assert (plan.seed, plan.pairings, plan.question) == (5, [("tuned", "base")], "Which moves better?")
    assert oct((tmp_path / "s" / "secrets.json").stat().st_mode & 0o777) == "0o600"
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["stage"] == "study" and manifest["seeds"] == {"study": 5}
    assert main(["study", "export", str(tmp_path / "s")]) == 0
    assert "Wrote 0 judgments" in capsys.readouterr().out
    assert len(read_judgments(tmp_path / "s" / "judgments.csv")) == 0


def test_missing_videos_fail_with_the_list_and_exit_2(tmp_path, capsys):
    make_videos(tmp_path / "run", ["base", "tuned"], PROMPTS)
    (tmp_path / "run" / "tuned" / "spin-03-0.mp4").unlink()
    code = main(["study", "create", str(tmp_path / "run"), "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and "1 missing" in err and "tuned: spin-03-0.mp4" in err
    assert not (tmp_path / "s").exists()


def test_study_without_action_prints_help(capsys):
    assert main(["study"]) == 2
    assert "create" in capsys.readouterr().out


def test_demo_pairs_plausible_against_violating_clips_of_the_same_prompts(tmp_path, capsys):
    code = main(["study", "demo", "--out", str(tmp_path / "d"), "--no-serve", "--raters", "2"])
    assert code == 0 and "plausible:violating" in capsys.readouterr().out
    plan = read_plan(tmp_path / "d")
    assert plan.pairings == [("plausible", "violating")] and len(plan.raters) == 2
    names = sorted(p.name for p in (tmp_path / "d" / "videos" / "plausible").iterdir())
    assert len(names) == 10 and names == sorted(p.name for p in (tmp_path / "d" / "videos" / "violating").iterdir())
    from bench.videoio import read_video

    a, _ = read_video(tmp_path / "d" / "videos" / "plausible" / names[0])
    b, _ = read_video(tmp_path / "d" / "videos" / "violating" / names[0])
    assert a.shape == b.shape == (17, 32, 32, 3) and (a != b).any()  # same prompt, different physics


def test_serve_binds_localhost_and_prints_where_it_listens_and_the_links(tmp_path, monkeypatch, capsys):
    import threading

    import bench.study.serve as serve_module

    make_videos(tmp_path / "run", ["base", "tuned"], PROMPTS)
    assert main(["study", "create", str(tmp_path / "run"), "--out", str(tmp_path / "s"), "--raters", "1"]) == 0
    servers = []
    real = serve_module.make_study_server

    def keep(*args, **kwargs):  # the real server, kept so the test can stop it
        servers.append(real(*args, **kwargs))
        return servers[-1]

    monkeypatch.setattr(serve_module, "make_study_server", keep)
    thread = threading.Thread(target=main, args=(["study", "serve", str(tmp_path / "s"), "--port", "0"],), daemon=True)
    thread.start()
    try:
        for _ in range(600):
            if servers:
                break
            thread.join(0.05)
        (server,) = servers
        assert server.host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/admin/{read_secrets(tmp_path / 's').admin}",
                                    timeout=30) as resp:
            assert resp.status == 200
    finally:
        servers and servers[0].shutdown()
        thread.join(timeout=30)
    out = capsys.readouterr().out
    assert f"listening on 127.0.0.1:{server.server_port} (this machine only)" in out and "Stopped" in out
    assert f"rater-01: http://127.0.0.1:{server.server_port}/r/" in out


@pytest.mark.slow
def test_serve_binds_localhost_prints_links_and_stops_on_ctrl_c(tmp_path):
    make_videos(tmp_path / "run", ["base", "tuned"], PROMPTS)
    assert main(["study", "create", str(tmp_path / "run"), "--out", str(tmp_path / "s"), "--raters", "1"]) == 0
    proc = subprocess.Popen([sys.executable, "-m", "bench", "study", "serve", str(tmp_path / "s"), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        first = proc.stdout.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+) \(this machine only\)", first)
        assert m, first
        links = dict(re.match(r"\s*(\S+): (\S+)", proc.stdout.readline()).groups() for _ in range(2))
        secrets = read_secrets(tmp_path / "s")
        assert links == {"admin": f"http://127.0.0.1:{m[1]}/admin/{secrets.admin}",
                         "rater-01": f"http://127.0.0.1:{m[1]}/r/{secrets.raters['rater-01']}"}
        with urllib.request.urlopen(links["rater-01"], timeout=30) as resp:
            assert resp.status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("the server did not stop on SIGINT")
    assert proc.returncode == 0 and "Stopped" in out


def test_export_then_motive_bench_tally(tmp_path, capsys):
    from bench.study.app import create_app

    make_videos(tmp_path / "run", ["base", "tuned"], PROMPTS)
    assert main(["study", "create", str(tmp_path / "run"), "--out", str(tmp_path / "s"), "--raters", "2",
                 "--pairing", "tuned:base"]) == 0
    plan, secrets = read_plan(tmp_path / "s"), read_secrets(tmp_path / "s")
    app = create_app(tmp_path / "s")
    client = app.test_client()
    for rater, tok in secrets.raters.items():
        state = client.get(f"/api/r/{tok}/state").get_json()
        for item in plan.raters[rater]:  # tuned always chosen, identical pairs tied
            side = "tie" if item.check == "identical" else ("left" if item.left == "tuned" else "right")
            state = client.post(f"/api/r/{tok}/vote", json={"item": state["item"]["id"], "choice": side}).get_json()
    app.extensions["motive_study"].store.close()
    assert main(["study", "export", str(tmp_path / "s")]) == 0
    capsys.readouterr()
    assert main(["tally", str(tmp_path / "s" / "judgments.csv"), "--reference", "tuned", "--n-boot", "50"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"\| tuned\s*\| base\s*\| 8\s*\| 8\s*\| 0\s*\| 0\s*\|", out), out
