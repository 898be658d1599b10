"""Benchmark: after-call analysis on this machine — talk metrics and speech to text per model.

    .venv/bin/python bench/analysis.py                      # tiny.en and base (when installed)
    .venv/bin/python bench/analysis.py --models tiny.en --repeat 3 --json out.json

What it measures, on a synthetic 8 kHz stereo call made with espeak-ng (left = the customer,
right = the agent, each with a 5 % (-26 dB) bleed of the other party, as a desk phone's
handset echo gives):
1. Talk metrics (energy AND webrtcvad on a 10 ms grid, smoothing, the metrics): seconds of
   call analysed per second of one core ("x real time").
2. Speech to text per model (faster-whisper, int8, one thread), each channel separately,
   from that party's own speech only (what Salvesti does) and from the whole channel
   (the reference): real-time factor = processing seconds / call seconds, and the model's load time.
3. The whole job as a worker runs it (read the WAV, every built-in step), per model.

It prints one line per figure and a JSON summary; nothing is asserted.  Bounded: a fixed
number of repetitions on a fixed clip.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from salvesti.core.analysis import talk, vad  # noqa: E402
from salvesti.plugins.analysis.models import describe_problem, resolve  # noqa: E402
from salvesti.testing.speech import speak, write_stereo  # noqa: E402

RATE = 8000
AGENT = (
    "Good morning, thank you for calling the north harbour bakery, this call is recorded. "
    "We have a premium package with free delivery every week. The price is twenty euros a month. "
    "Would you like me to send you the details by email?"
)
CUSTOMER = (
    "Hello, I am calling about a cake for my daughter's birthday on Saturday. "
    "How much does the delivery cost? That sounds good, please send me the details."
)


def _speak(text: str, voice: str, out: Path) -> np.ndarray:
    return speak(text, out, voice=voice, speed=150).astype(np.float64)


def make_call(directory: Path) -> tuple[Path, float]:
    """Agent, then customer, then agent again, with a short overlap; 5 % bleed both ways."""
    agent = _speak(AGENT, "en-us", directory / "agent.wav")
    customer = _speak(CUSTOMER, "en-gb", directory / "customer.wav")
    gap = int(0.7 * RATE)
    half = len(agent) // 2
    total = len(agent) + len(customer) + 3 * gap
    left, right = np.zeros(total), np.zeros(total)
    right[gap : gap + half] = agent[:half]
    start = gap + half + gap
    left[start : start + len(customer)] = customer
    start2 = start + len(customer) + gap
    right[start2 : start2 + len(agent) - half] = agent[half:]
    left_mix, right_mix = left + 0.05 * right, right + 0.05 * left
    # A realistic length: the conversation four times over (calls are minutes, not seconds).
    left_mix, right_mix = np.tile(left_mix, 4), np.tile(right_mix, 4)
    total *= 4
    path = directory / "call.wav"
    write_stereo(path, left_mix, right_mix)
    return path, total / RATE


def _channels(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with wave.open(str(path)) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2)
    return np.ascontiguousarray(x[:, 0]), np.ascontiguousarray(x[:, 1])


def bench_talk(path: Path, seconds: float, repeat: int) -> dict[str, float]:
    left, right = _channels(path)
    best = float("inf")
    for _ in range(max(3, repeat)):
        t0 = time.process_time()
        outside, agent = vad.detect(left, RATE), vad.detect(right, RATE)
        talk.talk_metrics(outside, agent)
        best = min(best, time.process_time() - t0)
    return {"cpu_s": round(best, 4), "x_real_time": round(seconds / best, 1)}


def bench_model(name: str, path: Path, seconds: float, repeat: int, data_dir: Path) -> dict[str, float] | str:
    problem = describe_problem(name, REPO)
    if problem:
        return problem
    from salvesti.plugins.analysis.transcribe import Transcriber

    model_dir = resolve(name, config_dir=REPO, data_dir=data_dir)
    t0 = time.perf_counter()
    engine = Transcriber(model_dir, language="en", threads=1, beam_size=1)
    load_s = time.perf_counter() - t0
    left, right = _channels(path)
    speech = {"outside": vad.detect(left, RATE), "agent": vad.detect(right, RATE)}
    full = {"outside": [(0.0, seconds)], "agent": [(0.0, seconds)]}
    out: dict[str, float] = {"load_s": round(load_s, 2)}
    for label, segs in (("own_speech", speech), ("whole_channel", full)):
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            for channel, pcm in (("outside", left), ("agent", right)):
                engine.channel(pcm, RATE, segs[channel], channel)
            best = min(best, time.perf_counter() - t0)
        out[f"{label}_rtf"] = round(best / seconds, 3)
    return out


def bench_job(name: str | None, path: Path, repeat: int, data_dir: Path, seconds: float) -> dict[str, float]:
    from salvesti.plugins.analysis.worker import Job, analyse, build_steps

    conf: dict[str, object] = {"trackers": [{"id": "price", "phrases": ["price", "cost"]}]}
    if name:
        conf["transcription"] = {"model": name, "language": "en", "threads": 1, "beam_size": 1}
        conf["_model_dir"] = str(resolve(name, config_dir=REPO, data_dir=data_dir))
    steps = build_steps(conf)
    job = Job("bench", {"id": "bench", "notice": {}}, str(path))
    analyse(job, steps)  # warm: the model loads on first use
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = analyse(job, steps)
        best = min(best, time.perf_counter() - t0)
        assert res.ok, res.error
    return {"seconds": round(best, 3), "rtf": round(best / seconds, 3)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="tiny.en,base", help="comma-separated model names or folders")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    summary: dict[str, object] = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "models": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, seconds = make_call(folder)
        summary["call_s"] = round(seconds, 2)
        print(f"call: {seconds:.1f} s of 8 kHz stereo speech (espeak-ng), 5 % bleed")
        summary["talk"] = bench_talk(path, seconds, args.repeat)
        print(f"talk metrics: {summary['talk']['x_real_time']}x real time on one core")
        summary["job_no_model"] = bench_job(None, path, args.repeat, folder, seconds)
        print(f"whole job without transcription: {summary['job_no_model']['seconds']} s")
        data_dir = REPO / "data"
        for name in [m.strip() for m in args.models.split(",") if m.strip()]:
            result = bench_model(name, path, seconds, args.repeat, data_dir)
            if isinstance(result, str):
                print(f"{name}: skipped ({result})")
                summary["models"][name] = {"skipped": result}  # type: ignore[index]
                continue
            job = bench_job(name, path, args.repeat, data_dir, seconds)
            result["job_rtf"] = job["rtf"]
            summary["models"][name] = result  # type: ignore[index]
            print(
                f"{name}: load {result['load_s']} s; RTF own speech only {result['own_speech_rtf']}, "
                f"whole channel {result['whole_channel_rtf']}; whole job RTF {result['job_rtf']} (1 thread)"
            )
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
