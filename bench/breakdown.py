"""Where a cold build's time goes, part by part, beside the same parts of the floor.

    .venv/bin/python bench/breakdown.py --n 2500

Builds the generated corpus (bench/corpus.py) cold in this process, with timers wrapped
around the generator's steps, then runs the floor (bench/floor.py) the same way. It prints
the CPU time each part takes in the worker processes (summed over them) and the wall time
of each step in the main process. The timers cost a little themselves: run.py gives the
figures to quote, this tells what they are made of.
"""
from __future__ import annotations

import argparse
import collections
import functools
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import floor  # noqa: E402
from markdown_it import MarkdownIt  # noqa: E402
from run import prepare  # noqa: E402

from guidesite import markdown, parallel, pipeline, render, templates  # noqa: E402
from guidesite.cache import BuildCache, sources  # noqa: E402
from guidesite.cache.steps import CachedSteps  # noqa: E402

_cpu: collections.Counter[str] = collections.Counter()  # part -> CPU seconds, in this process


def _timed(owner: Any, name: str, part: str) -> None:
    """Wrap owner.name so that its CPU time is added to `part` (calls inside it count once)."""
    function = getattr(owner, name)

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            _cpu[part] += time.process_time() - started

    setattr(owner, name, timed)


def _reporting(owner: Any, name: str, folder: Path) -> None:
    """Wrap a worker's task so that the worker leaves its counters in folder after each task:
    forked pool workers end without running exit handlers."""
    function = getattr(owner, name)

    @functools.wraps(function)
    def task(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        (folder / str(os.getpid())).write_text(json.dumps(_cpu))
        return result

    setattr(owner, name, task)


def _collected(folder: Path) -> collections.Counter[str]:
    total: collections.Counter[str] = collections.Counter()
    for report in folder.iterdir():
        total.update(json.loads(report.read_text()))
    return total


def _steps() -> dict[str, float]:
    """Wrap the pipeline's steps, as pipeline.build calls them, to time them by the wall clock."""
    walls: dict[str, float] = collections.defaultdict(float)
    for owner, name in ((pipeline, "load_pages"), (pipeline, "compile_catalogs"), (CachedSteps, "render"),
                        (CachedSteps, "check_links"), (CachedSteps, "search"), (CachedSteps, "write")):
        function = getattr(owner, name)

        def step(*args: Any, _function: Callable[..., Any] = function, _name: str = name, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _function(*args, **kwargs)
            finally:
                walls[_name] += time.perf_counter() - started

        setattr(owner, name, step)
    return walls


def build_breakdown(root: Path, reports: Path) -> tuple[collections.Counter[str], dict[str, float], float]:
    _timed(sources, "_read_source", "front matter")
    _timed(render._Job, "render", "page, in all")
    _timed(markdown.Markdown, "parse", "Markdown")
    _timed(markdown.Markdown, "render", "Markdown")
    _timed(templates.Templates, "page", "templates")
    _timed(render._Job, "check", "checks of the page's HTML")
    _timed(BuildCache, "write_object", "writing the HTML")
    _reporting(parallel, "_run_chunk", reports)
    walls = _steps()
    shutil.rmtree(root / ".cache", ignore_errors=True)
    shutil.rmtree(root / "site", ignore_errors=True)
    os.sync()
    started = time.perf_counter()
    pipeline.build(pipeline.BuildOptions(root=root, out_dir=root / "site"))
    total = time.perf_counter() - started
    return _collected(reports), walls, total


def floor_breakdown(root: Path, reports: Path) -> tuple[collections.Counter[str], float]:
    out = root / "floor-out"
    shutil.rmtree(out, ignore_errors=True)
    _timed(floor.yaml, "load", "front matter")
    _timed(MarkdownIt, "render", "Markdown")
    _timed(floor, "_render", "all")
    _reporting(floor, "_render", reports)
    os.sync()
    started = time.perf_counter()
    floor.floor(root, out)
    total = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    return _collected(reports), total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Where a cold build's time goes, beside the floor's.")
    parser.add_argument("--n", type=int, default=2500, help="articles per language (default 2500)")
    parser.add_argument("--dir", type=Path, default=BENCH / "corpus", help="where the corpora are generated")
    args = parser.parse_args(argv)
    root = prepare(args.n, args.dir)
    with tempfile.TemporaryDirectory() as tmp:
        build_reports, floor_reports = Path(tmp) / "build", Path(tmp) / "floor"
        build_reports.mkdir()
        floor_reports.mkdir()
        # The floor first, in a process of its own, so that neither run's timers touch the other.
        pid = os.fork()
        if pid == 0:
            floor_cpu, floor_wall = floor_breakdown(root, floor_reports)
            (floor_reports / "summary").write_text(json.dumps([floor_cpu, floor_wall]))
            os._exit(0)
        os.waitpid(pid, 0)
        floor_cpu, floor_wall = json.loads((floor_reports / "summary").read_text())
        build_cpu, walls, build_wall = build_breakdown(root, build_reports)

    if "page, in all" not in build_cpu:
        raise SystemExit(f"N = {args.n} is too few pages for worker processes: use --n 40 or more")
    page = build_cpu.pop("page, in all")
    parts = ["Markdown", "templates", "checks of the page's HTML", "writing the HTML"]
    build_cpu["rest of each page"] = page - sum(build_cpu[p] for p in parts)
    # The floor's pages: what is neither YAML nor Markdown is reading and writing the files.
    floor_parts = {"Markdown": floor_cpu["Markdown"], "front matter": floor_cpu["front matter"]}
    floor_parts["writing the HTML"] = floor_cpu["all"] - sum(floor_parts.values())
    print(f"N = {args.n}: CPU seconds in the worker processes, summed over them")
    print("| part | build | floor |")
    print("|---|---:|---:|")
    for part in [*parts, "rest of each page", "front matter"]:
        floor_figure = f"{floor_parts[part]:.2f}" if part in floor_parts else "–"
        print(f"| {part} | {build_cpu[part]:.2f} | {floor_figure} |")
    print(f"| all | {sum(build_cpu.values()):.2f} | {floor_cpu['all']:.2f} |")
    print("(The floor's writing includes reading each file; the build reads it for its front matter,"
          " and again, with its digest checked, for the rest of its page.)")
    print("\nwall seconds in the main process")
    print("| step | build |")
    print("|---|---:|")
    for name, seconds in walls.items():
        print(f"| {name} | {seconds:.2f} |")
    print(f"| whole build (floor: {floor_wall:.2f}) | {build_wall:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
