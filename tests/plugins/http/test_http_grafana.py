"""docs/grafana-salvesti.json: valid dashboard JSON whose every query uses only metric names
(and grouping labels) that a live hub's ``/metrics`` really exposes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import aiohttp
from http_env import make_call, start_env

from salvesti.core import bus as events
from salvesti.core.health import RtpCounts
from salvesti.core.recording import CallRecording

DASHBOARD = Path(__file__).resolve().parents[3] / "docs" / "grafana-salvesti.json"
#: PromQL words that are not metric names.
KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
}
_IDENT = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*")
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, labels, ranges, strings left out)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for m in _IDENT.finditer(text):
        if m.group() in KEYWORDS or text[m.end() :].lstrip().startswith("("):
            continue
        names.add(m.group())
    return names


def queries(dashboard: dict) -> Iterator[str]:
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield target["expr"]
        for inner in panel.get("panels", []):  # collapsed rows hold their panels
            yield from (t["expr"] for t in inner.get("targets", []))


def exposed(text: str) -> tuple[set[str], dict[str, set[str]]]:
    """Names declared or sampled in Prometheus text, and the labels each sampled name carries."""
    names: set[str] = set()
    labels: dict[str, set[str]] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE ") or line.startswith("# HELP "):
            names.add(line.split()[2])
        elif line and not line.startswith("#"):
            name = _IDENT.match(line).group()  # type: ignore[union-attr]
            names.add(name)
            labels.setdefault(name, set()).update(re.findall(r'([A-Za-z_]\w*)="', line.split("} ")[0]))
    return names, labels


def test_metric_name_extraction() -> None:
    expr = 'sum by (channel) (increase(a_total{x="b{c}"}[1h])) / clamp_min(b_total + c, 1) and on (z) d'
    assert metric_names(expr) == {"a_total", "b_total", "c", "d"}


async def test_every_query_uses_what_metrics_exposes(tmp_path: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["panels"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    env = await start_env(tmp_path, metrics_from=["127.0.0.1"])
    try:
        hub = env.hub
        call = make_call(Path(hub.data_dir) / "recordings" / "g", 21, ext="101", number="+3725559000")
        rtp = {"outside": RtpCounts(480, 120), "heard": RtpCounts(600, 0)}
        await hub.call_ended(call, CallRecording(hub, call, hub.default_sink()), rtp=rtp)
        hub.bus.publish(events.RECORDING_FAILED, {"call_id": call.id, "error": "disk full"})
        async with aiohttp.ClientSession(env.url) as http, http.get("/metrics") as r:
            assert r.status == 200
            names, labels = exposed(await r.text())
    finally:
        await hub.async_stop(call_timeout=0.1)
    used: set[str] = set()
    for expr in queries(dashboard):
        found = metric_names(expr)
        assert found, f"no metric in {expr!r}"
        assert found <= names, f"{sorted(found - names)} not in /metrics (query {expr!r})"
        used |= found
        for group in _GROUPING.findall(expr):
            for label in (g.strip() for g in group.split(",")):
                carriers = [n for n in found if n in labels]
                assert not carriers or any(label in labels[n] for n in carriers), (label, expr)
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            metric = re.match(r"label_values\((\w+),", variable["definition"]).group(1)  # type: ignore[union-attr]
            assert metric in names
    # The contract's metrics are all on the dashboard.
    contract = {"salvesti_calls_total", "salvesti_active_calls", "salvesti_recordings_failed_total"}
    assert contract | {"salvesti_rtp_packets_lost_total"} <= used
