"""The first admin user, made exactly as ``salvesti users add NAME --role admin`` makes it.

Same path as the command line (salvesti.plugins.http.cli): load the written config, open its
store (which creates the database and runs the migrations), then the web plugin's own
connection, :func:`salvesti.plugins.http.accounts.create_user` with its password rules, and a
``user_add`` entry in the hash-chained audit log.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from salvesti.cli_common import Loaded, bare_hub, open_store
from salvesti.core.config import load_config
from salvesti.core.plugins import PluginManager
from salvesti.plugins.http import accounts, audit, db
from salvesti.plugins.http.server import db_path


def database_file(config_dir: Path) -> Path:
    """Where the store keeps users before any config says otherwise (data_dir ./data)."""
    return config_dir / "data" / "salvesti.db"


async def create_admin(config_path: Path, plugins: PluginManager, name: str, password: str) -> None:
    """Add ``name`` as admin to the store of ``config_path``; AccountError when refused."""
    loaded = Loaded(load_config(config_path, plugins), config_path, plugins)
    hub = bare_hub(loaded)
    async with open_store(loaded, hub):
        conn = await db.connect(str(db_path(hub)))
        try:
            now = datetime.now(hub.tz).isoformat(timespec="seconds")
            user = await accounts.create_user(conn, name, "admin", password, None, now)
            await audit.append(
                conn,
                at=now,
                user="setup",
                action="user_add",
                source_addr="setup",
                detail={"name": user.name, "role": user.role},
            )
        finally:
            await conn.close()
