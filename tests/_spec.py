"""Where the tests find Hub's OpenAPI specs: the copies vendored in ``tests/spec/``.

They are in the repository (provenance and checksums in ``tests/spec/README.md``), so a fresh
clone runs every contract test; nothing is skipped for a missing file.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["LATEST_SPEC", "SEED_SPEC", "SPEC_DIR"]

SPEC_DIR = Path(__file__).resolve().parent / "spec"
#: The 16-operation spec the project was founded on (the contract).
SEED_SPEC = SPEC_DIR / "hub-api-seed.yaml"
#: Hub's current published spec (54 operations).
LATEST_SPEC = SPEC_DIR / "hub-api-latest.yaml"
