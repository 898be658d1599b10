"""``GET /api/insights``: what goes with won calls, over analysed calls that have an outcome.

Aggregates only, never per employee: the Estonian Data Protection Inspectorate does not allow
call recordings to be used to monitor individual staff, so nothing here groups by extension
or user.  The outcome is read from the call at query time, so an outcome set after the
analysis finished counts at once.  Phrase scores are smoothed log-odds with a minimum count
(:func:`salvesti.core.analysis.phrases.rank_phrases`); counts are always returned with them so
that nobody over-reads three calls.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from typing import Any

from salvesti.core.analysis.phrases import rank_phrases
from salvesti.core.analysis.store import TRACKER_PREFIX
from salvesti.core.components import CallQuery, CallStore

OUTCOMES = ("won", "lost", "follow_up")
NOTE = (
    "Aggregates over analysed calls with an outcome; counts are calls. A phrase is shown when it "
    "occurs in at least {min_calls} won or lost calls. No per-employee figures: recordings may not "
    "be used to monitor individual staff."
)


def _mean(values: list[float | None]) -> float | None:
    clean = [float(v) for v in values if v is not None]
    return round(statistics.fmean(clean), 3) if clean else None


def _talk_summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    talks = [r.get("talk") or {} for r in results]
    return {
        "calls": len(results),
        "agent_share": _mean([t.get("agent_share") for t in talks]),
        "agent_s": _mean([t.get("agent_s") for t in talks]),
        "outside_s": _mean([t.get("outside_s") for t in talks]),
        "longest_monologue_agent_s": _mean(
            [(t.get("longest_monologue_s") or {}).get("agent") for t in talks]
        ),
        "interruptions_agent": _mean([(t.get("interruptions") or {}).get("agent") for t in talks]),
        "question_rate": _mean([t.get("question_rate") for t in talks]),
        "response_latency_agent_s": _mean([(t.get("response_latency_s") or {}).get("agent") for t in talks]),
    }


async def insights(
    store: CallStore,
    *,
    since: datetime | None,
    until: datetime | None,
    line: str | None,
    direction: str | None,
    min_calls: int,
) -> dict[str, Any]:
    query = CallQuery(since=since, until=until, line=line, direction=direction, limit=0)
    rows = [r for r in await store.analysis.analysed_with_outcome(query) if r.outcome in OUTCOMES]
    outcomes = dict.fromkeys(OUTCOMES, 0)
    by_outcome: dict[str, list[dict[str, Any]]] = {o: [] for o in OUTCOMES}
    weeks: dict[str, dict[str, int]] = {}
    for row in rows:
        outcomes[row.outcome] += 1
        by_outcome[row.outcome].append(row.result)
        year, week, _ = row.started_at.astimezone(UTC).isocalendar()
        weeks.setdefault(f"{year}-W{week:02d}", dict.fromkeys(OUTCOMES, 0))[row.outcome] += 1
    ids = [r.call_id for r in rows]
    terms = await store.analysis.terms_of(ids)
    outcome_of = {r.call_id: r.outcome for r in rows}
    phrase_calls = [
        (outcome_of[c], {t for t in ts if not t.startswith(TRACKER_PREFIX)}) for c, ts in terms.items()
    ]
    tracker_calls = [
        (outcome_of[c], {t[len(TRACKER_PREFIX) :] for t in ts if t.startswith(TRACKER_PREFIX)})
        for c, ts in terms.items()
    ]
    phrases = [p.to_json() for p in rank_phrases(phrase_calls, min_calls=min_calls, limit=40)]
    trackers = []
    for stat in rank_phrases(tracker_calls, min_calls=1, limit=100):
        item = stat.to_json()
        item["id"] = item.pop("phrase")
        trackers.append(item)
    return {
        "calls": sum(outcomes.values()),
        "analysed_calls": len(ids),
        "outcomes": outcomes,
        "by_week": [{"week": k, **v} for k, v in sorted(weeks.items())],
        "talk_by_outcome": {o: _talk_summary(by_outcome[o]) for o in OUTCOMES},
        "phrases": phrases,
        "trackers": trackers,
        "min_calls": min_calls,
        "note": NOTE.format(min_calls=min_calls),
    }
