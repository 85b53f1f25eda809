"""tracktui.Histogram: bins (edges) and counts; plain lists and 1-d arrays logged under a key become one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracktui.store.media import Item

from .base import Media, need_numpy, to_numpy

MAX_BINS = 512


def uniform_histogram(a: Any, bins: int) -> tuple[Any, Any]:
    """np.histogram(a, bins) of finite float64 values: the same counts and edges, much faster."""
    np = need_numpy("Histogram")
    if a.size == 0:
        return np.histogram(a, bins=bins)
    lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, bins + 1)
    idx = ((a - lo) * (bins / (hi - lo))).astype(np.intp)
    np.minimum(idx, bins - 1, out=idx)
    # as numpy does: fix the bin of values that rounding put one bin off
    idx[a < edges[idx]] -= 1
    idx[(a >= edges[idx + 1]) & (idx != bins - 1)] += 1
    return np.bincount(idx, minlength=bins), edges


class Histogram(Media):
    """A histogram of a sequence (num_bins equal bins over its finite values), or of a (counts, edges) pair
    as np.histogram returns it."""

    _type = "histogram"

    def __init__(
        self,
        sequence: Sequence[Any] | Any = None,
        np_histogram: tuple[Any, Any] | None = None,
        num_bins: int = 64,
    ):
        np = need_numpy("Histogram")
        if isinstance(num_bins, bool) or not isinstance(num_bins, int) or not 1 <= num_bins <= MAX_BINS:
            raise ValueError(
                f"tracktui.Histogram: num_bins must be an integer in 1..{MAX_BINS}, got {num_bins!r}"
            )
        self.nonfinite = 0
        self._uniform = False
        if np_histogram is not None:
            if sequence is not None:
                raise ValueError("tracktui.Histogram: pass a sequence or np_histogram, not both")
            try:
                counts, edges = np_histogram
            except (TypeError, ValueError) as e:
                raise ValueError("tracktui.Histogram: np_histogram must be a (counts, edges) pair") from e
            counts = to_numpy(counts).astype(np.float64).ravel()
            edges = to_numpy(edges).astype(np.float64).ravel()
            if len(edges) != len(counts) + 1 or len(counts) == 0:
                raise ValueError(
                    f"tracktui.Histogram: np_histogram needs len(edges) == len(counts) + 1 >= 2, "
                    f"got {len(counts)} counts and {len(edges)} edges"
                )
            if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) < 0):
                raise ValueError("tracktui.Histogram: edges must be finite and increasing")
            if not np.all(np.isfinite(counts)) or np.any(counts < 0):
                raise ValueError("tracktui.Histogram: counts must be finite and non-negative")
        elif sequence is not None:
            a = to_numpy(sequence)
            if a.dtype.kind not in "biuf":
                raise TypeError(f"tracktui.Histogram: the sequence must hold numbers, got dtype {a.dtype}")
            a = a.astype(np.float64, copy=False).ravel()
            finite = np.isfinite(a)
            if not finite.all():
                self.nonfinite = int((~finite).sum())
                a = a[finite]
            counts, edges = uniform_histogram(a, num_bins)
            self._uniform = True
        else:
            raise ValueError("tracktui.Histogram: pass a sequence or np_histogram")
        if counts.dtype.kind in "iu":
            self.counts: list[float] = counts.tolist()
        else:
            self.counts = [int(c) if c.is_integer() else c for c in counts.tolist()]
        self.edges: list[float] = edges.tolist()
        self.num_bins = len(self.counts)

    @property
    def histogram(self) -> list[float]:
        """The counts (wandb's name)."""
        return self.counts

    @property
    def bins(self) -> list[float]:
        """The edges (wandb's name)."""
        return self.edges

    def _item(self) -> Item:
        meta: dict[str, Any]
        if self._uniform:  # edges are linspace(lo, hi, num_bins + 1): the reader recomputes them exactly
            meta = {
                "lo": self.edges[0],
                "hi": self.edges[-1],
                "num_bins": self.num_bins,
                "values": self.counts,
            }
        else:
            meta = {"bins": self.edges, "num_bins": self.num_bins, "values": self.counts}
        if self.nonfinite:
            meta["nonfinite"] = self.nonfinite
        return Item("histogram", meta)

    def _ref(self) -> dict[str, Any]:
        return {"_type": "histogram", "num_bins": self.num_bins, "min": self.edges[0], "max": self.edges[-1]}
