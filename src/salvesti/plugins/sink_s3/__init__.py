"""The ``s3`` sink: recordings in any S3-compatible object store, spooled while it is away."""

from __future__ import annotations

from typing import Any

from salvesti.core.plugins import Platform, hookimpl
from salvesti.plugins.sink_s3.schema import SCHEMA
from salvesti.plugins.sink_s3.sink import S3Sink

__all__ = ["SCHEMA", "S3Sink"]


@hookimpl
def register_recording_sinks(register: Any) -> None:
    register(
        Platform(
            kind="sink",
            name="s3",
            schema=SCHEMA,
            factory=S3Sink.from_config,
            description="Recordings in an S3-compatible object store (AWS, MinIO, SeaweedFS), spooled",
        )
    )
