"""termlog / termwarn / termerror: wandb's one-line messages to stderr, prefixed "tracktui: "."""

from __future__ import annotations

import sys
import threading

_printed: set[str] = set()
_lock = threading.Lock()


def termlog(string: str = "", newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    """Print string to stderr ("tracktui: " first unless prefix=False; once only when repeat=False).

    Like every tracking call it never raises: a closed or broken stderr is ignored."""
    text = str(string)
    if not repeat:
        with _lock:
            if text in _printed:
                return
            _printed.add(text)
    lines = text.split("\n") if text else [""]
    out = "\n".join(f"tracktui: {line}" if prefix else line for line in lines)
    try:
        stream = sys.stderr
        if stream is not None:
            stream.write(out + ("\n" if newline else ""))
            stream.flush()
    except (OSError, ValueError):
        pass


def termwarn(string: str, newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    """termlog with "WARNING " before the text."""
    termlog(f"WARNING {string}", newline=newline, repeat=repeat, prefix=prefix)


def termerror(string: str, newline: bool = True, repeat: bool = True, prefix: bool = True) -> None:
    """termlog with "ERROR " before the text."""
    termlog(f"ERROR {string}", newline=newline, repeat=repeat, prefix=prefix)
