"""One error root and its families.

Every error carries three parts so the CLI can print one line that a user can act on:
what went wrong, where (file and line, table, account...), and how to fix it.
"""

from __future__ import annotations


class EnvoywatchError(Exception):
    """Root of every error envoywatch raises on purpose."""

    exit_code = 2

    def __init__(self, what: str, where: str | None = None, fix: str | None = None):
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = [self.what]
        if self.where:
            parts[0] = f"{self.where}: {self.what}"
        if self.fix:
            parts.append(f"Fix: {self.fix}")
        return " ".join(parts).replace("\n", " ")


class ConfigError(EnvoywatchError):
    """Bad settings: unknown option, unreadable config file, missing secret reference."""


class StoreError(EnvoywatchError):
    """The store cannot be opened, migrated or written."""


class ImportFormatError(EnvoywatchError):
    """A file cannot be read as the format it was detected (or forced) as."""


class RecordError(EnvoywatchError):
    """One record is bad; with --skip-bad it is set aside in the rejects table."""

    def __init__(self, what: str, where: str | None = None, fix: str | None = None, raw: str | None = None):
        self.raw = raw
        super().__init__(what, where, fix)


class RegistryError(EnvoywatchError):
    """The registry of state-affiliated actors or a list being imported into it is bad."""


class QueryError(EnvoywatchError):
    """A user query (envoywatch sql) is rejected or fails."""


class OptionalDependencyMissing(EnvoywatchError):
    """An optional heavy dependency is absent; the message names the install command."""

    def __init__(self, package: str, extra: str, purpose: str):
        super().__init__(
            f"{purpose} needs the optional package '{package}', which is not installed",
            None,
            f"pip install 'envoywatch[{extra}]'",
        )


class PlatformError(EnvoywatchError):
    """Base of per-platform errors (connectors and formats)."""

    platform = "unknown"
