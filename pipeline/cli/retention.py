"""``bwv retention`` and ``bwv hold``: deleting what the retention policy says must go."""

from __future__ import annotations
