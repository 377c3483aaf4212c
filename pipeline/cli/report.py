"""``bwv report``: the nightly report."""

from __future__ import annotations
