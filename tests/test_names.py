"""One class per name across the package (there were two ManualClocks, LoginRequests, Faults)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import hubasync

#: FakeHub's internal state records share names with the public models they serve; they are
#: private to hubasync/testing/_repo_model.py / _org_model.py and never exported. Left as
#: they are.
KNOWN = {
    "Image": {"models/images.py", "testing/_repo_model.py"},
    "Invite": {"models/invites.py", "testing/_org_model.py"},
    "Repository": {"models/repositories.py", "testing/_repo_model.py"},
    "Tag": {"models/repositories.py", "testing/_repo_model.py"},
}


def test_no_two_classes_in_hubasync_share_a_name() -> None:
    root = Path(hubasync.__file__).parent
    where: defaultdict[str, set[str]] = defaultdict(set)
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                where[node.name].add(path.relative_to(root).as_posix())
    clashes = {name: files for name, files in where.items() if len(files) > 1}
    assert clashes == {name: files for name, files in KNOWN.items() if name in clashes}
    assert set(clashes) <= set(KNOWN)
