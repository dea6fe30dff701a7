"""Prints the fault suite's ledger after the run (docs/resilience.md quotes it)."""

from __future__ import annotations

from typing import Any

from tests.faults.ledger import FAULTS, KILLED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    cases = [r for r in terminalreporter.stats.get("passed", []) if "tests/faults/" in r.nodeid]
    if not cases and not FAULTS:
        return
    terminalreporter.section("fault suite")
    terminalreporter.write_line(f"cases passed: {len(cases)}; processes killed with SIGKILL: {len(KILLED)}; "
                                f"faults injected: {sum(FAULTS.values())}")
    for kind, n in sorted(FAULTS.items()):
        terminalreporter.write_line(f"  {n:5d}  {kind}")
