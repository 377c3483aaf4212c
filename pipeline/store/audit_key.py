"""The audit key: the secret that signs the audit chain, kept outside the database.

Each audit row's hash is HMAC-SHA256 under this key of the previous row's hash and the
row's contents, so whoever can write the database but does not hold the key cannot
change, insert or re-chain rows unseen (README, "Audit log: threat model"). The key is
``BWV_AUDIT_KEY`` (hex or base64, at least 32 bytes) or else the file ``audit.key`` in the
instance folder, made on first use and readable by its owner only.

Rows written before an instance had a key carry no key id; their hash is the plain
SHA-256 the chain used then (:func:`unsigned_hash`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pipeline import clock
from pipeline.config import DEFAULT_HOME, private_key_text
from pipeline.errors import ConfigError

KEY_ENV = "BWV_AUDIT_KEY"
ANCHORS_ENV = "BWV_AUDIT_ANCHORS"
KEY_FILE = "audit.key"
ANCHORS_FILE = "audit.anchors"
#: The previous hash of the first row.
GENESIS = "0" * 64
#: The signed row that seals the rows written before the key (see ``AuditQueries.audit``).
ADOPTED_ACTION = "audit-key-adopted"
#: The signed row that records an anchor written to the anchors file.
ANCHOR_ACTION = "audit-anchor"
MIN_KEY_BYTES = 32
_KEY_HINT = ("use at least 32 random bytes, as hex or base64 "
             "(for example: openssl rand -hex 32)")
#: Keeps a signature of one version of the row layout from passing for another.
_SIGNED_V1 = "bwv-audit-hmac-v1"


@dataclass(frozen=True)
class AuditKey:
    """The audit key's bytes and where they came from (``BWV_AUDIT_KEY`` or a file)."""

    secret: bytes = field(repr=False)
    source: str

    @property
    def key_id(self) -> str:
        """A public name for the key (16 hex digits), stored with each row it signs."""
        return hmac.new(self.secret, b"bwv audit key id", hashlib.sha256).hexdigest()[:16]

    def mac(self, data: str) -> str:
        """HMAC-SHA256 of ``data`` under the key, as hex."""
        return hmac.new(self.secret, data.encode(), hashlib.sha256).hexdigest()


def instance_folder(home: Path | None, sqlite_file: str | None) -> Path:
    """Where an instance's key and anchors live when a store was opened without ``home``.

    The folder of its SQLite file (an instance keeps its database there by default),
    else ``BWV_HOME``, else the default instance.
    """
    if home is not None:
        return Path(home)
    if sqlite_file and sqlite_file != ":memory:":
        return Path(sqlite_file).expanduser().resolve().parent
    return Path(os.environ.get("BWV_HOME") or DEFAULT_HOME).expanduser().resolve()


def anchors_path(home: Path) -> Path:
    """The anchors file: ``BWV_AUDIT_ANCHORS``, else ``audit.anchors`` in the instance folder."""
    named = os.environ.get(ANCHORS_ENV)
    return Path(named).expanduser() if named else home / ANCHORS_FILE


def parse_key(text: str, source: str) -> bytes:
    """The key's bytes from hex or base64 text; at least :data:`MIN_KEY_BYTES`."""
    text = text.strip()
    try:
        if text and all(c in "0123456789abcdefABCDEF" for c in text) and len(text) % 2 == 0:
            secret = bytes.fromhex(text)
        else:
            padded = text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4)
            secret = base64.b64decode(padded, validate=True)
    except (ValueError, binascii.Error):
        raise ConfigError(f"{source}: the audit key is not hex or base64; {_KEY_HINT}") from None
    if len(secret) < MIN_KEY_BYTES:
        raise ConfigError(f"{source}: the audit key is {len(secret)} bytes; {_KEY_HINT}")
    return secret


def load_audit_key(home: Path, *, create: bool) -> AuditKey:
    """The audit key: ``BWV_AUDIT_KEY``, else ``home/audit.key``.

    With ``create`` a missing key file is made (32 random bytes as hex, mode 0600);
    without, a missing key is an error. A key file that group or others may read is
    refused: a key others can read signs nothing.
    """
    value = os.environ.get(KEY_ENV)
    if value:
        return AuditKey(parse_key(value, KEY_ENV), KEY_ENV)
    path = Path(home) / KEY_FILE
    if not path.exists() and not create:
        raise ConfigError(
            f"no audit key: {KEY_ENV} is not set and {path} does not exist; set {KEY_ENV} "
            "or restore the key file the audit log was signed with")
    try:
        text = private_key_text(path, what="audit key", create=True, nbytes=MIN_KEY_BYTES,
                                fix=f"set {KEY_ENV} or make the instance folder writable")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the audit key: {exc}") from exc
    return AuditKey(parse_key(text, str(path)), str(path))


def stamp(at: datetime) -> str:
    """A timestamp as hashed in the audit chain (SQLite hands back naive UTC)."""
    return clock.as_utc(at).isoformat()


def unsigned_hash(prev: str, at: datetime, actor: str, action: str, obj: str,
                  detail: str | None) -> str:
    """A row's hash as written before the instance had a key: plain SHA-256."""
    payload = json.dumps([prev, stamp(at), actor, action, obj, detail])
    return hashlib.sha256(payload.encode()).hexdigest()


def signed_hash(key: AuditKey, prev: str, at: datetime, actor: str, action: str, obj: str,
                detail: str | None) -> str:
    """A row's hash: HMAC-SHA256 under the key of the previous hash and the row's contents."""
    return key.mac(json.dumps([_SIGNED_V1, key.key_id, prev, stamp(at), actor, action, obj,
                               detail]))
