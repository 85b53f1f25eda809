"""Logged strings are data: never markup, never control sequences for the user's terminal.

safe_text() is for one-line cells (names, keys, values); keep_sgr() is for log lines, keeping only colour
(SGR) sequences so that Rich's ANSI decoder can colour them and nothing else reaches the terminal.
Neither imports Textual or Rich: the command line uses them too.
"""

from __future__ import annotations

import re

# Whole escape sequences, 7-bit and 8-bit: CSI, OSC (BEL or ST terminated), DCS/SOS/PM/APC, two-byte ESC x.
_CSI = r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
_STRING = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
_ESC2 = r"\x1b[ -/]*[0-~]?"
_SEQUENCE = re.compile(f"{_CSI}|{_STRING}|{_ESC2}")
_SGR = re.compile(r"\x1b\[[0-9;:]*m")
# What is left of C0 and C1 controls (tab and newline handled by the caller), DEL included.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
PLACEHOLDER = "\N{REPLACEMENT CHARACTER}"


def safe_text(s: object, one_line: bool = True, limit: int | None = None) -> str:
    """s as plain printable text: escape sequences and control characters shown as a placeholder."""
    text = s if isinstance(s, str) else str(s)
    text = _SEQUENCE.sub(PLACEHOLDER, text)
    if one_line:
        text = text.replace("\r\n", " ").replace("\n", " ").replace("\t", " ")
    text = _CONTROL.sub(PLACEHOLDER, text.replace("\r", ""))
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text


def keep_sgr(s: str) -> str:
    """A log line with only its SGR colour sequences kept; every other sequence and control removed."""
    out = []
    pos = 0
    for m in _SEQUENCE.finditer(s):
        out.append(_CONTROL.sub(PLACEHOLDER, s[pos:m.start()].replace("\t", "    ")))
        if _SGR.fullmatch(m.group()):
            out.append(m.group())
        pos = m.end()
    out.append(_CONTROL.sub(PLACEHOLDER, s[pos:].replace("\t", "    ")))
    return "".join(out)
