// The call player: both channels' waveforms on a canvas (peaks from the server), play/pause,
// seek by click, speed, solo left/right channel through the Web Audio API, skip the notice and
// keyboard shortcuts. Left = what the outside party said, right = what they heard.
import { h, fmtDuration } from "./dom.js";
import { t } from "./i18n.js";

// A test call (meta.test_call): the phone is the recorded party, not an outside caller.
const isTest = (call) => Boolean(call.meta && call.meta.test_call);

const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];
const COLORS = { left: "#1f6feb", right: "#e8590c", played: 0.35, axis: "#c9d1d9", head: "#111" };

export class Player {
  constructor(call, noticeEnd) {
    this.call = call;
    this.noticeEnd = noticeEnd;
    this.peaks = null;
    this.graph = null;
    this.channel = "both";
    this.timeListeners = [];
    this.audio = h("audio", { preload: "metadata", src: `/api/calls/${encodeURIComponent(call.id)}/audio`, id: "audio" });
    this.canvas = h("canvas", { class: "wave", id: "wave", height: 160, role: "slider", tabindex: 0, "aria-label": t("play") });
    this.playBtn = h("button", { type: "button", class: "primary play", id: "play", onclick: () => this.toggle() }, t("play"));
    this.clock = h("span", { class: "clock", id: "clock" }, "0:00 / –");
    this.speed = h("select", { id: "speed", "aria-label": t("speed"), onchange: () => this.setSpeed(Number(this.speed.value)) },
      SPEEDS.map((s) => h("option", { value: s, selected: s === 1 }, `${s}×`)));
    this.channelButtons = Object.fromEntries(["both", "left", "right"].map((name) => [name,
      h("button", { type: "button", class: "seg", id: `ch-${name}`, "aria-pressed": String(name === "both"), onclick: () => this.setChannel(name) }, t(name))]));
    this.skipBtn = h("button", { type: "button", id: "skip-notice", onclick: () => this.skipNotice(), hidden: !(noticeEnd > 0) }, t("skip_notice"));
    this.el = h("section", { class: "player card" },
      h("div", { class: "legend" },
        h("span", { class: "key key-left" }, t(isTest(call) ? "channel_left_test" : "channel_left")),
        h("span", { class: "key key-right" }, t(isTest(call) ? "channel_right_test" : "channel_right"))),
      this.canvas,
      h("div", { class: "controls" },
        this.playBtn, this.clock,
        h("label", { class: "speed" }, t("speed"), " ", this.speed),
        h("div", { class: "segmented", role: "group" }, Object.values(this.channelButtons)),
        this.skipBtn),
      h("p", { class: "hint" }, h("kbd", {}, "?"), " ", t("shortcuts"), ": ", t("shortcuts_text")),
      this.audio);
    this.audio.addEventListener("play", () => this.onState());
    this.audio.addEventListener("pause", () => this.onState());
    this.audio.addEventListener("ended", () => this.onState());
    this.audio.addEventListener("timeupdate", () => this.draw());
    this.audio.addEventListener("loadedmetadata", () => this.draw());
    this.canvas.addEventListener("click", (ev) => this.seekToClick(ev));
    this.onKey = (ev) => this.key(ev);
    document.addEventListener("keydown", this.onKey);
    this.onResize = () => this.draw();
    window.addEventListener("resize", this.onResize);
  }

  // -- for the transcript and the timeline -------------------------------------------------------
  get currentTime() {
    return this.audio.currentTime;
  }

  // Called with the position (s) whenever the player redraws: while playing, after a seek.
  onTime(callback) {
    this.timeListeners.push(callback);
  }

  // Shown right under the waveform (the call's timeline).
  attach(el) {
    this.canvas.after(el);
  }

  async play() {
    if (this.audio.paused) await this.toggle();
  }

  // Seek and play: a transcript line or tracker marker was chosen.
  async playFrom(seconds) {
    this.seek(seconds);
    try {
      await this.play();
    } catch (err) {
      // Autoplay refused (no user gesture): the position is still set.
    }
  }

  // Seek once the audio's length is known (a link to a moment, #/calls/ID?t=12.3).
  seekWhenReady(seconds) {
    if (this.audio.readyState >= 1) this.seek(seconds);
    else this.audio.addEventListener("loadedmetadata", () => this.seek(seconds), { once: true });
  }

  async loadPeaks() {
    const width = Math.min(2000, Math.max(200, Math.round((this.canvas.clientWidth || 800) * (window.devicePixelRatio || 1))));
    const res = await fetch(`/api/calls/${encodeURIComponent(this.call.id)}/waveform?points=${width}`, { credentials: "same-origin" });
    if (res.ok) this.peaks = await res.json();
    this.draw();
  }

  get duration() {
    const d = this.audio.duration;
    if (Number.isFinite(d) && d > 0) return d;
    return (this.peaks && this.peaks.duration_s) || (this.call.recording && this.call.recording.duration_s) || 0;
  }

  ensureGraph() {
    // Web Audio graph: splitter -> four gains (L->L, L->R, R->L, R->R) -> merger, so a solo
    // channel is heard in both ears.
    if (this.graph || !window.AudioContext) return;
    const ctx = new AudioContext();
    const source = ctx.createMediaElementSource(this.audio);
    const splitter = ctx.createChannelSplitter(2);
    const merger = ctx.createChannelMerger(2);
    const gains = {};
    for (const [name, from, to] of [["ll", 0, 0], ["lr", 0, 1], ["rl", 1, 0], ["rr", 1, 1]]) {
      const gain = ctx.createGain();
      splitter.connect(gain, from);
      gain.connect(merger, 0, to);
      gains[name] = gain;
    }
    source.connect(splitter);
    merger.connect(ctx.destination);
    this.graph = { ctx, gains };
    this.applyChannel();
  }

