"""The benchmarks still run: a tiny ``quick`` run of each, checked for well-formed results.

Never timing: these tests assert that every benchmark ran to the end and wrote a result
document of the agreed shape, not what the figures are (benchmarks never gate CI).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import benchmarks.__main__ as cli
from benchmarks import BENCHMARKS, load
from benchmarks.__main__ import main
from benchmarks._common import Target, validate_result

#: What each benchmark's ``results`` must hold (keys), so a refactor cannot hollow it out.
EXPECTED_RESULTS: dict[str, set[str]] = {
    "overhead": {"clients", "rounds", "own_cost"},
    "budget": {"hubasync", "naive_tenacity", "allowed_rate_per_s"},
    "pagination": {"expected_items", "by_prefetch"},
    "fanout": {"fan_out_summaries", "audit_namespaces"},
    "audit_today": {"requests", "requests_per_repository", "ratio_to_ideal", "tags", "sources"},
    "memory": {"stream", "to_list", "to_list_extrapolated_growth_bytes"},
    "scaling": {"overhead", "pagination"},
}


#: Per-benchmark facts that hold whatever the machine (no figure is asserted).
EXACTNESS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "pagination": lambda r: all(p["items_exact_in_order"] for p in r["by_prefetch"].values()),
    "memory": lambda r: (
        r["stream"]["in_order"]
        and r["stream"]["events"] == r["stream"]["expected"]
        and r["to_list"]["in_order"]
    ),
    "scaling": lambda r: all(p["exact_in_order"] for p in r["pagination"]),
    "budget": lambda r: r["hubasync"]["failed"] == 0,
    "audit_today": lambda r: (
        r["failed"] == 0
        and r["sources"] == ["tags"]
        and r["tags"] == 20 * 30
        and r["requests"] == r["expected_requests"]
    ),
    "fanout": lambda r: (
        r["fan_out_summaries"]["failed"] == 0 and r["audit_namespaces"]["failed"] == 0
    ),
}


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


def test_every_benchmark_is_covered() -> None:
    assert set(EXPECTED_RESULTS) == set(BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_quick_run_writes_a_well_formed_result(name: str, tmp_path: Path) -> None:
    doc = load(name).run(quick=True, out_dir=tmp_path)

    written = json.loads((tmp_path / f"{name}.json").read_text())
    assert written == doc
    validate_result(written)
    assert written["benchmark"] == name
    assert written["quick"] is True
    assert EXPECTED_RESULTS[name] <= set(written["results"])
    assert written["targets"], "every benchmark publishes at least one target"
    assert all(math.isfinite(n) for n in _numbers(written["results"]))
    assert written["machine"]["nproc"] >= 1
    check = EXACTNESS.get(name)
    if check is not None:
        # Exactness is a property of the client, not a timing: it holds even in smoke runs.
        assert check(written["results"])


def test_cli_lists_and_rejects_unknown_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in BENCHMARKS)
    with pytest.raises(SystemExit) as exc:
        main(["no-such-benchmark"])
    assert exc.value.code == 2


def test_cli_runs_named_benchmarks_and_reports_crashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[tuple[str, bool, Path]] = []

    class Fake:
        DESCRIPTION = "a stand-in"

        def __init__(self, name: str, crash: bool) -> None:
            self.name, self.crash = name, crash

        def run(self, *, quick: bool, out_dir: Path) -> dict[str, Any]:
            calls.append((self.name, quick, out_dir))
            if self.crash:
                raise RuntimeError("boom")
            return {"targets": [{"name": "t", "met": False}]}

    monkeypatch.setattr(cli, "load", lambda name: Fake(name, crash=name == "memory"))
    assert main(["pagination", "--quick", "--out", str(tmp_path)]) == 0
    assert calls == [("pagination", True, tmp_path)]
    assert "pagination: t" in capsys.readouterr().out  # a missed target is reported, not fatal
    assert main(["budget", "memory", "--out", str(tmp_path)]) == 1  # a crash is
    assert [c[0] for c in calls[1:]] == ["budget", "memory"]


@pytest.mark.parametrize(
    "broken",
    [
        {},
        {"benchmark": "x"},
        {
            "benchmark": "x",
            "quick": True,
            "started": "t",
            "duration_s": 1.0,
            "machine": {},
            "params": {},
            "results": {},
            "targets": [],
            "notes": [],
        },
        {
            "benchmark": "x",
            "quick": True,
            "started": "t",
            "duration_s": 1.0,
            "machine": {},
            "params": {},
            "results": {"a": 1},
            "targets": [{"name": "t", "value": 1}],
            "notes": [],
        },
        {
            "benchmark": "x",
            "quick": "yes",
            "started": "t",
            "duration_s": 1.0,
            "machine": {},
            "params": {},
            "results": {"a": 1},
            "targets": [],
            "notes": [],
        },
    ],
)
def test_validate_result_rejects_malformed_documents(broken: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        validate_result(broken)


@pytest.mark.parametrize(
    ("value", "op", "threshold", "met"),
    [
        (1.1, "<=", 1.15, True),
        (1.2, "<=", 1.15, False),
        (0.0, "==", 0.0, True),
        (0.96, ">=", 0.95, True),
        (None, "<=", 1.0, False),
        (float("nan"), ">=", 0.0, False),
    ],
)
def test_target_met(value: float | None, op: str, threshold: float, met: bool) -> None:
    assert Target("t", value, op, threshold).met is met
