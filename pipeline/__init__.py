"""bwv: body-worn video review pipeline for trauma-informed policing."""

__version__ = "0.1.0"
