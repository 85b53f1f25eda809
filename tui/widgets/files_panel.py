"""FilesPanel: the files attached to a run (diff.patch and code with syntax highlighting), then the artifacts
it logged (↑) and used (↓), each with its version, aliases, file count and size, and its detail when chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist
from tracktui.store import Reader

from ..live import Feed, Live
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

    def __init__(self, live: Live, run_id: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.live = live
        self.run_id = run_id
        self.feed = live.feed(self, self._read_list, name="files")
        self._view: Feed | None = None  # the one-off read of the shown file or artifact
        self.error: str | None = None
        self.files: list[tuple[str, int, float]] = []
        self.artifacts: list[tuple[str, Any]] = []  # ("logged" | "used", VersionRow)

    def compose(self) -> ComposeResult:
        yield OptionList(id="files-list")
        with VerticalScroll(id="file-view"):
            yield Static(Text("no files attached to this run", style="dim"), id="file-content")

    def on_mount(self) -> None:
        self.feed.start()

    def reload(self) -> None:
        """Read the list of files again now."""
        self.feed.poll_now()

    def _read_list(self, r: Reader, cursor: Any) -> tuple[FilesPolled, Any]:
        """(worker thread) The run's files and the artifacts it logged and used."""
        from tracktui.store import artifacts as sart

        files = r.files(self.run_id)
        artifacts = [("logged", v) for v in sart.logged_by_run(r, self.run_id)]
        artifacts += [("used", v) for v in sart.used_by_run(r, self.run_id)]
        return FilesPolled(self.run_id, files, artifacts), cursor

    def on_feed_failed(self, message: Feed.Failed) -> None:
        """Say why the files cannot be read (the layer tries again)."""
        message.stop()
        self.error = message.text
        self._set_view(Text(f"⚠ {safe_text(message.text)}", style="bold red"))

    def on_feed_updated(self, message: Feed.Updated) -> None:
        """The list, or the shown file or artifact."""
        message.stop()
        if message.feed is self.feed:
            if self.error is not None:  # the view showed the error: open the file again
                self.error = None
                self.files, self.artifacts = [], []
            self.on_files_polled(message.data)
        elif message.feed is self._view:
            self._set_view(message.data)

    def on_files_polled(self, message: FilesPolled) -> None:
        """Show the list; open diff.patch, else the first file, else the first artifact."""
        if message.files == self.files and message.artifacts == self.artifacts:
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
            self._load(lambda r: self._read_artifact(r, self.run_id, role, v))

    def _load(self, read: Any) -> None:
        if self._view is not None:
            self._view.stop()  # a newer choice replaces it
        self._view = self.live.load(self, read, name="file")

    @staticmethod
    def _read_artifact(r: Reader, run_id: str, role: str, v: Any) -> Any:
        from tracktui.store import artifacts as sart

        return artifact_view(role, v, sart.files(r, v.id), sart.users(r, v.id), run_id)

    def _show(self, name: str) -> None:
        run_id = self.run_id
        self._load(lambda r: file_view(name, r.file_bytes(run_id, name)))

    def _set_view(self, view: Any) -> None:
        if self.is_attached:
            self.query_one("#file-content", Static).update(view)
