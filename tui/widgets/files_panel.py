"""FilesPanel: the files attached to a run (diff.patch and code with syntax highlighting), then the artifacts
it logged (↑) and used (↓), each with its version, aliases, file count and size, and its detail when chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist
from tracktui.store import Reader

from ..messages import FilesPolled
from ..text import safe_text
from .artifact_view import artifact_label, artifact_view

if TYPE_CHECKING:
    from ..app import TrackTuiApp

MAX_SHOWN = 512 * 1024  # bytes of one file shown
LEXERS = {".patch": "diff", ".diff": "diff", ".py": "python", ".txt": "text", ".json": "json",
          ".yaml": "yaml", ".yml": "yaml", ".toml": "toml", ".sh": "bash", ".md": "markdown"}


def file_view(name: str, data: bytes | None) -> Any:
    """A renderable of a file: highlighted text (control characters made visible), or a note."""
    if data is None:
        return Text("(file not found)", style="dim")
    if b"\0" in data[:4096]:
        return Text(f"binary file, {len(data):,} bytes", style="dim")
    text = data[:MAX_SHOWN].decode("utf-8", errors="replace")
    text = "\n".join(safe_text(line, one_line=True) for line in text.splitlines())
    if len(data) > MAX_SHOWN:
        text += f"\n… ({len(data) - MAX_SHOWN:,} more bytes)"
    ext = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    lexer = LEXERS.get(ext.lower()) or Syntax.guess_lexer(name, text)
    return Syntax(text, lexer, line_numbers=lexer != "diff", word_wrap=False, theme="ansi_dark")


class FilesPanel(Horizontal):
    """A list of a run's files and the selected one's content."""

    app: TrackTuiApp

    DEFAULT_CSS = """
    FilesPanel { height: 1fr; }
    FilesPanel OptionList { width: 30; height: 1fr; }
    FilesPanel VerticalScroll { width: 1fr; height: 1fr; }
    """

    def __init__(self, run_id: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.run_id = run_id
        self.files: list[tuple[str, int, float]] = []
        self.artifacts: list[tuple[str, Any]] = []  # ("logged" | "used", VersionRow)

    def compose(self) -> ComposeResult:
        yield OptionList(id="files-list")
        with VerticalScroll(id="file-view"):
            yield Static(Text("no files attached to this run", style="dim"), id="file-content")

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the list of files again."""
        self._read_list(self.run_id)

    @work(thread=True, exclusive=True, group="files-list", exit_on_error=False)
    def _read_list(self, run_id: str) -> None:
        from tracktui.store import artifacts as sart

        with Reader(self.app.store_root) as r:
            files = r.files(run_id)
            artifacts = [("logged", v) for v in sart.logged_by_run(r, run_id)]
            artifacts += [("used", v) for v in sart.used_by_run(r, run_id)]
        self.post_message(FilesPolled(run_id, files, artifacts))

    def on_files_polled(self, message: FilesPolled) -> None:
        """Show the list; open diff.patch, else the first file, else the first artifact."""
        message.stop()
        if not self.is_attached or (message.files == self.files and message.artifacts == self.artifacts):
            return
        self.files = message.files
        self.artifacts = message.artifacts
        ol = self.query_one(OptionList)
        highlighted = ol.highlighted_option.id if ol.highlighted_option is not None else None
        ol.clear_options()
        for i, (name, size, _) in enumerate(message.files):
            label = Text(safe_text(name, limit=60))
            label.append(f"  {size:,} B", style="dim")
            ol.add_option(Option(label, id=f"f{i}"))
        if message.artifacts:
            if message.files:
                ol.add_option(None)
            ol.add_option(Option(Text("artifacts", style="bold"), disabled=True))
            for i, (role, v) in enumerate(message.artifacts):
                ol.add_option(Option(artifact_label(role, v), id=f"a{i}"))
        targets = [highlighted] if highlighted is not None else []
        if message.files:
            names = [f[0] for f in message.files]
            targets.append(f"f{names.index('diff.patch') if 'diff.patch' in names else 0}")
        targets.append("a0")
        for target in targets:
            try:
                ol.highlighted = ol.get_option_index(target)
            except OptionDoesNotExist:
                continue
            self._open(target)
            break

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Show the highlighted file or artifact."""
        if event.option_id is not None:
            self._open(event.option_id)

    def _open(self, option_id: str) -> None:
        index = int(option_id[1:])
        if option_id[0] == "f" and index < len(self.files):
            self._show(self.files[index][0])
        elif option_id[0] == "a" and index < len(self.artifacts):
            role, v = self.artifacts[index]
            self._read_artifact(self.run_id, role, v)

    @work(thread=True, exclusive=True, group="file-read", exit_on_error=False)
    def _read_artifact(self, run_id: str, role: str, v: Any) -> None:
        from tracktui.store import artifacts as sart

        with Reader(self.app.store_root) as r:
            files = sart.files(r, v.id)
            users = sart.users(r, v.id)
        self.app.call_from_thread(self._set_view, artifact_view(role, v, files, users, run_id))

    def _show(self, name: str) -> None:
        self._read_file(self.run_id, name)

    @work(thread=True, exclusive=True, group="file-read", exit_on_error=False)
    def _read_file(self, run_id: str, name: str) -> None:
        with Reader(self.app.store_root) as r:
            data = r.file_bytes(run_id, name)
        view = file_view(name, data)
        self.app.call_from_thread(self._set_view, view)

    def _set_view(self, view: Any) -> None:
        if self.is_attached:
            self.query_one("#file-content", Static).update(view)
