"""The vendored specs are the unmodified copies tests/spec/README.md names (by sha256)."""

from __future__ import annotations

import hashlib
import re

from ._spec import LATEST_SPEC, SEED_SPEC, SPEC_DIR


def _recorded() -> dict[str, str]:
    text = (SPEC_DIR / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"^\| `([\w.-]+\.yaml)` \|.*\| `([0-9a-f]{64})` \|$", text, re.M))


def test_every_vendored_spec_matches_its_recorded_checksum() -> None:
    recorded = _recorded()
    on_disk = {p.name for p in SPEC_DIR.glob("*.yaml")}
    assert set(recorded) == on_disk == {SEED_SPEC.name, LATEST_SPEC.name}
    for name, digest in recorded.items():
        assert hashlib.sha256((SPEC_DIR / name).read_bytes()).hexdigest() == digest, name
