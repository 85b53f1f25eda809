"""The installed distributions, as `name==version` lines (requirements.txt)."""

from __future__ import annotations


def requirements() -> bytes:
    """requirements.txt content for the running interpreter's environment (sorted, one per distribution)."""
    from importlib import metadata

    seen: dict[str, str] = {}
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
            version = dist.version
        except Exception:  # noqa: BLE001 - a broken dist-info must not stop the rest
            continue
        if name and name.lower() not in seen:
            seen[name.lower()] = f"{name}=={version}"
    return ("\n".join(seen[k] for k in sorted(seen)) + "\n").encode()
