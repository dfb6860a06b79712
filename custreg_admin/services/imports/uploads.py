"""Uploaded import files waiting between the steps of the review: in the instance folder under
a random key, bound to the user who uploaded them (another user's key reads as missing)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from flask import current_app


class UploadMissing(LookupError):
    """No upload under that key for this user."""


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store(user, name: str, data: bytes) -> str:
    """Keep ``data`` for ``user``; the key that reads it back."""
    key = secrets.token_hex(16)
    folder = _folder()
    (folder / f"{key}.bin").write_bytes(data)
    meta = {"name": name, "user_id": getattr(user, "id", None)}
    (folder / f"{key}.json").write_text(json.dumps(meta))
    return key


def load(user, key: str) -> tuple[bytes, dict]:
    """The file and its meta data (``name``), or :class:`UploadMissing`."""
    if not key or not key.isalnum():
        raise UploadMissing(key)
    folder = _folder()
    meta_path, data_path = folder / f"{key}.json", folder / f"{key}.bin"
    if not meta_path.exists():
        raise UploadMissing(key)
    meta = json.loads(meta_path.read_text())
    if meta.get("user_id") != getattr(user, "id", None):
        raise UploadMissing(key)
    return data_path.read_bytes(), meta
