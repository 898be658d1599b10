"""A pty pair standing in for a USB serial device, for simulators in tests."""

from __future__ import annotations

import contextlib
import os
import tty
from pathlib import Path


class PtyPort:
    """One pty pair: the master end a simulated device uses, the slave a host opens.

    With ``link`` the slave also appears at that path (a symlink, like the stable names
    under ``/dev/serial/by-id``), so closing and making a new pair at the same path looks
    to the host like unplugging and replugging a USB device.  The simulator keeps the
    slave open too, so the master never reads EIO between host connections.
    """

    def __init__(self, link: Path | None, master_fd: int | None = None) -> None:
        self.link = link
        self.owned = master_fd is None
        if master_fd is None:
            master_fd, self.slave_fd = os.openpty()
            tty.setraw(self.slave_fd)
            self.slave_name = os.ttyname(self.slave_fd)
            if link is not None:
                with contextlib.suppress(FileNotFoundError):
                    link.unlink()
                link.symlink_to(self.slave_name)
        else:
            self.slave_fd = None
            self.slave_name = None
        os.set_blocking(master_fd, False)
        self.fd: int | None = master_fd
        self.out = bytearray()

    @property
    def path(self) -> str | None:
        return str(self.link) if self.link is not None else self.slave_name

    def close(self) -> None:
        for fd in (self.fd, self.slave_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.fd = self.slave_fd = None
        self.out.clear()
        if self.link is not None and self.owned:
            with contextlib.suppress(FileNotFoundError):
                self.link.unlink()
