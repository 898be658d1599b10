"""``subject export`` and ``subject erase`` with an encrypted sink: a playable WAV out, the key gone."""

from __future__ import annotations

import asyncio
import json
import wave
from pathlib import Path

from http_env import make_call
from test_http_cli import CONFIG, cli

from salvesti.core.crypto.keyring import Keyring
from salvesti.core.crypto.sealed import SealedWriter
from salvesti.plugins.store_sqlite import SqliteStore


def sealed_box(tmp: Path) -> tuple[str, bytes]:
    """A box whose one call of +3725551234 was recorded encrypted; the call id and its frames."""
    (tmp / "config.yaml").write_text(CONFIG.replace("format: wav}", "format: wav, encrypt: true}"))
    assert cli(tmp, "keys", "init").returncode == 0
    rec = tmp / "data" / "recordings" / "2026" / "11" / "20"
    call = make_call(rec, 1, ext="101", number="+3725551234")
    plain = Path(call.recording.path)
    with wave.open(str(plain)) as w:
        frames = w.readframes(w.getnframes())
    stereo = b"".join(frames[i : i + 2] * 2 for i in range(0, len(frames), 2))  # mono → stereo
    ring = Keyring.open(tmp / "salvesti.key", tmp / "data" / "keys.db")
    sealed = plain.with_name(plain.name + ".enc")
    writer = SealedWriter(sealed, ring.new_key(call.id), 8000)
    writer.write_frames(stereo)
    writer.close()
    ring.close()
    plain.unlink()
    call.recording.path = str(sealed)
    call.meta["sink"] = "disk"

    async def save() -> None:
        async with SqliteStore(tmp / "data" / "salvesti.db") as store:
            await store.save_call(call)

    asyncio.run(save())
    return call.id, stereo


def test_export_writes_the_decrypted_wav_and_erase_destroys_the_key(tmp_path):
    call_id, stereo = sealed_box(tmp_path)
    out = tmp_path / "out"
    r = cli(tmp_path, "subject", "export", "+3725551234", "--out", str(out))
    assert r.returncode == 0, r.stderr
    manifest = json.loads((out / "calls.json").read_text())
    assert manifest["calls"][0]["export_file"] == f"{call_id}.wav"
    with wave.open(str(out / f"{call_id}.wav")) as w:
        assert (w.getnchannels(), w.getframerate()) == (2, 8000)
        assert w.readframes(w.getnframes()) == stereo

    r = cli(tmp_path, "subject", "erase", "+3725551234", "--yes")
    assert r.returncode == 0, r.stderr
    assert not list((tmp_path / "data" / "recordings").rglob("*.enc"))
    ring = Keyring.open(tmp_path / "salvesti.key", tmp_path / "data" / "keys.db")
    try:
        assert ring.data_key(call_id) is None
    finally:
        ring.close()
