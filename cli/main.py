"""The `tracktui` command line: parses arguments, then calls the store, the SDK or the app.

    tracktui [--dir D] [--project P]        open the terminal app
    tracktui ls [--project P] [--json]      list runs
    tracktui show RUN [--json]              one run: state, config, summary, metric keys
    tracktui export RUN --format csv|json   the run's history on stdout
    tracktui export [RUN] --format parquet --out DIR [--project P]   history and system metrics as Parquet
    tracktui sync [--from SRC] [--to DST]   send spooled records to DST; with --from, copy SRC's runs too
    tracktui compact                        merge a shared store's segment files (safe while writers run)
    tracktui grep PATTERN [--project P]     matching console lines (and run names, notes, tags) of every run
    tracktui import tensorboard|wandb DIR [--project P]   TensorBoard / wandb run folders as runs
    tracktui artifact ls [--project P]      artifact versions: name, version, aliases, files, size, run
    tracktui artifact get NAME[:VER] [--root DIR]   write an artifact's files to a directory

--store takes a root directory or a PostgreSQL URL (postgresql://user@host/db) and wins over --dir and
TRACKTUI_STORE.

User mistakes end with one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from tracktui.store import Reader, RunRecord, StoreError
from tracktui.store.codec import dumps
from tracktui.tui.text import safe_text  # plain text only (no Rich, no Textual): see tui/text.py

EXIT_USAGE = 2
EXIT_NOT_FOUND = 1


class CliError(Exception):
    """A user mistake: printed as one line, exit code attached."""

    def __init__(self, message: str, code: int = EXIT_NOT_FOUND):
        super().__init__(message)
        self.code = code


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `tracktui` and its subcommands."""
    p = argparse.ArgumentParser(prog="tracktui",
                                description="A local-first experiment tracker for the terminal.")
    p.add_argument("--dir", help="store root (default: TRACKTUI_STORE, TRACKTUI_DIR, $XDG_DATA_HOME/tracktui, "
                                 "~/.local/share/tracktui)")
    p.add_argument("--store", metavar="URL_OR_DIR",
                   help="the store: a PostgreSQL URL (postgresql://user@host/db) or a root directory")
    p.add_argument("--project", help="only this project's runs")
    sub = p.add_subparsers(dest="command")

    ls = sub.add_parser("ls", help="list runs")
    ls.add_argument("--project", dest="sub_project", help="only this project's runs")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")

    show = sub.add_parser("show", help="show one run")
    show.add_argument("run", help="run id, id prefix or name")
    show.add_argument("--json", action="store_true", help="as one JSON object")

    export = sub.add_parser("export", help="write a run's history to stdout (csv, json); runs' history and system "
                                           "metrics to a directory (parquet)")
    export.add_argument("run", nargs="?", help="run id, id prefix or name (parquet: all runs of --project when "
                                               "omitted)")
    export.add_argument("--format", choices=("csv", "json", "parquet"), default="csv")
    export.add_argument("--project", dest="sub_project", help="parquet: this project's runs")
    export.add_argument("--out", help="parquet: the directory to write (history/ and system/, a file per run)")

    grep = sub.add_parser("grep", help="search console lines, run names, notes and tags of every run")
    grep.add_argument("pattern", help="text to find (case-insensitive, from the start of a word)")
    grep.add_argument("--project", dest="sub_project", help="only this project's runs")
    grep.add_argument("--json", action="store_true", help="one JSON object per match")
    grep.add_argument("--limit", type=int, help="stop after this many matches")

    imp = sub.add_parser("import", help="import runs from TensorBoard log directories")
    imp_sub = imp.add_subparsers(dest="import_source", required=True)
    imp_tb = imp_sub.add_parser("tensorboard", help="every directory of event files under DIR becomes a run "
                                                    "(again: only what is new)")
    imp_tb.add_argument("source", metavar="DIR")
    imp_tb.add_argument("--project", dest="sub_project", help="project of the new runs (default: tensorboard)")
    imp_wb = imp_sub.add_parser("wandb", help="every offline-run-*/run-* folder under DIR becomes a run (again: "
                                              "only what is new; needs the wandb package)")
    imp_wb.add_argument("source", metavar="DIR")
    imp_wb.add_argument("--project", dest="sub_project", help="project of the new runs (default: wandb's)")

    art = sub.add_parser("artifact", help="list and download artifacts")
    art_sub = art.add_subparsers(dest="artifact_command", required=True)
    art_ls = art_sub.add_parser("ls", help="list artifact versions, newest version first")
    art_ls.add_argument("--project", dest="sub_project", help="only this project's artifacts")
    art_ls.add_argument("--type", help="only artifacts of this type")
    art_ls.add_argument("--json", action="store_true", help="one JSON object per line")
    art_get = art_sub.add_parser("get", help="write an artifact version's files to a directory")
    art_get.add_argument("ref", metavar="NAME[:VER]", help="name, name:v3, name:alias or project/name:version "
                                                          "(latest by default)")
    art_get.add_argument("--root", help="directory to write to (default: ./artifacts/NAME:VERSION)")
    art_get.add_argument("--project", dest="sub_project", help="the project that holds it")
    art_get.add_argument("--type", help="fail unless the artifact has this type")

    run = sub.add_parser("run", help="run a command and record it as a run",
                         description="Run CMD and record its console, system metrics, git state, requirements "
                                     "and exit code. Put the command after --.")
    run.add_argument("--project", dest="run_project", help="the run's project")
    run.add_argument("--name", help="the run's display name")
    run.add_argument("--tags", nargs="*", default=[], help="tags of the run")
    run.add_argument("--config", nargs="*", default=[], metavar="KEY=VALUE",
                     help="config values (VALUE parsed as JSON when it can be, else kept as text)")
    run.add_argument("--notes", help="notes of the run")
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD ARGS...")

    sync = sub.add_parser("sync", help="send spooled records to a store; copy runs from one store to another",
                          description="Send the records that waited in the local spool for DST (while it was "
                                      "away) and, with --from, copy every run of SRC into DST. Idempotent: "
                                      "running it again stores nothing twice.")
    sync.add_argument("--from", dest="src", metavar="SRC", help="a store to copy runs from (root or URL)")
    sync.add_argument("--to", dest="dst", metavar="DST",
                      help="the store to send to (default: --store, TRACKTUI_STORE)")
    sync.add_argument("--project", dest="sync_project", help="only this project's runs (with --from)")
    sync.add_argument("--run", dest="sync_runs", action="append", help="only this run (id or name; repeatable)")

    sub.add_parser("compact", help="merge a shared store's segment files (safe while writers run)")

    demo = sub.add_parser("demo", help="start a simulated training run and open the app on it")
    demo.add_argument("--dir", dest="demo_dir", help="store root (default: the normal root)")
    demo.add_argument("--steps", type=int, default=20_000, help="steps of the live run")
    demo.add_argument("--no-app", action="store_true", help="only start the runs, do not open the app")

    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tracktui` console script."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except CliError as e:
        print(f"tracktui: {e}", file=sys.stderr)
        return e.code
    except StoreError as e:
        print(f"tracktui: {e}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    store = args.store or args.dir
    if args.command == "ls":
        return cmd_ls(store, args.sub_project or args.project, args.json)
    if args.command == "show":
        return cmd_show(store, args.run, args.json)
    if args.command == "run":
        from tracktui.capture import wrapper

        return wrapper.main(args, store, args.project)
    if args.command == "export" and args.format == "parquet":
        from tracktui.export import export_parquet

        if not args.out:
            raise CliError("export --format parquet needs --out DIR", EXIT_USAGE)
        with _reader(store, must_exist=True) as r:
            runs = [_find(r, args.run).id] if args.run else None
        try:
            res = export_parquet(args.out, project=args.sub_project or args.project, runs=runs, store=store)
        except RuntimeError as e:
            raise CliError(str(e), EXIT_USAGE) from e
        print(f"{res.runs} runs: {res.history_rows} history rows, {res.system_rows} system rows in "
              f"{len(res.files)} files under {safe_text(args.out)}")
        return 0
    if args.command == "export":
        if not args.run:
            raise CliError("export needs a run (or --format parquet --out DIR for many)", EXIT_USAGE)
        return cmd_export(store, args.run, args.format)
    if args.command == "grep":
        from .grep import cmd_grep

        if not args.pattern:
            raise CliError("grep: the pattern is empty", EXIT_USAGE)
        with _reader(store, must_exist=True) as r:
            return cmd_grep(r, args.pattern, args.sub_project or args.project, args.json, args.limit)
    if args.command == "import":
        from tracktui.importers.tensorboard import import_tensorboard
        from tracktui.importers.wandb import import_wandb

        def progress(line: str) -> None:
            print(safe_text(line), file=sys.stderr)

        try:
            if args.import_source == "wandb":
                res = import_wandb(args.source, project=args.sub_project or args.project, store=store,
                                   progress=progress)
            else:
                res = import_tensorboard(args.source, project=args.sub_project or args.project or "tensorboard",
                                         store=store, progress=progress)
        except (RuntimeError, FileNotFoundError) as e:
            raise CliError(str(e), EXIT_USAGE) from e
        print(f"{res.runs} runs: {res.events} new events, {res.values} values"
              + (f"; {len(res.errors)} could not be read (above)" if res.errors else ""))
        return 1 if res.errors else 0
    if args.command == "sync":
        return cmd_sync(args.src, args.dst or store, args.sync_project, args.sync_runs)
    if args.command == "artifact":
        project = args.sub_project or args.project
        if args.artifact_command == "ls":
            return cmd_artifact_ls(store, project, args.type, args.json)
        return cmd_artifact_get(store, args.ref, project, args.root, args.type)
    if args.command == "compact":
        from tracktui.store.segments import compact_command

        return compact_command(store)
    if args.command == "demo":
        return cmd_demo(args.demo_dir or args.dir, args.steps, args.no_app)
    return cmd_app(store, args.project)


def cmd_sync(src: str | None, dst: str | None, project: str | None, runs: list[str] | None) -> int:
    """Send DST's spooled records; with --from, copy SRC's runs into DST first. Prints what it did."""
    from tracktui.store.location import StoreURL, resolve_store
    from tracktui.store.sync import SyncResult, copy_store, send_spools

    target = resolve_store(dst)
    result = SyncResult()
    if src is not None:
        try:
            result = copy_store(src, target, project=project, runs=runs)
        except ValueError as e:
            raise CliError(str(e), EXIT_USAGE) from e
        print(f"copied {result.runs} runs ({result.points} history points) from {resolve_store(src)} to {target}",
              file=sys.stderr)
    if isinstance(target, StoreURL):
        send_spools(target, result=result)
        print(f"sent {result.records} spooled records from {result.spools} spool files to {target}"
              + (f"; {result.busy} spool files belong to running processes and were left" if result.busy else ""),
              file=sys.stderr)
    elif src is None:
        raise CliError("give --to a PostgreSQL URL (or set TRACKTUI_STORE) to send its spool, or --from to copy runs",
                       EXIT_USAGE)
    return 0


def cmd_demo(dir: str | None, steps: int, no_app: bool) -> int:
    """Start the simulated runs, then open the app on their store; quitting the app stops the live run
    (with --no-app it runs on by itself)."""
    from .demo import seed_store

    proc = seed_store(dir, live_steps=steps, stop_with_parent=not no_app)
    print(f"tracktui demo: live run started (pid {proc.pid})", file=sys.stderr)
    if no_app:
        return 0
    try:
        return cmd_app(dir, None)
    finally:
        if proc.poll() is None:  # no training process left behind: the run ends as "killed"
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            print("tracktui demo: the live run was stopped", file=sys.stderr)


def _reader(dir: str | None, must_exist: bool) -> Reader:
    r = Reader(dir)
    if must_exist and not r.exists:
        raise CliError(f"no tracktui store at {r.store} (log a run with tracktui.init() first, or pass --dir "
                       "or --store)")
    if r.exists and r.snapshot:  # cannot be written here: say that what follows may not be the latest
        print(f"tracktui: {safe_text(r.snapshot)}", file=sys.stderr)
    return r


def _find(r: Reader, ref: str) -> RunRecord:
    rec = r.run(ref)
    if rec is None:
        raise CliError(f"no run {ref!r} in {r.store}")
    return rec


def _age(ts: float) -> str:
    d = max(0, time.time() - ts)
    for unit, n in (("d", 86400), ("h", 3600), ("m", 60)):
        if d >= n:
            return f"{int(d // n)}{unit} ago"
    return f"{int(d)}s ago"


def _duration(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def cmd_ls(dir: str | None, project: str | None, as_json: bool) -> int:
    """List runs, newest first: a table for people, JSON lines for scripts."""
    with _reader(dir, must_exist=True) as r:
        runs = r.runs(project=project)
    if as_json:
        for rec in runs:
            print(dumps(rec.to_dict()))
        return 0
    if not runs:
        print("no runs", file=sys.stderr)
        return 0
    rows = [("ID", "NAME", "PROJECT", "STATE", "CREATED", "RUNTIME", "STEP")]
    for rec in runs:
        rows.append((rec.id, safe_text(rec.name), safe_text(rec.project), rec.state, _age(rec.created_at),
                     _duration(rec.runtime), "" if rec.last_step is None else str(rec.last_step)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_show(dir: str | None, ref: str, as_json: bool) -> int:
    """One run: its columns, config, summary and metric keys."""
    from tracktui.tui.format import flatten

    with _reader(dir, must_exist=True) as r:
        rec = _find(r, ref)
        keys = r.keys(rec.id)
    if as_json:
        d = rec.to_dict()
        d["keys"] = keys
        print(dumps(d))
        return 0
    lines = [
        f"{safe_text(rec.name)} ({rec.id})", f"  project   {safe_text(rec.project)}",
        f"  state     {rec.state}" + (f" (exit {rec.exit_code})" if rec.exit_code is not None else ""),
        f"  created   {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(rec.created_at))}",
        f"  runtime   {_duration(rec.runtime)}", f"  host      {safe_text(rec.host or '')}",
    ]
    if rec.last_step is not None:  # a `tracktui run` run that logged no metric has no step
        lines.append(f"  step      {rec.last_step}")
    if rec.group:
        lines.append(f"  group     {safe_text(rec.group)}")
    if rec.tags:
        lines.append(f"  tags      {safe_text(', '.join(rec.tags))}")
    if rec.notes:
        lines.append(f"  notes     {safe_text(rec.notes)}")
    lines.append("config")
    lines += [f"  {safe_text(k)} = {safe_text(_fmt(v))}" for k, v in flatten(rec.config).items()]
    lines.append("summary")
    lines += [f"  {safe_text(k)} = {safe_text(_fmt(v))}" for k, v in flatten(rec.summary).items()]
    lines.append("metrics")
    lines += [f"  {safe_text(k)}" for k in keys]
    print("\n".join(lines))
    return 0


def cmd_export(dir: str | None, ref: str, fmt: str) -> int:
    """Every step of the run's history on stdout, as CSV (one column per key) or JSON lines."""
    with _reader(dir, must_exist=True) as r:
        rec = _find(r, ref)
        keys = r.keys(rec.id)
        rows = r.history_rows(rec.id)
        if fmt == "json":
            for row in rows:
                print(dumps(row))
            return 0
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["_step", "_timestamp", *keys])
        for row in rows:
            w.writerow([row["_step"], row["_timestamp"], *(_csv(row.get(k)) for k in keys)])
    return 0


def cmd_artifact_ls(dir: str | None, project: str | None, type_: str | None, as_json: bool) -> int:
    """Every artifact version, by project and name, newest version first."""
    from tracktui.store import artifacts as sart
    from tracktui.tui.format import nbytes

    with _reader(dir, must_exist=False) as r:
        rows = sart.versions(r, project=project, type=type_)
    if as_json:
        for v in rows:
            print(dumps({"project": v.project, "name": v.name, "version": f"v{v.version}", "type": v.type,
                         "aliases": v.aliases, "files": v.file_count, "size": v.size, "digest": v.digest,
                         "run_id": v.run_id, "created_at": v.created_at, "description": v.description,
                         "metadata": v.metadata}))
        return 0
    if not rows:
        print("no artifacts", file=sys.stderr)
        return 0
    table = [("NAME", "VERSION", "TYPE", "ALIASES", "FILES", "SIZE", "PROJECT", "RUN", "CREATED")]
    for v in rows:
        table.append((safe_text(v.name), f"v{v.version}", safe_text(v.type), safe_text(",".join(v.aliases)),
                      str(v.file_count), nbytes(v.size), safe_text(v.project), v.run_id or "",
                      _age(v.created_at)))
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_artifact_get(dir: str | None, ref: str, project: str | None, root: str | None, type_: str | None) -> int:
    """Write an artifact version's files under root; print the directory."""
    from tracktui.artifacts import read_artifact
    from tracktui.tui.format import nbytes

    _reader(dir, must_exist=True).close()
    if project and ref.count("/") == 0:
        ref = f"{project}/{ref}"
    try:
        art = read_artifact(dir, ref, type_)
        path = art.download(root)
    except ValueError as e:
        raise CliError(str(e)) from e
    except OSError as e:
        raise CliError(f"cannot write {root or 'artifacts'}: {e.strerror or e}") from e
    print(f"{safe_text(art.qualified_name)}: {art.file_count} files, {nbytes(art.size)}", file=sys.stderr)
    print(path)
    return 0


def cmd_app(dir: str | None, project: str | None) -> int:
    """Open the terminal app."""
    try:
        from tracktui.tui.app import make_app
    except ImportError as e:
        raise CliError(f"the terminal app is not available ({e})") from e
    with _reader(dir, must_exist=True) as r:  # no store, a file or another program's database: one line
        r.max_rev()
    make_app(store_dir=dir, project=project).run()
    return 0


def _csv(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, float) and v != v:
        return "nan"
    return v


def _fmt(v: Any) -> str:
    if isinstance(v, str):
        return v
    return json.dumps(v, default=repr) if not isinstance(v, float) else repr(v)


if __name__ == "__main__":
    sys.exit(main())
