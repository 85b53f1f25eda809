"""Where a store is: a local root directory (SQLite) or a PostgreSQL URL (a team store).

    resolve_store(None)                         TRACKTUI_STORE (a URL or a path) > TRACKTUI_DIR > the defaults
    resolve_store("/data/runs")                 Path("/data/runs")
    resolve_store("postgresql://u@db/runs")     StoreURL("postgresql://u@db/runs")

A StoreURL prints without its password (str(), repr(), every message): the full URL is only handed to libpq.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .paths import default_root

ENV_STORE = "TRACKTUI_STORE"
URL_SCHEMES = ("postgresql://", "postgres://")
_SECRET_PARAMS = {"password", "sslpassword"}


def is_url(target: object) -> bool:
    """Whether target names a PostgreSQL store (a postgresql:// or postgres:// URL)."""
    return isinstance(target, StoreURL) or (isinstance(target, str) and target.lower().startswith(URL_SCHEMES))


def redact(url: str) -> str:
    """The URL without its password (in the user part or as a password= parameter)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("://", 1)[0] + "://***"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{host}" if user else host
    query = parts.query
    if query:
        pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() not in _SECRET_PARAMS]
        query = urlencode(pairs)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class StoreURL:
    """A PostgreSQL store. `url` is what libpq gets; str() and repr() never show the password."""

    __slots__ = ("url",)
    engine = "postgresql"

    def __init__(self, url: str):
        self.url = url

    @property
    def redacted(self) -> str:
        """The URL as it may be shown or stored: no password."""
        return redact(self.url)

    def __str__(self) -> str:
        return self.redacted

    def __repr__(self) -> str:
        return f"StoreURL({self.redacted!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StoreURL) and other.url == self.url

    def __hash__(self) -> int:
        return hash(("StoreURL", self.url))


Target = Path | StoreURL


def resolve_store(target: str | os.PathLike[str] | StoreURL | None = None) -> Target:
    """The store a call means: an explicit target wins, then TRACKTUI_STORE, then the local root's defaults."""
    if isinstance(target, StoreURL):
        return target
    if target is None or target == "":
        env = os.environ.get(ENV_STORE)
        if env:
            return StoreURL(env) if is_url(env) else Path(env).expanduser()
        return default_root()
    if isinstance(target, str) and is_url(target):
        return StoreURL(target)
    return Path(target).expanduser()


def label(target: Target) -> str:
    """How messages name a store: its path, or its URL without the password."""
    return str(target)
