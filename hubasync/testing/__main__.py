"""``python -m hubasync.testing``: serve a seeded FakeHub until Ctrl-C (see ``--help``)."""

from __future__ import annotations

import sys

from hubasync.testing._serve import main

if __name__ == "__main__":
    sys.exit(main())
