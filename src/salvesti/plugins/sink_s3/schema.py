"""The ``s3`` sink's config block (CONTRACT "Several nodes")."""

from __future__ import annotations

import voluptuous as vol

SCHEMA = vol.Schema(
    {
        vol.Required("platform"): "s3",
        vol.Required("id"): str,
        vol.Required("endpoint"): vol.All(
            str, vol.Match(r"^https?://[^/]+/?$", msg="endpoint must be http(s)://HOST[:PORT]")
        ),
        vol.Required("bucket"): vol.All(str, vol.Length(min=3, max=63)),
        vol.Optional("region", default="us-east-1"): str,
        vol.Required("access_key"): str,
        vol.Required("secret_key"): str,
        vol.Optional("prefix", default=""): str,
        vol.Optional("format", default="wav"): vol.In(["wav", "flac", "opus"]),
        # S3 wants parts of at least 5 MiB (except the last one).
        vol.Optional("part_size_mib", default=8): vol.All(int, vol.Range(min=5, max=512)),
        vol.Optional("multipart_threshold_mib", default=16): vol.All(int, vol.Range(min=5, max=5120)),
        # Uploads in flight at once: a single PUT holds its whole file in memory, and the store is
        # no faster for more (bench/s3_upload.py), so calls ending together queue here.
        vol.Optional("max_uploads", default=8): vol.All(int, vol.Range(min=1, max=256)),
        vol.Optional("timeout", default=30.0): vol.All(vol.Coerce(float), vol.Range(min=0.5, max=600)),
    }
)
