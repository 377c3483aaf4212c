"""The ``bwv`` command line: a thin face on the library.

Each command parses its options, calls the library and prints. Errors from
the library become a one-line message and exit status 2.
The group and shared helpers are in :mod:`pipeline.cli.common`; each module
adds its commands to the group when imported.
"""

from pipeline.cli import (  # noqa: F401 - registers the commands
    audit,
    batch,
    metadata,
    report,
    retention,
    review,
    routine,
    speakers,
    teach,
)
from pipeline.cli.common import cli, main

__all__ = ["cli", "main"]
