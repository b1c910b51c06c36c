#!/usr/bin/env python3
"""Build the guide: `python build.py --help` lists the commands."""
import os
import sys
from pathlib import Path


def _in_project_python() -> None:
    """Run again with the project's .venv when started by a Python without its packages.

    An editor types `python build.py …` in a fresh shell, where `python` is the system's:
    the packages that scripts/setup.sh installed are in .venv/ only.
    """
    venv = Path(__file__).resolve().parent / ".venv"
    python = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve() or not python.is_file():
        raise SystemExit("build.py: the project's Python packages are missing: set them up with: bash scripts/setup.sh")
    sys.stdout.flush()
    os.execv(python, [str(python), *sys.argv])


try:
    from guidesite.cli import main
except KeyboardInterrupt:  # Ctrl+C while the modules load: stop as quietly as later on
    sys.exit(130)
except ModuleNotFoundError as exc:
    if exc.name == "guidesite" or (exc.name or "").startswith("guidesite."):
        raise
    _in_project_python()

if __name__ == "__main__":
    sys.exit(main())
