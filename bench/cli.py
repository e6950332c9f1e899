"""The ``motive-bench`` command line: one subcommand per pipeline stage.

Each subcommand lives in its own module under :mod:`bench.commands` and is found by discovery, so
adding a stage never edits this file. A command module defines:

``NAME``           the subcommand name (``"curate"``),
``HELP``           one line for ``motive-bench --help``,
``ORDER``          an int placing it in pipeline order in the help listing,
``add_arguments``  ``(parser: argparse.ArgumentParser) -> None``,
``run``            ``(args: argparse.Namespace) -> int``, the exit status.

Command modules import only the standard library at module level; heavy imports (torch, cv2,
diffusers) go inside ``run`` so that ``motive-bench --help`` answers in well under a second.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from types import ModuleType

import bench
import bench.commands

_REQUIRED = ("NAME", "HELP", "add_arguments", "run")


def discover_commands() -> list[ModuleType]:
    """Import every module of :mod:`bench.commands` that defines a subcommand, in pipeline order."""
    found = []
    for info in pkgutil.iter_modules(bench.commands.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.commands.{info.name}")
        missing = [attr for attr in _REQUIRED if not hasattr(module, attr)]
        if missing:
            raise RuntimeError(
                f"bench/commands/{info.name}.py is not a command module: it lacks {missing}. "
                f"Define {list(_REQUIRED)} (see bench/cli.py) or prefix the file name with '_'."
            )
        found.append(module)
    return sorted(found, key=lambda m: (getattr(m, "ORDER", 100), m.NAME))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="motive-bench",
        description="Motion-realism benchmark and Motive motion-aware data curation for text-to-video models.",
    )
    parser.add_argument("--version", action="version", version=f"motive-bench {bench.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="<command>")
    for module in discover_commands():
        # help= is %-formatted by argparse, description= is not: "%%" in HELP must read "%" there.
        cmd = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP.replace("%%", "%"))
        module.add_arguments(cmd)
        cmd.set_defaults(_handler=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "_handler", None)
    if handler is None:
        parser.print_help()
        return 2
    from bench.errors import UserError
    from curation.errors import MotiveError
    from evaluators.errors import EvaluatorError

    try:
        return int(handler(args) or 0)
    except (UserError, MotiveError, EvaluatorError) as exc:  # a mistake the user can fix: no traceback, the message says how
        print(f"motive-bench {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
