// A call's transcript beside the player, like a chat: the customer (left channel, "outside") on
// the left, the agent (right channel) on the right.  Choosing a line plays the call from there;
// while it plays the line being spoken is marked (class "current", aria-current) and kept in
// view by scrolling the pane only, never the page.
import { h, fmtClock } from "./dom.js";
import { t, tf } from "./i18n.js";

const REDACTED = "[redacted]";

export function partyName(channel) {
  return channel === "agent" ? t("party_agent") : t("party_outside");
}

// Text with every "[redacted]" shown as a chip (DOM nodes, never markup from the text).
export function textWithChips(text) {
  const parts = String(text || "").split(REDACTED);
  const out = [];
  parts.forEach((part, i) => {
    if (i > 0) out.push(h("span", { class: "redacted", title: t("redacted_title") }, t("redacted")));
    if (part) out.push(part);
  });
  return out;
}

// The tracker hits that fall in a line (same channel, inside its span).
function hitsIn(line, trackers) {
  return trackers.filter((hit) => hit.channel === line.channel && hit.at_s >= line.start_s - 0.05 && hit.at_s <= line.end_s + 0.05);
}

export class Transcript {
  constructor(analysis, player) {
    this.player = player;
    this.lines = (analysis.transcript || []).slice().sort((a, b) => a.start_s - b.start_s);
    this.current = -1;
    const trackers = analysis.trackers || [];
    this.items = this.lines.map((line, index) => {
      const hits = hitsIn(line, trackers);
      const item = h("li", { class: `tline tline-${line.channel === "agent" ? "agent" : "outside"}`, dataset: { start: line.start_s, index } },
        h("button", { type: "button", class: "tline-body", title: tf("seek_to", { at: fmtClock(line.start_s) }),
          onclick: () => this.choose(index) },
          h("span", { class: "tline-head" },
            h("span", { class: "tline-party" }, partyName(line.channel)),
            " ",
            h("time", { class: "tline-time" }, fmtClock(line.start_s))),
          h("span", { class: "tline-text" }, textWithChips(line.text)),
          hits.length ? h("span", { class: "tline-hits" }, hits.map((hit) => h("span", { class: "hit-chip", title: hit.phrase || hit.id }, hit.id))) : null));
      return item;
    });
    this.list = h("ol", { class: "transcript", id: "transcript", "aria-label": t("transcript"), tabindex: "-1" }, this.items);
    this.el = h("section", { class: "card transcript-card", "aria-labelledby": "transcript-title" },
      h("h2", { id: "transcript-title" }, t("transcript")),
      this.lines.length ? this.list : h("p", { class: "muted" }, t("no_transcript")));
    if (player) player.onTime((time) => this.update(time));
  }

  choose(index) {
    const line = this.lines[index];
    if (!line || !this.player) return;
    this.player.playFrom(line.start_s);
    this.update(line.start_s);
  }

  // The line being spoken at ``time``: of those whose span holds it, the one that began last.
  indexAt(time) {
    let found = -1;
    for (let i = 0; i < this.lines.length; i++) {
      const line = this.lines[i];
      if (line.start_s > time + 0.01) break;
      if (time < line.end_s) found = i;
    }
    return found;
  }

  update(time) {
    const index = this.indexAt(time);
    if (index === this.current) return;
    const before = this.items[this.current];
    if (before) {
      before.classList.remove("current");
      before.removeAttribute("aria-current");
    }
    this.current = index;
    const item = this.items[index];
    if (!item) return;
    item.classList.add("current");
    item.setAttribute("aria-current", "true");
    this.reveal(item);
  }

  // Scroll the pane (not the page) so that the current line is in its upper third.
  reveal(item) {
    const pane = this.list;
    if (pane.scrollHeight <= pane.clientHeight) return;
    const top = item.offsetTop;
    const bottom = top + item.offsetHeight;
    if (top >= pane.scrollTop && bottom <= pane.scrollTop + pane.clientHeight) return;
    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    pane.scrollTo({ top: Math.max(0, top - pane.clientHeight / 3), behavior: reduce ? "auto" : "smooth" });
  }
}
