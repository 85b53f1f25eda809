"""tracktui.Table: named columns and rows of numbers, strings, booleans, None and Images."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tracktui.store.media import MAX_TABLE_CELLS, MAX_TABLE_ROWS, Item

from .base import Media
from .image import Image

_PLAIN = frozenset((str, int, float, bool, type(None)))


def _cell(v: Any, where: str) -> Any:
    """A cell as the store keeps it; a clear TypeError for what a table cannot hold."""
    if v is None or isinstance(v, (str, bool, int, float, Image)):
        return v
    item = getattr(v, "item", None)  # numpy and torch scalars
    if callable(item) and getattr(v, "ndim", 0) == 0:
        x = item()
        if isinstance(x, (bool, int, float)):
            return x
    if isinstance(v, Media):
        raise TypeError(
            f"tracktui.Table: {where} is a {type(v).__name__}; table cells may hold numbers, "
            f"strings, booleans, None or tracktui.Image"
        )
    raise TypeError(
        f"tracktui.Table: {where} is a {type(v).__name__} ({str(v)[:40]!r}); table cells may hold "
        f"numbers, strings, booleans, None or tracktui.Image"
    )


class Table(Media):
    """Rows under named columns; rows are stored one by one so they can be read back and queried."""

    _type = "table"

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        data: Any = None,
        rows: Any = None,
        dataframe: Any = None,
        dtype: Any = None,
        optional: Any = True,
        allow_mixed_types: bool = False,
    ):
        if rows is not None and data is None:
            data = rows
        if dataframe is not None:
            if data is not None:
                raise ValueError("tracktui.Table: pass data or dataframe, not both")
            columns = [str(c) for c in dataframe.columns] if columns is None else columns
            data = [list(r) for r in dataframe.itertuples(index=False, name=None)]
        if data is not None and hasattr(data, "tolist") and not isinstance(data, (list, tuple)):
            if getattr(data, "ndim", 2) != 2:
                raise ValueError(f"tracktui.Table: an array of data must be 2-d, got shape {data.shape}")
            data = data.tolist()
        if data is not None and not isinstance(data, (list, tuple)):
            raise TypeError(f"tracktui.Table: data must be a list of rows, not {type(data).__name__}")
        if columns is None:
            width = len(data[0]) if data else 0
            columns = [f"c{i}" for i in range(width)]
        if isinstance(columns, str) or not all(isinstance(c, (str, int)) for c in columns):
            raise TypeError("tracktui.Table: columns must be a list of names")
        self.columns: list[str] = [str(c) for c in columns]
        if len(set(self.columns)) != len(self.columns):
            raise ValueError(f"tracktui.Table: column names must be unique, got {self.columns}")
        self.data: list[list[Any]] = []
        for row in data or []:
            self.add_data(*row)

    def add_data(self, *row: Any) -> None:
        """Append one row (one value per column)."""
        if len(row) != len(self.columns):
            raise ValueError(
                f"tracktui.Table: a row has {len(row)} values but the table has "
                f"{len(self.columns)} columns {self.columns}"
            )
        if len(self.data) >= MAX_TABLE_ROWS:
            raise ValueError(f"tracktui.Table: a table holds at most {MAX_TABLE_ROWS} rows")
        if (len(self.data) + 1) * len(self.columns) > MAX_TABLE_CELLS:
            raise ValueError(f"tracktui.Table: a table holds at most {MAX_TABLE_CELLS} cells")
        cells = list(row)
        for i, v in enumerate(cells):
            if type(v) not in _PLAIN:
                cells[i] = _cell(v, f"row {len(self.data)}, column {self.columns[i]!r}")
        self.data.append(cells)

    def add_column(self, name: str, data: Sequence[Any], optional: bool = False) -> None:
        """Append a column (one value per existing row)."""
        name = str(name)
        if name in self.columns:
            raise ValueError(f"tracktui.Table: there is already a column {name!r}")
        values = list(data)
        if self.data and len(values) != len(self.data):
            raise ValueError(
                f"tracktui.Table: column {name!r} has {len(values)} values but the table has "
                f"{len(self.data)} rows"
            )
        cells = [_cell(v, f"row {i}, column {name!r}") for i, v in enumerate(values)]
        if not self.data:
            self.data = [[c] for c in cells]
        else:
            for row, c in zip(self.data, cells, strict=False):
                row.append(c)
        self.columns.append(name)

    def get_column(self, name: str) -> list[Any]:
        """The values of one column."""
        i = self.columns.index(name)
        return [row[i] for row in self.data]

    def get_dataframe(self) -> Any:
        """The table as a pandas DataFrame (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.data, columns=self.columns)

    def _item(self) -> Item:
        rows = [[c._item() if isinstance(c, Image) else c for c in row] for row in self.data]
        return Item("table", {"columns": list(self.columns), "rows": len(rows)}, rows=rows)

    def _ref(self) -> dict[str, Any]:
        return {"_type": "table", "columns": list(self.columns), "rows": len(self.data)}
