"""`python -m tools.topics plan|apply|wait` (see `tools.topics.command`)."""

from __future__ import annotations

import sys

from tools.topics.command import main

if __name__ == "__main__":
    sys.exit(main())
