"""``python -m hubasync``: the ``hubasync`` command line (needs the ``[cli]`` extra)."""

from __future__ import annotations

from hubasync.cli import main

if __name__ == "__main__":
    main()
