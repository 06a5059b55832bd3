"""hubasync.testing: FakeHub, an in-process Docker Hub for tests and benchmarks.

::

    from hubasync.testing import FakeHub, FakeImage, digest_of

    async with FakeHub() as server:
        server.add_user("alice", "s3cret")
        server.add_repository("alice", "app", images=[FakeImage(digest_of("1"), tags=["latest"])])
        async with HubClient(username="alice", secret="s3cret", base_url=server.url) as hub:
            ...

The pytest plugin (``hubasync.testing.pytest_plugin``, registered as a ``pytest11`` entry
point) provides a ``fake_hub`` fixture yielding a started FakeHub.
"""

from __future__ import annotations

from .._clock import ManualClock
from ._fakehub import FakeHub
from ._faults import FAULT_KINDS, Fault, FaultKind, FaultPlan
from ._generate import GeneratedData
from ._generate_orgs import PlantedAccess
from ._http import RequestRecord
from ._limits import RETRY_HINTS, RetryHint
from ._state import FakeImage, IssuedToken, digest_of
from ._switches import disable_backoff

__all__ = [
    "FAULT_KINDS",
    "RETRY_HINTS",
    "FakeHub",
    "FakeImage",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "GeneratedData",
    "IssuedToken",
    "ManualClock",
    "PlantedAccess",
    "RequestRecord",
    "RetryHint",
    "digest_of",
    "disable_backoff",
]
