"""The command line behind build.py: parse arguments, run a command, print, exit."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import BuildError
from .pipeline import BuildOptions, build


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="build.py",
        description="Build the multilingual guide from content/ into site/.",
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="project folder (default: current folder)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: <root>/site)")
    parser.add_argument("--drafts", action="store_true", help="include pages marked draft: true")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("build", help="build the site into site/ (the default)")
    check = commands.add_parser("check", help="run every check without writing anything")
    check.add_argument("--strict", action="store_true", help="treat warnings (missing translations, overdue reviews, uncited sources) as errors")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    root = args.root.resolve()
    command = args.command or "build"
    options = BuildOptions(
        root=root,
        out_dir=(args.out or root / "site"),
        drafts=args.drafts,
        write=command == "build",
    )
    try:
        result = build(options)
    except BuildError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"{len(exc.errors)} error(s); nothing was written.", file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    summary = ", ".join(f"{n} {code}" for code, n in result.pages.items())
    verb = "checked" if command == "check" else "built"
    print(f"{verb} {sum(result.pages.values())} pages ({summary}) in {result.seconds:.2f} s")
    if command == "check" and args.strict and result.warnings:
        print(f"{len(result.warnings)} warning(s) fail --strict.", file=sys.stderr)
        return 1
    return 0