  applyChannel() {
    if (!this.graph) return;
    const g = this.graph.gains;
    const set = (ll, lr, rl, rr) => { g.ll.gain.value = ll; g.lr.gain.value = lr; g.rl.gain.value = rl; g.rr.gain.value = rr; };
    if (this.channel === "left") set(1, 1, 0, 0);
    else if (this.channel === "right") set(0, 0, 1, 1);
    else set(1, 0, 0, 1);
  }

  setChannel(name) {
    this.channel = name;
    for (const [key, btn] of Object.entries(this.channelButtons)) btn.setAttribute("aria-pressed", String(key === name));
    this.ensureGraph();
    this.applyChannel();
    this.draw();
  }

  setSpeed(value) {
    const speed = Math.min(2, Math.max(0.5, value));
    this.audio.playbackRate = speed;
    this.speed.value = String(SPEEDS.reduce((a, b) => (Math.abs(b - speed) < Math.abs(a - speed) ? b : a)));
  }

  async toggle() {
    if (this.audio.paused) {
      this.ensureGraph();
      if (this.graph && this.graph.ctx.state === "suspended") await this.graph.ctx.resume();
      await this.audio.play();
    } else {
      this.audio.pause();
    }
  }

  seek(seconds) {
    const d = this.duration;
    this.audio.currentTime = Math.max(0, d ? Math.min(d, seconds) : seconds);
    this.draw();
  }

  skipNotice() {
    if (this.noticeEnd > 0) this.seek(this.noticeEnd);
  }

  seekToClick(ev) {
    const rect = this.canvas.getBoundingClientRect();
    const x = Math.min(Math.max(0, ev.clientX - rect.left), rect.width);
    if (this.duration) this.seek((x / rect.width) * this.duration);
  }

  key(ev) {
    const tag = (ev.target && ev.target.tagName) || "";
    if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const step = ev.shiftKey ? 15 : 5;
    const actions = {
      " ": () => this.toggle(), k: () => this.toggle(),
      ArrowLeft: () => this.seek(this.audio.currentTime - step), ArrowRight: () => this.seek(this.audio.currentTime + step),
      "-": () => this.setSpeed(this.audio.playbackRate - 0.25), "+": () => this.setSpeed(this.audio.playbackRate + 0.25),
      "=": () => this.setSpeed(this.audio.playbackRate + 0.25),
      0: () => this.setChannel("both"), 1: () => this.setChannel("left"), 2: () => this.setChannel("right"),
      s: () => this.skipNotice(), S: () => this.skipNotice(),
      "?": () => this.el.querySelector(".hint").classList.toggle("show"),
    };
    const action = actions[ev.key];
    if (action) {
      ev.preventDefault();
      action();
    }
  }

  onState() {
    this.playBtn.textContent = this.audio.paused ? t("play") : t("pause");
    this.playBtn.setAttribute("aria-pressed", String(!this.audio.paused));
    if (!this.audio.paused) this.tick();
    this.draw();
  }

  tick() {
    if (this.audio.paused) return;
    this.draw();
    requestAnimationFrame(() => this.tick());
  }

  draw() {
    const canvas = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, width, height);
    const d = this.duration;
    const pos = d ? this.audio.currentTime / d : 0;
    this.clock.textContent = `${fmtDuration(this.audio.currentTime)} / ${fmtDuration(d)}`;
    const half = height / 2;
    if (this.noticeEnd > 0 && d) {
      g.fillStyle = "rgba(120,120,120,0.12)";
      g.fillRect(0, 0, (this.noticeEnd / d) * width, height);
    }
    const lanes = [["left", 0], ["right", 1]];
    for (const [name, index] of lanes) {
      const mid = half * index + half / 2;
      g.fillStyle = COLORS.axis;
      g.fillRect(0, mid, width, Math.max(1, ratio / 2));
      const data = this.peaks && this.peaks.channels[index];
      if (!data || !data.length) continue;
      const muted = this.channel !== "both" && this.channel !== name;
      const barW = width / data.length;
      for (let i = 0; i < data.length; i++) {
        const x = i * barW;
        const amp = Math.max(ratio, data[i] * (half / 2 - 2 * ratio) * 1.9);
        g.globalAlpha = muted ? 0.15 : x / width <= pos ? 1 : COLORS.played;
        g.fillStyle = COLORS[name];
        g.fillRect(x, mid - amp / 2, Math.max(barW - 0.5, 1), amp);
      }
    }
    g.globalAlpha = 1;
    g.fillStyle = COLORS.head;
    g.fillRect(Math.round(pos * width), 0, Math.max(1, ratio * 1.5), height);
    this.canvas.setAttribute("aria-valuenow", String(Math.round(this.audio.currentTime)));
    for (const callback of this.timeListeners) callback(this.audio.currentTime, d);
  }

  destroy() {
    this.timeListeners = [];
    document.removeEventListener("keydown", this.onKey);
    window.removeEventListener("resize", this.onResize);
    this.audio.pause();
    if (this.graph) this.graph.ctx.close();
  }
}
