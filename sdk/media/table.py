"""tracktui.Table: named columns and rows of numbers, strings, booleans, None, lists/arrays (as JSON) and media
(images, audio, video, 3D objects, molecules, HTML, plotly figures, histograms), with wandb's Table API."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from tracktui.store.media import MAX_TABLE_CELLS, MAX_TABLE_ROWS, Item

from .base import Media
from .content import FileMedia, jsonable
from .histogram import Histogram
from .image import Image

DEFAULT_COLUMNS = ("Input", "Output", "Expected")  # wandb's columns when none are given
_PLAIN = frozenset((str, int, float, bool, type(None)))
_CELL_MEDIA = (Image, FileMedia, Histogram)
_CELLS = "numbers, strings, booleans, None, lists, dicts, arrays or media objects"


def _is_dataframe(x: Any) -> bool:
    return hasattr(x, "columns") and hasattr(x, "itertuples") and hasattr(x, "iloc")


def _cell(v: Any, where: str) -> Any:
    """A cell as the table keeps it; a clear TypeError for what a table cannot hold."""
    if v is None or isinstance(v, (bool, int, float)):
        return v
    if isinstance(v, str):
        return str(v)  # numpy's str_ too
    if isinstance(v, _CELL_MEDIA):
        return v
    if isinstance(v, Media):
        raise TypeError(f"tracktui.Table: {where} is a {type(v).__name__}; a table cannot hold one")
    if isinstance(v, (datetime.date, datetime.datetime)):
        return None if v != v else v.isoformat()  # pandas' NaT is not equal to itself
    if type(v).__name__ == "NAType":  # pandas.NA
        return None
    item = getattr(v, "item", None)  # numpy and torch scalars
    if callable(item) and getattr(v, "ndim", 0) == 0 and hasattr(v, "dtype"):
        x = item()
        if isinstance(x, (bool, int, float, str)) or x is None:
            return x
    if isinstance(v, (list, tuple, dict)) or hasattr(v, "shape"):
        try:
            return jsonable(v, where)
        except TypeError as e:
            raise TypeError(f"tracktui.Table: {e}; table cells may hold {_CELLS}") from None
    raise TypeError(f"tracktui.Table: {where} is a {type(v).__name__} ({str(v)[:40]!r}); table cells may hold "
                    f"{_CELLS}")


def _accepts(dtype: Any) -> tuple[str, tuple[type, ...]]:
    """(name, the Python types a column cast to dtype accepts): a type (int and float both mean a number), a
    media class, or an example value."""
    if not isinstance(dtype, type):
        dtype = type(dtype)
    if dtype in (int, float):
        return "number", (int, float)
    if dtype in (bool, str, list, dict) or issubclass(dtype, _CELL_MEDIA):
        return dtype.__name__, (dtype,)
    raise TypeError(f"tracktui.Table: a column type must be int, float, bool, str, list, dict or a media class, "
                    f"got {dtype.__name__}")


class Table(Media):
    """Rows under named columns (wandb's default columns "Input", "Output", "Expected" when none are given);
    data may be a list of rows, a numpy array or a pandas DataFrame (its columns are taken). Rows are stored
    one by one so they can be read back and queried."""

    _type = "table"
    MAX_ROWS = MAX_TABLE_ROWS

    def __init__(self, columns: Sequence[Any] | None = None, data: Any = None, rows: Any = None,
                 dataframe: Any = None, dtype: Any = None, optional: bool | Sequence[bool] = True,
                 allow_mixed_types: bool = False, log_mode: str | None = None):
        if dataframe is not None and not _is_dataframe(dataframe):
            raise TypeError(f"tracktui.Table: dataframe must be a pandas DataFrame, not {type(dataframe).__name__}")
        frame = dataframe if dataframe is not None else data if _is_dataframe(data) else None
        if frame is not None:
            columns = list(frame.columns)
            data = [list(r) for r in frame.itertuples(index=False, name=None)]
        elif data is None:
            data = rows
        if columns is None:
            columns = list(DEFAULT_COLUMNS)
        if isinstance(columns, (str, bytes)) or not isinstance(columns, Sequence) or not all(
                isinstance(c, (str, int)) and not isinstance(c, bool) for c in columns):
            raise TypeError("tracktui.Table: columns must be a list of names (strings or ints); pass rows as data=")
        names = [str(c) for c in columns]
        if len(set(names)) != len(names):
            raise ValueError(f"tracktui.Table: column names must be unique, got {names}")
        if data is not None and hasattr(data, "shape") and not isinstance(data, (list, tuple)):
            if len(data.shape) < 2:
                raise ValueError(f"tracktui.Table: an array of data must be rows × columns, got shape {data.shape}")
            data = list(data)
        if data is not None and not isinstance(data, (list, tuple)):
            raise TypeError(f"tracktui.Table: data must be a list of rows, an array or a DataFrame, "
                            f"not {type(data).__name__}")
        self.columns: list[Any] = list(columns)
        self.data: list[list[Any]] = []
        self._casts: dict[int, tuple[str, tuple[type, ...], bool]] = {}
        if dtype is not None and not allow_mixed_types:
            dtypes = list(dtype) if isinstance(dtype, list) else [dtype] * len(self.columns)
            opts = list(optional) if isinstance(optional, (list, tuple)) else [optional] * len(self.columns)
            if len(dtypes) != len(self.columns) or len(opts) != len(self.columns):
                raise ValueError("tracktui.Table: dtype and optional need one value per column")
            for name, dt, opt in zip(self.columns, dtypes, opts, strict=True):
                self.cast(name, dt, optional=bool(opt))
        for row in data or []:
            if not isinstance(row, (list, tuple)) and not hasattr(row, "__len__"):
                raise TypeError(f"tracktui.Table: a row must be a list of values, not {type(row).__name__}")
            self.add_data(*row)

    # ------------------------------------------------------------ building

    def add_data(self, *row: Any) -> None:
        """Append one row (one value per column)."""
        if len(row) != len(self.columns):
            raise ValueError(f"tracktui.Table: a row has {len(row)} values but the table has {len(self.columns)} "
                             f"columns {self.columns}" + ("; pass columns=" if self.columns == list(DEFAULT_COLUMNS)
                                                          else ""))
        if len(self.data) >= MAX_TABLE_ROWS:
            raise ValueError(f"tracktui.Table: a table holds at most {MAX_TABLE_ROWS} rows")
        if (len(self.data) + 1) * len(self.columns) > MAX_TABLE_CELLS:
            raise ValueError(f"tracktui.Table: a table holds at most {MAX_TABLE_CELLS} cells")
        cells = list(row)
        for i, v in enumerate(cells):
            if type(v) not in _PLAIN:
                cells[i] = _cell(v, f"row {len(self.data)}, column {self.columns[i]!r}")
            if i in self._casts:
                self._check(i, cells[i], f"row {len(self.data)}")
        self.data.append(cells)

    def add_row(self, *row: Any) -> None:
        """add_data under wandb's older name."""
        self.add_data(*row)

    def add_column(self, name: Any, data: Sequence[Any], optional: bool = False) -> None:
        """Append a column (one value per existing row; the first column of an empty table makes the rows)."""
        if not isinstance(name, (str, int)) or isinstance(name, bool):
            raise TypeError(f"tracktui.Table: a column name must be a string, not {type(name).__name__}")
        if str(name) in (str(c) for c in self.columns):
            raise ValueError(f"tracktui.Table: there is already a column {name!r}")
        values = list(data)
        first = not self.columns
        if not first and len(values) != len(self.data):
            raise ValueError(f"tracktui.Table: column {name!r} has {len(values)} values but the table has "
                             f"{len(self.data)} rows")
        if len(values) > MAX_TABLE_ROWS:
            raise ValueError(f"tracktui.Table: a table holds at most {MAX_TABLE_ROWS} rows")
        cells = [_cell(v, f"row {i}, column {name!r}") for i, v in enumerate(values)]
        if first:
            self.data = [[c] for c in cells]
        else:
            for row, c in zip(self.data, cells, strict=True):
                row.append(c)
        self.columns.append(name)

    def add_computed_columns(self, fn: Callable[[int, dict[Any, Any]], dict[str, Any]]) -> None:
        """Add the columns fn(index, row as a dict) returns for every row."""
        new: dict[str, list[Any]] = {}
        for i, row in self.iterrows():
            out = fn(i, dict(zip(self.columns, row, strict=True)))
            if not isinstance(out, dict):
                raise TypeError(f"tracktui.Table.add_computed_columns: fn must return a dict, got {type(out).__name__}")
            for k, v in out.items():
                new.setdefault(k, []).append(v)
        for k, vals in new.items():
            self.add_column(k, vals)

    def cast(self, col_name: Any, dtype: Any, optional: bool = False) -> None:
        """Hold column col_name to a type from now on (int or float: numbers; bool, str, list, dict, a media
        class, or an example value); None is allowed when optional. A TypeError when a value does not fit."""
        i = self._index(col_name)
        name, types = _accepts(dtype)
        for n, row in enumerate(self.data):
            self._check_value(col_name, row[i], name, types, optional, f"row {n}")
        self._casts[i] = (name, types, optional)

    def _check(self, i: int, v: Any, where: str) -> None:
        name, types, optional = self._casts[i]
        self._check_value(self.columns[i], v, name, types, optional, where)

    @staticmethod
    def _check_value(col: Any, v: Any, name: str, types: tuple[type, ...], optional: bool, where: str) -> None:
        if v is None and optional:
            return
        if v is None or not isinstance(v, types) or (isinstance(v, bool) and bool not in types):
            raise TypeError(f"tracktui.Table: column {col!r} holds {'optional ' if optional else ''}{name} values; "
                            f"{where} has {type(v).__name__} {str(v)[:40]!r}")

    # ------------------------------------------------------------ reading

    def _index(self, name: Any) -> int:
        for i, c in enumerate(self.columns):
            if c == name or str(c) == str(name):
                return i
        raise KeyError(f"tracktui.Table: no column {name!r} (columns: {self.columns})")

    def get_column(self, name: Any, convert_to: str | None = None) -> Any:
        """The values of one column; convert_to="numpy" gives an array (images as their pixels)."""
        if convert_to not in (None, "numpy"):
            raise ValueError(f"tracktui.Table.get_column: convert_to must be None or 'numpy', got {convert_to!r}")
        i = self._index(name)
        col = [row[i] for row in self.data]
        if convert_to is None:
            return col
        import numpy as np

        return np.array([np.asarray(c.to_pil()) if isinstance(c, Image) else c for c in col])

    def get_index(self) -> list[int]:
        """The row indexes 0..n-1."""
        return list(range(len(self.data)))

    def iterrows(self) -> Iterator[tuple[int, list[Any]]]:
        """(index, row) for every row, as wandb yields them."""
        yield from enumerate(self.data)

    def get_dataframe(self) -> Any:
        """The table as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("tracktui.Table.get_dataframe needs pandas: pip install pandas") from e
        return pd.DataFrame(self.data, columns=self.columns)

    # ------------------------------------------------------------ equality (wandb's)

    def _eq_debug(self, other: Any, should_assert: bool = False) -> bool:
        """Whether other is a Table with the same columns and equal cells; should_assert=True raises an
        AssertionError that says what differs."""
        problem = None
        if not isinstance(other, Table):
            problem = f"found type {type(other).__name__}, expected Table"
        elif len(self.data) != len(other.data):
            problem = f"found {len(other.data)} rows, expected {len(self.data)}"
        elif self.columns != other.columns:
            problem = f"found columns {other.columns}, expected {self.columns}"
        else:
            for r, (a, b) in enumerate(zip(self.data, other.data, strict=True)):
                for c, (x, y) in enumerate(zip(a, b, strict=True)):
                    if type(x) is not type(y) and not (isinstance(x, (int, float)) and isinstance(y, (int, float))
                                                       and not isinstance(x, bool) and not isinstance(y, bool)):
                        problem = f"row {r} column {c}: found {type(y).__name__}, expected {type(x).__name__}"
                    elif x != y and not (x != x and y != y):  # NaN cells are equal
                        problem = f"row {r} column {c}: found {y!r}, expected {x!r}"
                    if problem:
                        break
                if problem:
                    break
        if problem and should_assert:
            raise AssertionError(f"tracktui.Table: {problem}")
        return problem is None

    def __eq__(self, other: object) -> bool:
        return self._eq_debug(other)

    def __ne__(self, other: object) -> bool:
        return not self._eq_debug(other)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    # ------------------------------------------------------------ the store

    def _item(self) -> Item:
        rows = [[c._item() if isinstance(c, _CELL_MEDIA) else c for c in row] for row in self.data]
        return Item("table", {"columns": [str(c) for c in self.columns], "rows": len(rows)}, rows=rows)

    def _ref(self) -> dict[str, Any]:
        return {"_type": "table", "columns": [str(c) for c in self.columns], "rows": len(self.data)}
