"""hubasync.cli: the ``hubasync`` command (extra ``[cli]``: click and rich).

``hubasync audit``, ``access``, ``prune``, ``tokens``, ``repos``, ``tags``, ``members``,
``groups``, ``invites``, ``org-tokens`` and ``demo``; run ``hubasync --help``. The library
never imports this package: click and rich are only needed here, and are imported when the
command runs, so a missing extra gives one clear line instead of a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``hubasync`` command line (the console-script entry point)."""
    try:
        from ._app import cli
    except ImportError as exc:  # click or rich missing
        missing = exc.name or "click/rich"
        print(
            f"error: the hubasync command needs the [cli] extra ({missing} is not installed); "
            "install it with: python -m pip install 'hubasync[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    cli.main(args=list(argv) if argv is not None else None, prog_name="hubasync")
