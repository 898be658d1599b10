"""What a config uses on disk: its databases, its recording folders, its config files.

The paths come from the same code the running process uses (the store's and sinks'
``from_config``, the HTTP plugin's ``db_path``, the hub's ``data_dir``), built but never set
up, so a backup can never look in one place while ``salvesti run`` writes in another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Where the keyring of encrypted sinks lives (:mod:`salvesti.core.crypto.keyring`).
KEYS_DB = "keys.db"


@dataclass(frozen=True)
class Database:
    """One SQLite file and what it holds (``store``, ``http``, ``keys``; one file may hold several)."""

    name: str
    path: Path
    roles: tuple[str, ...]


@dataclass(frozen=True)
class SinkPlace:
    """Where a sink keeps recordings; ``root`` is None for sinks that are not local folders."""

    id: str
    platform: str
    root: Path | None
    encrypt: bool = False


@dataclass
class Plan:
    config_path: Path
    data_dir: Path
    node: str
    store_platform: str
    databases: list[Database] = field(default_factory=list)
    sinks: dict[str, SinkPlace] = field(default_factory=dict)
    config_files: list[Path] = field(default_factory=list)
    store_dsn: str | None = None

    @property
    def store_db(self) -> Database | None:
        return next((d for d in self.databases if "store" in d.roles), None)

    @property
    def http_db(self) -> Database | None:
        return next((d for d in self.databases if "http" in d.roles), None)

    @property
    def keys_db(self) -> Database | None:
        return next((d for d in self.databases if "keys" in d.roles), None)

    def sink_for(self, call_meta: dict[str, Any]) -> SinkPlace | None:
        """The sink that wrote a call (``meta.sink``), else the first one, as retention does."""
        return self.sinks.get(str(call_meta.get("sink") or "")) or next(iter(self.sinks.values()), None)


def plan_for(hub: Any) -> Plan:
    """The plan of a bare (built, not started) hub; see :func:`salvesti.cli_common.bare_hub`."""
    config = hub.config
    store_conf = config.get("store") or {"platform": "sqlite"}
    platform = hub.plugins.get("store", store_conf["platform"])
    store = platform.factory(hub, store_conf) if platform is not None else None
    plan = Plan(
        config_path=Path(hub.config_path),
        data_dir=Path(hub.data_dir),
        node=hub.node,
        store_platform=store_conf["platform"],
        store_dsn=store_conf.get("dsn"),
    )
    files: dict[Path, list[str]] = {}
    store_path = getattr(store, "path", None)
    if store_path:
        files.setdefault(Path(store_path), []).append("store")
    if config.get("http") and store_conf["platform"] != "postgresql":  # else in that database
        from salvesti.plugins.http.server import db_path

        hub.store = store
        files.setdefault(db_path(hub), []).append("http")
    for conf in config.get("sinks") or []:
        sink_platform = hub.plugins.get("sink", conf["platform"])
        sink = sink_platform.factory(hub, conf) if sink_platform is not None else None
        root = getattr(sink, "root", None) if conf["platform"] == "local" else None
        plan.sinks[conf["id"]] = SinkPlace(conf["id"], conf["platform"], root, bool(conf.get("encrypt")))
    keys = plan.data_dir / KEYS_DB
    # an old keys.db still opens recordings sealed before encryption was turned off
    if any(s.encrypt for s in plan.sinks.values()) or keys.exists():
        files.setdefault(keys, []).append("keys")
    names: set[str] = set()
    for path, roles in files.items():
        name = path.name if path.name not in names else f"{len(names)}-{path.name}"
        names.add(name)
        plan.databases.append(Database(name, path, tuple(roles)))
    plan.config_files.append(plan.config_path)
    secrets = plan.config_path.parent / "secrets.yaml"
    if secrets.exists():
        plan.config_files.append(secrets)
    return plan
