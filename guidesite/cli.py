"""The command line behind build.py: parse arguments, run a command, print, exit."""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from . import __version__
from .console import output, print_errors, print_warnings, progress
from .errors import BuildError
from .pipeline import BuildOptions, build
from .scaffold import NEW_LAYOUTS, mark_reviewed, mark_translated, new_page, preview_hint
from .status import collect_status, format_status


# The options that shape a build, and the commands that build.
_BUILD_OPTIONS = {"out": "--out", "drafts": "--drafts", "no_cache": "--no-cache"}
_TAKES = {"build": {"out", "drafts", "no_cache"}, "check": {"drafts", "no_cache"}}


def _options(*names: str) -> argparse.ArgumentParser:
    """--root and the named build options, for the parser before the command and for each
    command's own. None has a default here: one given after the command (`check --root x`)
    wins, and one left out does not undo the same option given before it (see main)."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--root", type=Path, default=argparse.SUPPRESS, help="project folder (default: current folder)")
    if "out" in names:
        options.add_argument("--out", type=Path, default=argparse.SUPPRESS, help="output folder (default: <root>/site)")
    if "drafts" in names:
        options.add_argument("--drafts", action="store_true", default=argparse.SUPPRESS, help="include pages marked draft: true")
    if "no_cache" in names:
        options.add_argument("--no-cache", action="store_true", default=argparse.SUPPRESS,
                             help="ignore the build cache in .cache/guidesite/: render every page")
    return options


def _port(text: str) -> int:
    """A TCP port: the kernel would take 99999 as 34463 without a word."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0 <= port <= 65535:  # 0: any free port
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 1 to 65535")
    return port


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date: write YYYY-MM-DD, such as 2026-12-03") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="build.py",
        description="Build the multilingual guide from content/ into site/.",
        parents=[_options(*_BUILD_OPTIONS)],  # for `build`, the command when none is named
    )
    parser.add_argument("--version", action="version", version=f"guidesite {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, **kwargs: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, parents=[_options(*_TAKES.get(name, ()))], **kwargs)

    command("build", help="build the site into site/ (the default)")
    check = command("check", help="run every check without writing anything")
    check.add_argument("--strict", action="store_true", help="the gate before going live: warnings fail too (unreviewed or changed articles, placeholders, "
                            "translations that differ, missing or outdated translations, overdue reviews, uncited sources)")
    preview = command("serve", help="preview with drafts at http://127.0.0.1:8000, rebuilt and reloaded on every save")
    preview.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    preview.add_argument("--port", type=_port, default=8000, help="port (default: 8000)")
    preview.add_argument("--allow-remote", action="store_true", help="allow a --host that other machines can reach")
    preview.add_argument("--open", action="store_true", help="open the preview in the default browser")
    command("status", help="translations present, missing or outdated per key, drafts included; articles never reviewed "
                           "or changed since; reviews due within 30 days; declared translation differences")
    new = command("new", help="create a page with every required field filled in")
    new.add_argument("lang", help="language code, such as de")
    new.add_argument("path", help="path below content/<lang>/ without .md, such as vorbeugen/neues-thema")
    new.add_argument("--translation-of", metavar="PAGE", help="the page this one translates, such as de/vorbeugen/neues-thema.md")
    new.add_argument("--layout", choices=NEW_LAYOUTS, help="article (default) or page; a translation takes its original's")
    translated = command("translated", help="mark a translation as up to date with its original")
    translated.add_argument("file", help="the translation, such as content/en/prevention/posture.md")
    reviewed = command("reviewed", help="record a medical review of an article as its text stands now")
    reviewed.add_argument("file", help="the article, such as content/de/ursachen.md")
    reviewed.add_argument("--by", required=True, metavar="NAME", help="the reviewer's name and qualification")
    reviewed.add_argument("--date", type=_date, metavar="YYYY-MM-DD", help="the day of the review (default: today)")
    reviewed.add_argument("--next", type=_date, metavar="YYYY-MM-DD", help="when the next review is due (default: a year later)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command = args.command or "build"
    # Given before the command, a build option reaches every command: refuse it where it
    # means nothing (the preview always shows drafts; status reads the sources only).
    for name, flag in _BUILD_OPTIONS.items():
        if name in vars(args) and name not in _TAKES.get(command, set()):
            parser.error(f"{flag} does not apply to the command '{command}'")
    root = getattr(args, "root", Path.cwd()).resolve()
    if command == "serve":
        from .serve import serve  # here, not above: a build need not load the HTTP server

        return serve(root, args.host, args.port, args.allow_remote, args.open)
    with _sigterm_as_interrupt():
        try:
            return _run(args, command, root)
        except KeyboardInterrupt:
            # The site is swapped in whole or not at all (guidesite/output.py), so this is true
            # wherever the interrupt landed.
            after = "; site/ holds the last complete build" if command == "build" else ""
            print(f"interrupted{after}.", file=sys.stderr, flush=True)
            sys.stdout.flush()
            # At once: the worker processes are gone, and the interpreter's exit would wait
            # for the pool's manager thread, which a killed worker can leave waiting for ever.
            os._exit(130)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI timeout, `kill`) stops a command as Ctrl+C does: with the worker
    processes ended, not left behind waiting for work that never comes."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set a signal handler
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace, command: str, root: Path) -> int:
    if command in ("status", "new", "translated", "reviewed"):
        return _editor_command(args, root)
    options = BuildOptions(
        root=root,
        out_dir=getattr(args, "out", root / "site").resolve(),  # named in errors as the editor means it
        drafts=getattr(args, "drafts", False),
        write=command == "build",
        cache=not getattr(args, "no_cache", False),
    )
    try:
        with progress(output(stderr=True)):  # on stderr: stdout keeps the one summary line
            result = build(options)
    except BuildError as exc:
        print_errors(output(stderr=True), exc.errors)
        print(f"{len(exc.errors)} error(s); nothing was written.", file=sys.stderr)
        return 1
    print_warnings(output(stderr=True), result.warnings)
    summary = ", ".join(f"{n} {code}" for code, n in result.pages.items())
    verb = "checked" if command == "check" else "built"
    print(f"{verb} {sum(result.pages.values())} pages ({summary}) in {result.seconds:.2f} s")
    if result.drafts_left_out:
        # A draft's outdated translation or placeholder would otherwise pass unseen.
        check = "check --strict --drafts" if command == "check" else "check --drafts"
        print(f"{result.drafts_left_out} draft(s) left out, not checked: python build.py {check} checks them too",
              file=sys.stderr)
    if command == "check" and args.strict and result.warnings:
        print(f"{len(result.warnings)} warning(s) fail --strict.", file=sys.stderr)
        return 1
    return 0


def _editor_command(args: argparse.Namespace, root: Path) -> int:
    """status, new, translated and reviewed: print the result, or every error as file:line: message."""
    today = dt.date.today()
    try:
        if args.command == "status":
            print(format_status(collect_status(root, today), today))
        elif args.command == "new":
            created = new_page(root, args.lang, args.path, args.translation_of, args.layout, today)
            print(f"created {created}\n{preview_hint(root, created)}")
        elif args.command == "reviewed":
            print(mark_reviewed(root, args.file, args.by, today, args.date, args.next))
        else:
            print(mark_translated(root, args.file))
    except BuildError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        return 1
    return 0
