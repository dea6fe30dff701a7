"""Simulated NDR actions, from shiprocket-after-awb-facts.md §7: `POST /ndr/{awb}/action` with `action`
("fake-attempt" | "re-attempt" | "return") and `comments` required; success is 202
{"status": "Data Updated Sucessfully"} (Shiprocket's spelling). Shiprocket publishes no error examples:
the refusals here (unknown AWB, a parcel not in NDR) use its usual 422/404 envelopes and are recorded as
simulator assumptions."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from sandbox.shiprocket_ops import Reply, error_reply, missing_fields

if TYPE_CHECKING:
    from sandbox.shiprocket import ShiprocketSim

ACTIONS = ("fake-attempt", "re-attempt", "return")
NDR_STATUSES = {21, 40, 46}  # Undelivered, RTO_NDR (both numberings of it)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def ndr_action(sim: ShiprocketSim, awb: str, body: dict[str, Any]) -> Reply:
    errors: dict[str, list[str]] = {}
    if body.get("action") in (None, ""):
        errors["action"] = ["The action field is required."]
    elif body["action"] not in ACTIONS:
        errors["action"] = ["The selected action is invalid."]
    if not str(body.get("comments") or "").strip():
        errors["comments"] = ["The comments field is required."]
    if body.get("deferred_date") and not DATE.match(str(body["deferred_date"])):
        errors["deferred_date"] = ["The deferred date does not match the format Y-m-d."]
    if body.get("action") == "fake-attempt" and not (body.get("proof_audio") or body.get("proof_image")):
        errors["proof_image"] = ["The proof image field is required when action is fake-attempt."]
    if errors:
        return missing_fields(errors)
    with sim.lock:
        shipment = sim.shipment_by_awb(awb)
        if shipment is None:
            return error_reply(404, "Shipment not found for this AWB.")
        if shipment["status_id"] not in NDR_STATUSES:
            return error_reply(422, "NDR action not allowed: the shipment is not in NDR.")
        sim.ndr_actions.append({"awb": str(awb), **{k: body[k] for k in body if k in (
            "action", "comments", "phone", "address1", "address2", "deferred_date", "remarks")}})
    return 202, {"status": "Data Updated Sucessfully"}
