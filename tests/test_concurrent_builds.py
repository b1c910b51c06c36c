"""Two builds at once in one process (two previews, a program using the generator from
threads): each gets its own pages, and neither waits forever on the other's workers."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from robustness import REPO, make_small_site

_DRIVER = """
import sys, threading
from pathlib import Path
sys.path.insert(0, {repo!r})
from guidesite import parallel
from guidesite.pipeline import BuildOptions, build
parallel.MIN_ITEMS_PER_WORKER = 1  # worker processes even for these small sites
results = {{}}

def run(root):
    try:
        build(BuildOptions(root=root, out_dir=root / "site", cache=False))
        results[root.name] = "built"
    except BaseException as exc:
        results[root.name] = repr(exc)

for _ in range(3):
    threads = [threading.Thread(target=run, args=(Path(p),)) for p in {roots!r}]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(sorted(results.items()), flush=True)
"""


def test_two_builds_in_one_process_keep_apart(tmp_path: Path) -> None:
    one = make_small_site(tmp_path / "one")
    two = make_small_site(tmp_path / "two")
    config = two / "site.yaml"
    config.write_text(config.read_text("utf-8").replace("title: ", "title: Second site ", 1), "utf-8")
    driver = _DRIVER.format(repo=str(REPO), roots=[str(one), str(two)])
    done = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[('one', 'built'), ('two', 'built')]"] * 3
    pages = list((one / "site").rglob("*.html"))
    assert pages and not [p for p in pages if "Second site" in p.read_text("utf-8")]
