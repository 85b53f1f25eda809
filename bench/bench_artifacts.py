"""Artifact benchmark: a checkpoint of SIZE MiB logged, logged again (identical), and downloaded.

    python bench/bench_artifacts.py [--mib 512] [--quick] [--shared]

--shared: the store on an sshfs mount through an sshd on the loopback (shared mode: blobs as files on the
mount, the version as a segment record); the copy baseline is then a plain copy of the file onto the mount.

Prints, against baselines measured in the same run (sha256 of the file, a plain file copy, the same bytes
inserted into a bare WAL database in 16 MiB blobs, one transaction each): the time
log_artifact takes on the calling thread, the peak memory it adds, the store's growth, the time of a second
log of the same bytes (deduplicated: no new version, no new bytes), the download time, and how long metrics
logged from another thread meanwhile wait to be durable (chunks go in short transactions, so the writer
keeps committing between them).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

import tracktui

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "store"))


def _store_bytes(root: Path) -> int:
    if not (root / "tracktui.db").exists():  # a shared store: segments and blobs
        return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    conn = sqlite3.connect(root / "tracktui.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return sum(p.stat().st_size for p in root.iterdir() if p.is_file())


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=512)
    ap.add_argument("--quick", action="store_true", help="64 MiB")
    ap.add_argument("--shared", action="store_true", help="the store on an sshfs mount (shared mode)")
    args = ap.parse_args()
    mib = 64 if args.quick else args.mib
    with tempfile.TemporaryDirectory() as d, contextlib.ExitStack() as stack:
        tmp = Path(d)
        dest = tmp
        if args.shared:
            from sshfs_mount import SshfsMount, missing

            why = missing()
            if why:
                raise SystemExit(f"--shared needs sshd, sshfs and FUSE: {why}")
            os.environ["XDG_CACHE_HOME"] = str(tmp / "cache")
            dest = stack.enter_context(SshfsMount(tmp / "net")).mnt
        ckpt = tmp / "model.pt"
        with open(ckpt, "wb") as f:
            for _ in range(mib):
                f.write(os.urandom(1 << 20))
        t0 = time.perf_counter()
        h = hashlib.sha256()
        with open(ckpt, "rb") as f:
            while chunk := f.read(16 << 20):
                h.update(chunk)
        t_hash = time.perf_counter() - t0
        t0 = time.perf_counter()
        with open(ckpt, "rb") as src, open(dest / "copy.pt", "wb") as out:
            shutil.copyfileobj(src, out, 16 << 20)
            if args.shared:  # as a blob is written on the mount
                out.flush()
                os.fsync(out.fileno())
        t_copy = time.perf_counter() - t0
        os.unlink(dest / "copy.pt")
        raw = sqlite3.connect(tmp / "raw.db", isolation_level=None)
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=NORMAL")
        raw.execute("CREATE TABLE blobs(sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, data BLOB NOT NULL)")
        t0 = time.perf_counter()
        with open(ckpt, "rb") as f:
            while chunk := f.read(16 << 20):
                raw.execute("BEGIN IMMEDIATE")
                sha = hashlib.sha256(chunk).hexdigest()
                raw.execute("INSERT INTO blobs VALUES (?, ?, ?)", (sha, len(chunk), chunk))
                raw.execute("COMMIT")
        t_raw = time.perf_counter() - t0
        raw.close()
        for p in tmp.glob("raw.db*"):
            p.unlink()

        root = dest / "store"
        run = tracktui.init(project="bench", dir=root, settings={"capture": False})
        run.log({"warmup": 1.0})
        run._writer_for_this_process().flush()
        base_size = _store_bytes(root)
        waits: list[float] = []
        stop = threading.Event()

        def metrics() -> None:
            w = run._writer_for_this_process()
            while not stop.is_set():
                run.log({"loss": 1.0})
                t = time.perf_counter()
                w.flush()
                waits.append(time.perf_counter() - t)
                time.sleep(0.01)

        peak_before = _peak_mib()
        th = threading.Thread(target=metrics)
        th.start()
        art = tracktui.Artifact("ckpt", type="model")
        art.add_file(ckpt)
        t0 = time.perf_counter()
        run.log_artifact(art)
        t_log = time.perf_counter() - t0
        stop.set()
        th.join()
        peak_added = _peak_mib() - peak_before
        grown = _store_bytes(root) - base_size

        again = tracktui.Artifact("ckpt", type="model")
        again.add_file(ckpt)
        t0 = time.perf_counter()
        run.log_artifact(again, aliases=["same"])
        t_again = time.perf_counter() - t0
        grown_again = _store_bytes(root) - base_size - grown
        run.finish()

        got = tracktui.Api(root).artifact("ckpt:same")
        t0 = time.perf_counter()
        out = Path(got.download(tmp / "out"))
        t_down = time.perf_counter() - t0
        h2 = hashlib.sha256((out / "model.pt").read_bytes()).hexdigest()

        print(f"checkpoint: {mib} MiB of random bytes" + (", store on sshfs (shared mode)" if args.shared else ""))
        print(f"baseline sha256 of the file:        {t_hash:7.2f} s")
        print(f"baseline plain copy of the file:     {t_copy:7.2f} s" + ("   (onto the mount)" if args.shared else ""))
        print(f"baseline raw SQLite blob inserts:    {t_raw:7.2f} s")
        print(f"log_artifact (calling thread):       {t_log:7.2f} s   -> {art.name}")
        print(f"peak memory added by log_artifact:   {peak_added:7.1f} MiB")
        print(f"store growth:                        {grown / 2**20:7.1f} MiB")
        print(f"log_artifact of the same bytes:      {t_again:7.2f} s   -> {again.name} "
              f"(store growth {grown_again / 2**20:.2f} MiB)")
        print(f"download:                            {t_down:7.2f} s   byte-exact: {h2 == h.hexdigest()}")
        if waits:
            waits.sort()
            median = waits[len(waits) // 2] * 1000
            print(f"metrics durable while it stored:     {len(waits)} flushes, median {median:.0f} ms, "
                  f"max {waits[-1] * 1000:.0f} ms")
        if args.shared:
            from tracktui.store import shared

            shared.stop_folders()  # before the mount goes


if __name__ == "__main__":
    main()
