// The call's timeline under the waveform: per party a strip of when they spoke (the analysis's
// speech segments) and the tracker hits as markers; clicking a strip or a marker seeks.
// Segments are SVG rects in seconds (the viewBox is the call's length), so nothing is redrawn
// when the length becomes known; markers are buttons, reachable with the keyboard.
import { h, svg, fmtClock } from "./dom.js";
import { t, tf } from "./i18n.js";
import { partyName } from "./transcript.js";

const PARTIES = ["outside", "agent"];

export class Timeline {
  constructor(analysis, player, fallbackDuration) {
    this.player = player;
    this.speech = analysis.speech || {};
    this.trackers = analysis.trackers || [];
    const ends = [fallbackDuration || 0];
    for (const party of PARTIES) for (const [, end] of this.speech[party] || []) ends.push(end);
    for (const hit of this.trackers) ends.push(hit.at_s);
    this.minDuration = Math.max(...ends);
    this.duration = 0;
    this.markers = [];
    this.strips = PARTIES.map((party) => this.strip(party));
    this.head = h("div", { class: "tl-head", "aria-hidden": "true" });
    this.el = h("div", { class: "timeline", id: "timeline", role: "group", "aria-label": t("timeline") }, this.strips.map((s) => s.el), this.head);
    this.layout(player ? player.duration : 0);
    if (player) player.onTime((time, duration) => this.update(time, duration));
  }

  strip(party) {
    const segments = this.speech[party] || [];
    const shape = svg("svg", { class: "tl-speech", preserveAspectRatio: "none", viewBox: "0 0 1 1", "aria-hidden": "true", focusable: "false" },
      segments.map(([start, end]) => svg("rect", { x: start, y: 0, width: Math.max(0, end - start), height: 1 })));
    const el = h("div", { class: `tl-strip tl-${party}`, dataset: { party }, title: partyName(party),
      onclick: (ev) => {
        if (ev.target.closest(".tl-marker")) return;
        const rect = el.getBoundingClientRect();
        if (this.duration && rect.width) this.player.seek(((ev.clientX - rect.left) / rect.width) * this.duration);
      } },
    shape,
    h("span", { class: "tl-label" }, partyName(party)));
    for (const hit of this.trackers.filter((x) => x.channel === party)) {
      const marker = h("button", { type: "button", class: "tl-marker", title: hit.id, dataset: { at: hit.at_s, tracker: hit.id },
        "aria-label": `${hit.id}: ${tf("seek_to", { at: fmtClock(hit.at_s) })}`,
        onclick: () => this.player.playFrom(hit.at_s) });
      this.markers.push(marker);
      el.append(marker);
    }
    return { el, shape };
  }

  layout(duration) {
    const d = Math.max(duration || 0, this.minDuration, 0.001);
    if (Math.abs(d - this.duration) < 1e-6) return;
    this.duration = d;
    for (const { shape } of this.strips) shape.setAttribute("viewBox", `0 0 ${d} 1`);
    for (const marker of this.markers) marker.style.left = `${(Number(marker.dataset.at) / d) * 100}%`;
  }

  update(time, duration) {
    this.layout(duration);
    this.head.style.left = `${Math.min(100, (time / this.duration) * 100)}%`;
  }
}
