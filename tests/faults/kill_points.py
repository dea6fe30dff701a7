"""Where to kill a worker: the upstream calls each fulfilment step makes, recorded from a reference
order driven step by step through `STEPS`, so steps added later are covered without editing the tests.
A kill point is one call of one step, matched at the simulator by method, path pattern and how many
earlier calls of the flow share that pattern."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from app.fulfilment.handler import accept_salesorder
from app.fulfilment.service import STEPS
from app.fulfilment.state import Step, next_step
from app.main import create_app
from app.services import Services
from sandbox.faults import Fault
from tests.harness import api_client
from tests.spine_helpers import confirmed_order, deliver, inbox, shipment

_ID = re.compile(r"\d{5,}")


@dataclass(frozen=True)
class Call:
    sim: str  # "shiprocket" | "zoho"
    method: str
    pattern: str  # the path with ids as `*`


@dataclass
class Trace:
    calls: list[tuple[str, Call]]  # (step, call) in the order the flow makes them
    final_state: str

    def steps(self) -> list[str]:
        return list(dict.fromkeys(step for step, _ in self.calls))

    def point(self, step: str, which: str) -> tuple[Call, int]:
        """The first or last call of `step`, and how many calls before it share its pattern."""
        indexes = [i for i, (s, _) in enumerate(self.calls) if s == step]
        index = indexes[0] if which == "first" else indexes[-1]
        call = self.calls[index][1]
        return call, sum(1 for _, c in self.calls[:index] if c == call)


def new_calls(sims: dict, marks: dict[str, int]) -> list[Call]:
    """The calls each simulator received since `marks` (moved forward), token requests left out: a
    kill point must be a call the job makes every time, and tokens are shared and usually warm."""
    out = []
    for name, sim in sims.items():
        for method, path in sim.calls[marks[name]:]:
            if path not in ("/oauth/v2/token", "/auth/login"):
                out.append(Call(name, method, _ID.sub("*", path)))
        marks[name] = len(sim.calls)
    return out


async def record_trace(svc: Services, shiprocket_sim, zoho_sim) -> Trace:
    """Run one order through intake and every step in this process, noting each step's calls."""
    sims = {"shiprocket": shiprocket_sim, "zoho": zoho_sim}
    so_id = confirmed_order(zoho_sim)
    async with api_client(create_app(svc.settings, svc)) as client:
        await deliver(client, zoho_sim, so_id)
    await (await svc.queue.pool()).flushdb()  # driven here, not by a worker
    marks = {name: len(sim.calls) for name, sim in sims.items()}
    event = (await inbox(svc))[-1]
    await accept_salesorder(svc, event)
    calls = [("intake", c) for c in new_calls(sims, marks)]
    for _ in range(20):
        sh = await shipment(svc, so_id)
        assert sh is not None
        step = next_step(sh, datetime.now(UTC))
        if step not in STEPS:
            break
        await STEPS[step](svc, sh)
        calls += [(str(step), c) for c in new_calls(sims, marks)]
    sh = await shipment(svc, so_id)
    assert sh is not None and next_step(sh, datetime.now(UTC)) in (Step.done,)
    return Trace(calls, sh.state)


def set_trap(sims: dict, call: Call, skip: int, *, served: bool) -> Fault:
    return sims[call.sim].faults.trap(call.pattern, method=call.method, skip=skip, served=served)
