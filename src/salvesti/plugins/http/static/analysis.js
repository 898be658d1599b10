// What the analysis learnt from one call, on the call page: the transcript pane, the timeline
// under the waveform and a compact metrics block with the notice evidence.  Queued or running
// analyses show a note and are polled until they finish; "off" shows nothing.
import { api, ApiError } from "./api.js";
import { h, clear, fmtDuration } from "./dom.js";
import { t, tf, fmtNum, fmtPercent } from "./i18n.js";
import { Transcript, partyName } from "./transcript.js";
import { Timeline } from "./timeline.js";

const POLL_MS = 5000;

export function fmtSeconds(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "–";
  return value < 60 ? `${fmtNum(value, 1)} s` : fmtDuration(value);
}

// "Klient 1:02 · Töötaja 0:48" from {outside, agent}.
function perParty(pair, format) {
  if (!pair) return "–";
  return [["outside", pair.outside], ["agent", pair.agent]]
    .map(([party, value]) => h("span", { class: `pp pp-${party}` }, `${partyName(party)} ${format(value)}`));
}

function metric(label, value, id) {
  return [h("dt", {}, label), h("dd", { id }, value)];
}

export function noticeEvidence(notice) {
  if (!notice) return null;
  if (notice.verified) {
    const text = tf("notice_verified", { at: fmtNum(notice.at_s ?? 0, 1), score: fmtNum(notice.score, 2) });
    return h("p", { class: "evidence ok", id: "notice-evidence" }, h("span", { class: "badge badge-ok" }, "✓"), " ", text);
  }
  if (notice.expected === false) return null;
  return h("p", { class: "evidence warn", id: "notice-evidence" },
    h("span", { class: "badge badge-warn", role: "img", "aria-label": t("notice_evidence") }, "⚠"), " ",
    h("span", { title: fmtNum(notice.score, 2) }, t("notice_not_found")));
}

function shareBar(talk) {
  const agent = Math.min(1, Math.max(0, talk.agent_share ?? 0));
  const outside = 1 - agent;
  const part = (party, share) => {
    const el = h("span", { class: `share share-${party}`, title: `${partyName(party)} ${fmtPercent(share)}` });
    el.style.width = `${share * 100}%`;
    return el;
  };
  return h("div", { class: "share-wrap" },
    h("div", { class: "share-bar", id: "talk-share", role: "img",
      "aria-label": `${t("talk_share")}: ${partyName("outside")} ${fmtPercent(outside)}, ${partyName("agent")} ${fmtPercent(agent)}` },
    part("outside", outside), part("agent", agent)),
    h("div", { class: "share-legend", "aria-hidden": "true" },
      h("span", { class: "key key-left" }, `${partyName("outside")} ${fmtPercent(outside)}`),
      h("span", { class: "key key-right" }, `${partyName("agent")} ${fmtPercent(agent)}`)));
}

function metricsCard(analysis) {
  const talk = analysis.talk;
  const flags = analysis.flags || [];
  const review = flags.includes("card_data")
    ? h("p", { class: "evidence warn", id: "card-data" }, h("span", { class: "badge badge-review" }, t("review")), " ",
      t("flag_card_data"), analysis.redactions ? ` (${analysis.redactions})` : "")
    : null;
  const count = (v) => (v === null || v === undefined ? "–" : String(v));
  return h("section", { class: "card metrics", id: "metrics", "aria-labelledby": "metrics-title" },
    h("h2", { id: "metrics-title" }, t("analysis")),
    noticeEvidence(analysis.notice),
    review,
    talk ? [
      h("h3", {}, t("talk_share")),
      shareBar(talk),
      h("dl", { class: "facts metric-list" },
        metric(t("talk_time"), perParty({ outside: talk.outside_s, agent: talk.agent_s }, fmtSeconds)),
        metric(t("turns"), count(talk.turns), "m-turns"),
        metric(t("longest_monologue"), perParty(talk.longest_monologue_s, fmtSeconds)),
        metric(t("interruptions"), perParty(talk.interruptions, count)),
        metric(t("response_latency"), perParty(talk.response_latency_s, fmtSeconds)),
        metric(t("question_rate"), fmtNum(talk.question_rate, 1), "m-questions"),
        metric(t("silence"), `${fmtSeconds(talk.silence_s)} (${t("longest_silence").toLowerCase()} ${fmtSeconds(talk.longest_silence_s)})`),
        metric(t("overlap"), fmtSeconds(talk.overlap_s))),
    ] : null);
}

// Fill the call page's slots; returns a cleanup function.
export function mountAnalysis({ call, player, layout, side }) {
  let timer = null;
  let stopped = false;
  const note = h("p", { class: "analysis-status muted", id: "analysis-status", role: "status" });

  async function load() {
    let analysis;
    try {
      analysis = await api(`/api/calls/${encodeURIComponent(call.id)}/analysis`);
    } catch (err) {
      // No analysis route (older server) or a transient error: the call page works without it.
      if (!(err instanceof ApiError) || err.status >= 500) schedule();
      return;
    }
    if (stopped) return;
    show(analysis);
  }

  function schedule() {
    if (!stopped) timer = setTimeout(load, POLL_MS);
  }

  function show(analysis) {
    clear(side);
    const status = analysis.status;
    if (status === "queued" || status === "running") {
      note.textContent = t(status === "queued" ? "analysis_queued" : "analysis_running");
      note.className = "analysis-status muted";
      side.append(note);
      schedule();
      return;
    }
    if (status === "failed") {
      note.textContent = `${t("analysis_failed")}${analysis.error ? `: ${analysis.error}` : ""}`;
      note.className = "analysis-status error";
      side.append(note);
      return;
    }
    if (status !== "done") return;
    const transcript = new Transcript(analysis, player);
    if (player) {
      const timeline = new Timeline(analysis, player, call.recording && call.recording.duration_s);
      player.attach(timeline.el);
    }
    side.append(metricsCard(analysis));
    layout.append(transcript.el);
    layout.classList.add("with-transcript");
    if (player) transcript.update(player.currentTime);
  }

  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
