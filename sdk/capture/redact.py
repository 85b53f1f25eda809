"""Secrets never reach the store: redaction of command-line arguments, URLs and token-looking strings."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

MASK = "***"

# Names of options, key=value pairs and config keys whose value is a secret. "token" counts only as the
# last word of a name (hf_token, --token, AccessToken), so token_count, max_tokens, pad_token_id and
# tokenizer are kept.
_SECRET_NAME = re.compile(
    r"(api[_-]?key|apikey|token(?=[^a-z]*$)|secret|passw(or)?d|passwd|pwd|auth(?!or)|credential|"
    r"private[_-]?key|access[_-]?key|session[_-]?key|cookie|signature)",
    re.IGNORECASE,
)
# Tokenizer settings that end in "token" but hold a vocabulary entry such as "</s>", not a secret.
_VOCAB_TOKEN = re.compile(
    r"(?:^|[^a-z])(?:bos|eos|pad|unk|mask|cls|sep|sos|start|end|special|image|audio|video)[_-]?token$",
    re.IGNORECASE,
)
# Values that look like tokens, wherever they appear.
_TOKENS = re.compile(
    r"(?:sk-[A-Za-z0-9_\-]{16,}"  # OpenAI / Anthropic style
    r"|hf_[A-Za-z0-9]{16,}"  # Hugging Face
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key ids
    r"|xox[abprs]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|glpat-[A-Za-z0-9_\-]{16,})"  # GitLab
)
# scheme://user:password@host  (also scheme://token@host for http(s))
_URL_CREDS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^/@:\s]*)(?::(?P<pw>[^/@\s]*))?@")


def _url_creds(m: re.Match[str]) -> str:
    scheme, user, pw = m.group("scheme"), m.group("user"), m.group("pw")
    if pw is not None:
        return f"{scheme}{user}:{MASK}@"
    if scheme.lower() in ("http://", "https://") and user:
        return f"{scheme}{MASK}@"  # a bare user in an http URL is usually a token
    return m.group(0)


def redact_text(s: str) -> str:
    """s with token-looking values and URL passwords replaced by ***."""
    if "@" in s:
        s = _URL_CREDS.sub(_url_creds, s)
    return _TOKENS.sub(MASK, s)


def clean_url(url: str) -> str:
    """A URL (a git remote) with any credentials removed: https://user:pw@host/x -> https://host/x."""
    m = _URL_CREDS.match(url)
    if m and (m.group("pw") is not None or m.group("scheme").lower() in ("http://", "https://")):
        url = m.group("scheme") + url[m.end():]
    return redact_text(url)


def is_secret_name(name: str) -> bool:
    """Does an option or key name look like it holds a secret?"""
    return bool(_SECRET_NAME.search(name)) and not _VOCAB_TOKEN.search(name)


def redact_args(args: Sequence[str]) -> list[str]:
    """Command-line arguments with secret values masked (--token X, --api-key=X, password=X, sk-... )."""
    out: list[str] = []
    mask_next = False
    for a in args:
        a = str(a)
        if mask_next:
            mask_next = False
            if not a.startswith("-") or a == "-":
                out.append(MASK)
                continue
        if a.startswith("-") and len(a) > 1:
            name, eq, _value = a.partition("=")
            if is_secret_name(name.lstrip("-")):
                if eq:
                    out.append(f"{name}={MASK}")
                else:
                    out.append(a)
                    mask_next = True
                continue
        elif "=" in a:
            name, _, _value = a.partition("=")
            if name and " " not in name and is_secret_name(name):
                out.append(f"{name}={MASK}")
                continue
        out.append(redact_text(a))
    return out


def redact_value(key: Any, value: Any) -> Any:
    """A config or metadata value, masked when its key looks secret or its text looks like a token.

    Nested dicts and lists are walked (a dict under a secret key is masked whole); booleans and None are
    kept under any key (use_auth_token=True is no secret). A value with nothing to mask is returned as
    it is, the same object, so a tuple stays a tuple.
    """
    if is_secret_name(str(key)) and not (value is None or isinstance(value, bool) or value == MASK
                                         or (isinstance(value, str) and not value)):
        return MASK
    if isinstance(value, str):
        text = redact_text(value)
        return value if text == value else text
    if isinstance(value, Mapping):
        out = {k: redact_value(k, v) for k, v in value.items()}
        return value if all(out[k] is v for k, v in value.items()) else out
    if isinstance(value, (list, tuple)):
        items = [redact_value("", v) for v in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def redact_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    """A config dict with every secret masked (see redact_value); unchanged values are the same objects."""
    return {k: redact_value(k, v) for k, v in data.items()}
