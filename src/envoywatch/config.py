"""Settings: command-line flag > ENVOYWATCH_* environment variable > envoywatch.toml > default.

The config file is ./envoywatch.toml, or the file named by ENVOYWATCH_CONFIG, or envoywatch.toml in the
user's config directory. Secrets are never written in it: a credential is a reference such as
`bearer_token = "env:X_BEARER_TOKEN"`, resolved from the environment when needed and never stored.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from envoywatch.errors import ConfigError


def config_path() -> Path | None:
    explicit = os.environ.get("ENVOYWATCH_CONFIG")
    if explicit:
        p = Path(explicit)
        if not p.exists():
            raise ConfigError("the config file named by ENVOYWATCH_CONFIG does not exist", explicit,
                              "create it or unset ENVOYWATCH_CONFIG")
        return p
    local = Path("envoywatch.toml")
    if local.exists():
        return local
    from platformdirs import user_config_dir

    user = Path(user_config_dir("envoywatch", appauthor=False)) / "envoywatch.toml"
    return user if user.exists() else None


@lru_cache(maxsize=8)
def _load(path: str | None) -> dict:
    if path is None:
        return {}
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML ({exc})", path, "fix the syntax (see docs/config.md)") from None


def file_settings() -> dict:
    p = config_path()
    return _load(str(p) if p else None)


def setting(section: str, key: str, flag=None, env: str | None = None, default=None):
    """Resolve one setting by precedence: flag, environment, config file, default."""
    if flag is not None:
        return flag
    if env and os.environ.get(env):
        return os.environ[env]
    value = file_settings().get(section, {}).get(key)
    return default if value is None else value


def db_path(flag: str | None = None) -> Path:
    from envoywatch.store.db import default_db_path

    return Path(setting("store", "db", flag, "ENVOYWATCH_DB", None) or default_db_path()).expanduser()


def resolve_secret(reference: str | None, what: str) -> str:
    """'env:NAME' -> the value of $NAME. Plain values are refused so that secrets never sit in files."""
    if not reference:
        raise ConfigError(f"no credential configured for {what}", None,
                          "set it in envoywatch.toml as a reference, e.g. \"env:VARIABLE\", and export VARIABLE")
    if not reference.startswith("env:"):
        raise ConfigError(f"the credential for {what} must be a reference like \"env:VARIABLE\", not a value",
                          str(config_path() or "envoywatch.toml"), "move the secret into an environment variable")
    name = reference[4:]
    value = os.environ.get(name)
    if not value:
        raise ConfigError(f"the environment variable {name} (credential for {what}) is not set", None,
                          f"export {name}=...")
    return value
