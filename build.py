#!/usr/bin/env python3
"""Build the guide: `python build.py --help` lists the commands."""
import sys

try:
    from guidesite.cli import main
except KeyboardInterrupt:  # Ctrl+C while the modules load: stop as quietly as later on
    sys.exit(130)

if __name__ == "__main__":
    sys.exit(main())
