"""What the control API's actions do inside the supervisor.

Kept apart from the HTTP layer (`control_api.py`) so the RBAC and request handling are tested
without processes, and the supervisor's actions are plain method calls: halt/resume/params/
limits become `Command`s to the engine; kill also sends `CancelAll` to every gateway at once.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.messages import Command

if TYPE_CHECKING:
    from pipeline.supervisor import Supervisor


class SupervisorActions:
    def __init__(self, sup: "Supervisor") -> None:
        self.sup = sup

    def status(self) -> list[dict[str, Any]]:
        return self.sup.status.snapshot()

    def metrics(self) -> dict[str, Any]:
        return {"processes": self.sup.status.snapshot(), "halted": self.sup._halted_reason}

    def halt(self, reason: str) -> dict[str, Any]:
        sent = self.sup.send_engine(Command("halt", reason, time.time_ns()))
        return {"sent": sent}

    def resume(self) -> dict[str, Any]:
        return {"sent": self.sup.send_engine(Command("resume", "", time.time_ns()))}

    def kill(self, reason: str) -> dict[str, Any]:
        sent = self.sup.send_engine(Command("kill", reason, time.time_ns()))
        self.sup.cancel_everywhere(f"kill: {reason}")
        self.sup.audit_event("risk_state", "supervisor", {"state": "HALTED", "reason": reason})
        return {"sent": sent, "cancel_all": list(self.sup.config.exchanges.enabled())}

    def set_params(self, params: dict[str, float]) -> dict[str, Any]:
        return {"sent": self.sup.send_engine(Command("params", json.dumps(params), time.time_ns()))}

    def set_limits(self, limits: dict[str, float]) -> dict[str, Any]:
        return {"sent": self.sup.send_engine(Command("limits", json.dumps(limits), time.time_ns()))}

    def keys(self) -> list[str]:
        path = Path(self.sup.config.system.data_dir) / "keystore.json"
        if not path.exists():
            return []
        try:
            return sorted(json.loads(path.read_text()).get("entries", {}).keys() - {"__check__"})
        except (ValueError, AttributeError):
            return []


class SupervisorMetrics:
    """`pipeline.prometheus.MetricsSource` over this supervisor's status table."""

    def __init__(self, sup: "Supervisor") -> None:
        self.sup = sup

    def processes(self) -> list[dict[str, Any]]:
        from pipeline.cli import status_rows

        return [r for r in status_rows() if r["supervisor"] == self.sup.pid]

    def engine_state(self) -> dict[str, Any] | None:
        """The engine's latest live-state document (shared memory), or None."""
        handles = self.sup.handles
        seg = handles.extra.get("live_state_segment") if handles is not None else None
        if not seg:
            return None
        from engine.live_state import read_live_state
        return read_live_state(seg)

    def histograms(self) -> list[Any]:
        """Tick-to-order and order-to-ack histograms from the engine's live state."""
        import numpy as np

        from pipeline.histogram import Histogram

        state = self.engine_state()
        if not state:
            return []
        return [(name, {"process": "engine"}, Histogram(np.array(arr, dtype=np.int64)))
                for name, arr in state.get("histograms_ns", {}).items()]
