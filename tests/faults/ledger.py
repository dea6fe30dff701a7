"""What the fault suite did, counted as it happens and printed at the end of the run
(tests/faults/conftest.py): faults injected by kind, processes killed, cases run."""

from __future__ import annotations

from collections import Counter

FAULTS: Counter[str] = Counter()
KILLED: list[str] = []


def injected(kind: str, n: int = 1) -> None:
    FAULTS[kind] += n
