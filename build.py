#!/usr/bin/env python3
"""Build the guide: `python build.py --help` lists the commands."""
import sys

from guidesite.cli import main

if __name__ == "__main__":
    sys.exit(main())
