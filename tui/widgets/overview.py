"""OverviewPanel: state and times, host and command, config as a tree, summary as a table, tags,
notes and git. Metadata keys are read defensively: the capture code fills them when it is present."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static, Tree
from tracktui.store import RunRecord
from tracktui.store.codec import parse_alert

from ..format import clock, duration, number, scalar, state_text, value_text
from ..text import safe_text

ALERT_STYLE = {"INFO": "cyan", "WARN": "yellow", "ERROR": "bold red"}
MAX_ALERTS = 20  # the newest shown


def _kv_table(rows: list[tuple[str, Any]]) -> Table:
    t = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    t.add_column(style="bold", no_wrap=True)
    t.add_column(overflow="fold")
    for k, v in rows:
        t.add_row(Text(k), v if isinstance(v, Text) else Text(safe_text(v)))
    return t


def info_rows(run: RunRecord, now: float | None = None) -> list[tuple[str, Any]]:
    """Key facts of a run: state and exit, times, host, user, command, python."""
    md = run.metadata if isinstance(run.metadata, dict) else {}
    st = state_text(run.state)
    if run.exit_code is not None:
        st.append(f"  (exit {run.exit_code})")
    rows: list[tuple[str, Any]] = [("state", st), ("id", run.id), ("project", run.project)]
    if run.group:
        rows.append(("group", run.group))
    if run.job_type:
        rows.append(("job type", run.job_type))
    rows.append(("created", clock(run.created_at)))
    if run.finished_at:
        rows.append(("finished", clock(run.finished_at)))
    end = run.finished_at or (now if now is not None and run.state == "running" else None)
    rows.append(("runtime", duration(end - run.created_at if end else run.runtime)))
    if run.last_step is not None:
        rows.append(("last step", f"{run.last_step:,}"))
    rows.append(("host", run.host or md.get("host") or ""))
    rows.extend(cluster_rows(md))
    for label, key in (("user", "user"), ("python", "python"), ("program", "program"), ("cwd", "cwd")):
        if md.get(key):
            rows.append((label, value_text(md.get(key), limit=200)))
    args = md.get("args")
    if isinstance(args, list):
        rows.append(("command", safe_text(" ".join(str(a) for a in args), limit=400)))
    elif md.get("command"):
        rows.append(("command", value_text(md.get("command"), limit=400)))
    if run.error:
        rows.append(("error", Text(safe_text(run.error, limit=400), style="red")))
    return rows


def cluster_rows(md: dict[str, Any]) -> list[tuple[str, Any]]:
    """Job and ranks from metadata['job'] / ['ranks'] (tracktui.distributed), where the run had them."""
    job = md.get("job") if isinstance(md.get("job"), dict) else {}
    ranks = md.get("ranks") if isinstance(md.get("ranks"), dict) else {}
    rows: list[tuple[str, Any]] = []
    if job.get("id"):
        shown = f"{job.get('scheduler') or 'job'} {job['id']}"
        if job.get("cluster"):
            shown += f" on {job['cluster']}"
        if job.get("partition"):
            shown += f", partition {job['partition']}"
        if job.get("restart_count"):
            shown += f", restart {job['restart_count']}"
        rows.append(("job", safe_text(shown, limit=200)))
        if job.get("nodelist"):
            rows.append(("nodes", safe_text(job["nodelist"], limit=400)))
    if ranks.get("world_size"):
        shown = f"rank {ranks.get('rank', 0)} of world size {ranks['world_size']}"
        if ranks.get("local_world_size"):
            shown += f", {ranks['local_world_size']} per node"
        if ranks.get("launcher"):
            shown += f" ({ranks['launcher']})"
        rows.append(("ranks", safe_text(shown, limit=200)))
    return rows


def alerts_text(alerts: list[tuple[int, float, str]]) -> Text:
    """The newest alerts, one a line: time, level, title, text (all of it data, never markup)."""
    t = Text()
    shown = alerts[-MAX_ALERTS:]
    if len(alerts) > len(shown):
        t.append(f"({len(alerts) - len(shown)} older not shown)\n", style="dim")
    for i, (_, ts, line) in enumerate(shown):
        a = parse_alert(line)
        level = a["level"] if a["level"] in ALERT_STYLE else "INFO"
        t.append(clock(ts) + " ", style="dim")
        t.append(f"{level:<5} ", style=ALERT_STYLE[level])
        if a["title"]:
            t.append(safe_text(a["title"], limit=80), style="bold")
            t.append("  ")
        t.append(safe_text(a["text"], limit=400))
        if i < len(shown) - 1:
            t.append("\n")
    return t


def git_rows(run: RunRecord) -> list[tuple[str, Any]]:
    """Git facts from metadata['git'], where the capture recorded them."""
    md = run.metadata if isinstance(run.metadata, dict) else {}
    git = md.get("git") if isinstance(md.get("git"), dict) else {}
    rows = []
    for label, key in (("commit", "commit"), ("branch", "branch"), ("remote", "remote")):
        if git.get(key):
            rows.append((label, value_text(git[key], limit=200)))
    if "dirty" in git:
        rows.append(("dirty", Text("yes", style="yellow") if git.get("dirty") else Text("no")))
    return rows


def fill_tree(tree: Tree[Any], data: dict[str, Any]) -> None:
    """Config as a tree: dicts open as branches, values as leaves (labels are Text, never markup)."""
    def add(node: Any, d: dict[str, Any]) -> None:
        for k, v in d.items():
            if isinstance(v, dict) and v:
                add(node.add(Text(safe_text(k, limit=80), style="bold"), expand=True), v)
            else:
                label = Text(safe_text(k, limit=80), style="bold")
                label.append(" = ", style="dim")
                label.append(value_text(v, limit=200))
                node.add_leaf(label)
    tree.clear()
    add(tree.root, data)
    tree.root.expand()


class OverviewPanel(VerticalScroll):
    """Everything about a run that is not a chart."""

    DEFAULT_CSS = """
    OverviewPanel { height: 1fr; padding: 0 1; }
    OverviewPanel .heading { text-style: bold; color: $accent; margin-top: 1; }
    OverviewPanel Tree { height: auto; max-height: 30; background: transparent; }
    OverviewPanel .alerts { display: none; }
    OverviewPanel.has-alerts .alerts { display: block; }
    """

    def __init__(self, run: RunRecord | None = None, now: float | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.run = run
        self.now = now
        self._config_key: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="ov-info")
        yield Static(Text("alerts"), classes="heading alerts")
        yield Static(id="ov-alerts", classes="alerts")
        yield Static(Text("config"), classes="heading")
        yield Tree(Text("config"), id="ov-config")
        yield Static(Text("summary"), classes="heading")
        yield Static(id="ov-summary")
        yield Static(Text("tags and notes"), classes="heading")
        yield Static(id="ov-notes")
        yield Static(Text("git"), classes="heading")
        yield Static(id="ov-git")

    def on_mount(self) -> None:
        self.query_one(Tree).show_root = False
        if self.run is None:  # mounted lazily, after the screen read its run
            self.run = getattr(self.screen, "record", None)
        if self.run is not None:
            self.show(self.run, getattr(self.screen, "alerts", None))

    def show(self, run: RunRecord, alerts: list[tuple[int, float, str]] | None = None) -> None:
        """Show (or refresh) a run's overview (and its alert lines (seq, ts, line), when there are any)."""
        self.run = run
        self.query_one("#ov-info", Static).update(_kv_table(info_rows(run, self.now)))
        if alerts:
            self.query_one("#ov-alerts", Static).update(alerts_text(alerts))
        self.set_class(bool(alerts), "has-alerts")
        key = repr(run.config)
        if key != self._config_key:
            self._config_key = key
            tree = self.query_one(Tree)
            if run.config:
                fill_tree(tree, run.config)
            else:
                tree.clear()
                tree.root.add_leaf(Text("(no config)", style="dim"))
        summ = Table(box=None, show_header=True, header_style="bold", padding=(0, 2, 0, 0))
        summ.add_column("key", no_wrap=True)
        summ.add_column("value", justify="right")
        for k, v in sorted(run.summary.items()):
            if isinstance(v, dict) and not {"best", "last", "max", "min", "mean", "first"} & set(v):
                continue  # a media reference
            shown = scalar(v)
            text = number(shown) if isinstance(shown, (int, float)) else value_text(shown, limit=60)
            if isinstance(v, dict):
                text = "  ".join(f"{a}={number(b) if isinstance(b, (int, float)) else value_text(b)}"
                                 for a, b in v.items())
            summ.add_row(Text(safe_text(k, limit=60)), Text(text))
        self.query_one("#ov-summary", Static).update(summ if run.summary else Text("(empty)", style="dim"))
        notes: list[tuple[str, Any]] = [("tags", ", ".join(safe_text(t) for t in run.tags) or "-")]
        notes.append(("notes", safe_text(run.notes, one_line=False) if run.notes else "-"))
        self.query_one("#ov-notes", Static).update(_kv_table(notes))
        git = git_rows(run)
        self.query_one("#ov-git", Static).update(
            _kv_table(git) if git else Text("(no git information recorded)", style="dim"))
