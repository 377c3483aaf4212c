"""The errors bwv raises: one base class and a few kinds.

A message says what went wrong, where, and how to fix it. Only the CLI and
the web layer turn these into exit codes or HTTP statuses.
"""

from __future__ import annotations


class BwvError(Exception):
    """Base class for every error bwv raises on purpose."""

    #: True once the library has written the refusal to the audit log itself (a refused
    #: teaching export), so the web app does not write a second row for it.
    audited: bool = False


class ConfigError(BwvError):
    """The instance, database URL or a command-line option is unusable."""


class MediaError(BwvError):
    """A media file cannot be used; ``reason`` is the one-line quarantine reason.

    ``permanent`` says whether retrying could help (a file still being
    written is transient; a text file named ``.mp4`` is not).
    """

    def __init__(self, reason: str, *, permanent: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class ModelError(BwvError):
    """A speech or language model is missing, incomplete or fails its hash check."""


class RubricError(BwvError):
    """A rubric file is invalid; ``errors`` lists every problem with its path."""

    def __init__(self, source: str, errors: list[str]) -> None:
        self.source = source
        self.errors = list(errors)
        super().__init__("\n".join(f"{source}: {e}" for e in self.errors))


class StoreError(BwvError):
    """The database or the media store cannot do what was asked."""


class AuthError(BwvError):
    """An account, session or role check failed."""


class NotFoundError(BwvError):
    """An object asked for by id does not exist (or is not visible to the caller)."""


class InvalidRequestError(BwvError):
    """A request names something that exists but asks for what cannot be done."""


class ForbiddenError(AuthError):
    """Signed in, but this person may not do this to this object."""


class ConflictError(BwvError):
    """The object changed under the request (an item someone else has just claimed, say)."""


class IntegrityError(BwvError):
    """A stored original's bytes no longer match the hash recorded when it arrived."""


class ManifestError(BwvError):
    """A footage metadata manifest has problems; ``problems`` lists each with its line.

    Nothing of such a manifest is imported.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__("\n".join([message, *(problems or [])]))
        self.problems = problems or []
