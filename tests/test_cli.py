"""The CLI skeleton: discovery, help, and no heavy imports before a handler runs."""

from __future__ import annotations

import subprocess
import sys

from bench.cli import build_parser, discover_commands, main


def test_every_command_module_is_discovered_with_a_unique_name():
    names = [m.NAME for m in discover_commands()]
    assert len(names) == len(set(names))


def test_help_lists_every_command(capsys):
    parser = build_parser()
    text = parser.format_help()
    for module in discover_commands():
        assert module.NAME in text


def test_no_command_prints_help_and_returns_2(capsys):
    assert main([]) == 2
    assert "usage: motive-bench" in capsys.readouterr().out


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from bench.cli import build_parser; build_parser().format_help();"
        "heavy=[m for m in ('torch','cv2','diffusers','pandas','matplotlib','scipy','transformers') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"motive-bench --help imported heavy modules: {out}"


def test_python_dash_m_bench_works():
    res = subprocess.run([sys.executable, "-m", "bench", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and "motive-bench" in res.stdout
