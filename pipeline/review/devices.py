"""Known devices: a signed cookie a browser is given when someone signs in on it.

Failed sign-ins from a browser that has signed in as a name before are counted against
that browser alone, not against the name from its address, so whoever floods a name with
wrong passwords cannot keep its owner out of a browser they have used (OWASP's "device
cookies"). The cookie holds, for each of the last few names signed in on the browser, the
name, a random device id and an HMAC of both under a key kept in the instance folder
(``device.key``, made on first use, readable by its owner only). It proves only that this
browser once signed in as that name; the password is still needed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import private_key_text
from pipeline.errors import ConfigError

KEY_FILE = "device.key"
#: The cookie remembers this many names (a shared workstation), the latest first.
MAX_NAMES = 8
_MAX_COOKIE = 4000
_SIGNED_V1 = b"bwv-device-v1"


@dataclass(frozen=True)
class DeviceKey:
    """The secret that signs known-device cookies."""

    secret: bytes = field(repr=False)

    def _mac(self, name: str, device_id: str) -> str:
        message = b"\0".join((_SIGNED_V1, name.encode(), device_id.encode()))
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()[:32]

    def _entries(self, cookie: str | None) -> list[tuple[str, str]]:
        """The (name, device id) pairs of a cookie whose signatures check."""
        found: list[tuple[str, str]] = []
        for entry in (cookie or "")[:_MAX_COOKIE].split("~"):
            parts = entry.split(".")
            if len(parts) != 3:
                continue
            encoded, device_id, mac = parts
            try:
                name = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
            except (binascii.Error, ValueError):
                continue
            if hmac.compare_digest(mac.encode(), self._mac(name, device_id).encode()):
                found.append((name, device_id))
        return found

    def device_id(self, cookie: str | None, name: str) -> str | None:
        """The id this browser was given when it signed in as ``name``, or None."""
        return next((device for known, device in self._entries(cookie) if known == name), None)

    def remember(self, cookie: str | None, name: str) -> str:
        """The cookie's new value after ``name`` signed in: that name first (keeping its
        device id), then the other names it held, at most :data:`MAX_NAMES`."""
        entries = self._entries(cookie)
        device = next((d for known, d in entries if known == name), None) or secrets.token_hex(8)
        kept = [(name, device)] + [(n, d) for n, d in entries if n != name]
        return "~".join(
            f"{base64.urlsafe_b64encode(n.encode()).decode().rstrip('=')}.{d}.{self._mac(n, d)}"
            for n, d in kept[:MAX_NAMES]
        )


def load_device_key(home: Path) -> DeviceKey:
    """The instance's device key (``home/device.key``), made on first use with mode 0600.

    A key file that group or others may read is refused, with the ``chmod`` that fixes it.
    """
    path = Path(home) / KEY_FILE
    try:
        secret = bytes.fromhex(private_key_text(
            path, what="device key", create=True, nbytes=32,
            fix="make the instance folder writable").strip())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the device key ({exc}); delete it and a new "
                          "one is made (browsers then sign in as on a new device once)") from exc
    if len(secret) < 32:
        raise ConfigError(f"{path}: the device key is {len(secret)} bytes; delete it and a new "
                          "one is made")
    return DeviceKey(secret)
