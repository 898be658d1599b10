"""The first admin user, made exactly as ``salvesti users add NAME --role admin`` makes it.

Same path as the command line (salvesti.plugins.http.cli): load the written config, open its
store (which creates the database and runs the migrations), then the web plugin's accounts
(``accounts_db.open_accounts``), :func:`salvesti.plugins.http.accounts.create_user` with its
password rules, and a ``user_add`` entry in the hash-chained audit log.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from salvesti.cli_common import Loaded, bare_hub, open_store
from salvesti.core.config import load_config
from salvesti.core.plugins import PluginManager
from salvesti.plugins.http import accounts
from salvesti.plugins.http.accounts_db import open_accounts


def database_file(config_dir: Path) -> Path:
    """Where the store keeps users before any config says otherwise (data_dir ./data)."""
    return config_dir / "data" / "salvesti.db"


async def create_admin(config_path: Path, plugins: PluginManager, name: str, password: str) -> None:
    """Add ``name`` as admin to the store of ``config_path``; AccountError when refused."""
    loaded = Loaded(load_config(config_path, plugins), config_path, plugins)
    hub = bare_hub(loaded)
    async with open_store(loaded, hub):
        store = await open_accounts(hub)  # the store's own database: SQLite file or PostgreSQL
        try:
            now = datetime.now(hub.tz).isoformat(timespec="seconds")
            user = await accounts.create_user(store, name, "admin", password, None, now)
            await store.audit_append(
                at=now,
                user="setup",
                action="user_add",
                source_addr="setup",
                detail={"name": user.name, "role": user.role},
            )
        finally:
            await store.close()
