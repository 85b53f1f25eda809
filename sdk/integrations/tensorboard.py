"""sync_tensorboard: record what TensorBoard writers write, without changing the script.

    tracktui.init(project="legacy", sync_tensorboard=True)
    writer = torch.utils.tensorboard.SummaryWriter()      # or tensorboardX.SummaryWriter
    writer.add_scalar("loss", 0.5, global_step=10)        # also stored in the run: key "loss", step 10

How: the `add_event` method of the two EventFileWriter classes that every SummaryWriter writes through
(`tensorboard.summary.writer.event_file_writer`, which torch.utils.tensorboard uses, and
`tensorboardX.event_file_writer`) is wrapped. The original runs first, so the event files are written exactly as
before; then the event's summary values are logged into the run at the event's own step. Wrapping the writer,
rather than tailing the event files with a reader thread, sees each value when the script writes it (a
SummaryWriter flushes its files only every 120 s by default), parses nothing back, and needs no thread or final
catch-up read when the run ends. Nothing is imported for it: a writer module already imported is patched at
once, one imported later is patched as it is imported.

What is kept: scalars (`simple_value` and scalar tensors) as numbers; images (PNG/JPEG) as tracktui.Image;
histograms (`histo` and the histograms plugin's tensors) as tracktui.Histogram; text as tracktui.Text (the
`/text_summary` suffix that writers add is dropped); add_hparams' hyperparameters as config, and its metrics
under their tags ("hparam/acc"): the session folder add_hparams writes them in (named by run_name, by default
the time, so a new name every run) is this run, so it is not part of the key. Not kept (one
message each): audio, GIF videos, PR curves, meshes and other plugins; graphs and embeddings are not summaries.

Steps: each value is logged at its event's step with commit=False, so the values that one step's add_* calls
write share a row; the row is committed when an event with another step arrives, when the writer is flushed or
closed, and when the run finishes. TensorBoard keeps steps per tag and per writer, so a step lower than the
run's current one is normal here: it is stored at that step without log()'s step-back warning.

Keys: the tag, prefixed by the writer's log directory relative to the first one seen (or to `root_logdir`),
e.g. "loss" for runs/exp and "loss_train/loss" for the folder add_scalars makes.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
import threading
from typing import Any

from ..hooks import on_finish
from ..warn import lost

WRITER_MODULES = ("tensorboard.summary.writer.event_file_writer", "tensorboardX.event_file_writer")
TEXT_SUFFIX = "/text_summary"

_lock = threading.RLock()
_run: Any = None  # the run events go to (None: they only go to the event files)
_root: str | None = None  # the log directory keys are relative to
_prefixes: dict[str, str] = {}  # log directory -> key prefix
_row_step: int | None = None  # the step of the row the events are filling (logged with commit=False)
_writers: set[int] = set()  # the writers (ids) whose events are in that row
_patched: set[type] = set()


def patch(run: Any = None, root_logdir: str | os.PathLike[str] | None = None) -> None:
    """Record every TensorBoard event written from now on into run (default: the current run).

    Args:
        run: a tracktui Run; tracktui.init(sync_tensorboard=True) passes the new run.
        root_logdir: the log directory keys are relative to; default the first one written to.
    """
    global _run, _root
    if run is None:
        from .. import lifecycle

        run = lifecycle.require_run("integrations.tensorboard.patch")
    unpatch()
    with _lock:
        _run = run
        _root = os.path.abspath(root_logdir) if root_logdir is not None else None
        _prefixes.clear()
    for name in WRITER_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            _patch_writer(module.EventFileWriter)
    if not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


def unpatch() -> None:
    """Stop recording (the writers keep writing their files; the wrapper stays and does nothing)."""
    global _run, _row_step
    run = _run
    if run is not None and not getattr(run, "_finished", False):
        _commit(run)
    with _lock:
        _run, _row_step = None, None
        _writers.clear()


def _unpatch_finished(run: Any) -> None:
    if _run is run:
        unpatch()


on_finish(_unpatch_finished)


# ---------------------------------------------------------------- the wrappers


def _patch_writer(cls: type) -> None:
    with _lock:
        if cls in _patched:
            return
        _patched.add(cls)
    add_event, flush, close = cls.add_event, cls.flush, cls.close

    def patched_add_event(self: Any, event: Any) -> Any:
        result = add_event(self, event)
        run = _run
        if run is not None:
            _record(run, self, event)
        return result

    def patched_flush(self: Any) -> Any:
        if _run is not None and id(self) in _writers:  # not another writer's (a new writer flushes at once)
            _commit(_run)
        return flush(self)

    def patched_close(self: Any) -> Any:
        if _run is not None and id(self) in _writers:
            _commit(_run)
        return close(self)

    for name, fn, orig in (("add_event", patched_add_event, add_event), ("flush", patched_flush, flush),
                           ("close", patched_close, close)):
        fn.__name__, fn.__doc__, fn.__wrapped__ = orig.__name__, orig.__doc__, orig  # type: ignore[attr-defined]
        setattr(cls, name, fn)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches a writer module right after it is imported (so that sync_tensorboard imports nothing)."""

    def __init__(self) -> None:
        self._busy: set[str] = set()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in WRITER_MODULES or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy.discard(fullname)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PatchingLoader(spec.loader)
        return spec


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner: Any):
        self._inner = inner

    def create_module(self, spec: Any) -> Any:
        return self._inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._inner.exec_module(module)
        _patch_writer(module.EventFileWriter)

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ... for tracebacks and tools
        return getattr(self._inner, name)


# ---------------------------------------------------------------- events to values


def _commit(run: Any) -> None:
    """Commit the row the events are filling (log() at that step commits it, and adds nothing)."""
    global _row_step
    with _lock:
        step, _row_step = _row_step, None
        _writers.clear()
    try:
        if step is not None:
            _log_at(run, {}, step, True)
    except Exception as e:  # noqa: BLE001 - never into the training loop
        lost("tensorboard-commit", f"tracktui: sync_tensorboard could not commit a step ({e})")


def _log_at(run: Any, data: dict[str, Any], step: int, commit: bool) -> None:
    """Log at the event's own step: TensorBoard keeps steps per tag (and per writer), so a step lower than the
    run's current one is expected here and stored there without log()'s step-back warning."""
    log = getattr(run, "_log_own_steps", None)
    if log is None:  # a run that records nothing (disabled, or another rank's)
        run.log(data, step=step, commit=commit)
    else:
        log(data, step, commit)


def _prefix_of(logdir: str) -> str:
    global _root
    with _lock:
        prefix = _prefixes.get(logdir)
        if prefix is None:
            if _root is None:
                _root = logdir
            rel = os.path.relpath(logdir, _root)
            if rel == ".":
                prefix = ""
            elif rel == ".." or rel.startswith(".." + os.sep):
                prefix = os.path.basename(logdir) + "/"
            else:
                prefix = rel.replace(os.sep, "/") + "/"
            _prefixes[logdir] = prefix
    return prefix


def _hparams_session(logdir: str) -> None:
    """add_hparams() writes through a writer of its own, in a folder under the script's writer named by
    run_name (by default the time: a new name every run). That session is this run: its metric keys take the
    script's writer's prefix ("hparam/acc", not "1795939657.89/hparam/acc")."""
    global _root
    parent = os.path.dirname(logdir)
    with _lock:
        if _root is None:
            _root = parent
        _prefixes[logdir] = _prefix_of(parent)


def _record(run: Any, writer: Any, event: Any) -> None:
    """Log the event's summary values at its step; a value that cannot be converted costs only itself."""
    global _row_step
    try:
        if not event.HasField("summary") or not event.summary.value:
            return
        logdir = os.path.abspath(str(writer.get_logdir()))
        if any(v.metadata.plugin_data.plugin_name == "hparams" for v in event.summary.value):
            _hparams_session(logdir)
        prefix = _prefix_of(logdir)
        data: dict[str, Any] = {}
        for value in event.summary.value:
            try:
                _convert(run, value, prefix, event, data)
            except Exception as e:  # noqa: BLE001 - the value is in the event file; training goes on
                lost(f"tensorboard:{type(e).__name__}", f"tracktui: sync_tensorboard could not record "
                     f"{value.tag!r} ({type(e).__name__}: {e}); it is only in the event file")
        if data:
            step = int(event.step)
            with _lock:
                if _row_step != step:  # log() commits the previous row: this one starts
                    _row_step = step
                    _writers.clear()
                _writers.add(id(writer))
            _log_at(run, data, step, False)
    except Exception as e:  # noqa: BLE001
        lost(f"tensorboard:{type(e).__name__}", f"tracktui: sync_tensorboard could not record an event "
                                                f"({type(e).__name__}: {e}); it is only in the event file")


def _skip(what: str, tag: str) -> None:
    lost(f"tensorboard-skip:{what}", f"tracktui: sync_tensorboard does not record {what} (tag {tag!r}); "
                                     "they are only in the event files")


def _convert(run: Any, value: Any, prefix: str, event: Any, data: dict[str, Any]) -> None:
    from .. import media

    kind = value.WhichOneof("value")
    tag = value.tag
    plugin = value.metadata.plugin_data.plugin_name
    if plugin == "hparams":  # add_hparams' summaries carry their content in the metadata, no value
        _hparams(run, value, event)
    elif kind == "simple_value":
        data[prefix + tag] = float(value.simple_value)
    elif kind == "image":
        image = _image(value.image.encoded_image_string, tag)
        if image is not None:
            data[prefix + tag] = image
    elif kind == "histo":
        data[prefix + tag] = _histogram_proto(value.histo)
    elif kind == "tensor":
        if plugin in ("scalars", ""):
            array = _tensor(value.tensor)
            if array.size == 1 and array.dtype.kind in "fiub":
                data[prefix + tag] = float(array.reshape(()))
            else:
                _skip("non-scalar tensors", tag)
        elif plugin == "text":
            strings = _tensor(value.tensor).reshape(-1)
            text = "\n".join(s.decode("utf-8", "replace") for s in strings)
            data[prefix + tag.removesuffix(TEXT_SUFFIX)] = media.Text(text)
        elif plugin == "histograms":
            rows = _tensor(value.tensor)
            if rows.ndim == 2 and rows.shape[0] > 0 and rows.shape[1] == 3:
                edges = [float(rows[0, 0]), *(float(r) for r in rows[:, 1])]
                data[prefix + tag] = media.Histogram(np_histogram=(rows[:, 2], edges))
        elif plugin == "images":
            images = [_image(s, tag) for s in list(value.tensor.string_val)[2:]]  # width and height first
            if images and all(i is not None for i in images):
                data[prefix + tag] = images
        else:
            _skip(f"{plugin} summaries", tag)
    elif kind == "audio":
        _skip("audio", tag)
    elif kind is not None:
        _skip(f"{kind} summaries", tag)


def _image(encoded: bytes, tag: str) -> Any:
    from .. import media

    if not (encoded.startswith(b"\x89PNG") or encoded.startswith(b"\xff\xd8")):
        _skip("images other than PNG and JPEG (videos are GIFs)", tag)
        return None
    return media.Image(bytes(encoded))


def _histogram_proto(h: Any) -> Any:
    """A HistogramProto (right bucket edges, counts, min, max) as a tracktui.Histogram."""
    from .. import media

    limits = [float(x) for x in h.bucket_limit]
    counts = [float(x) for x in h.bucket]
    if not limits or len(limits) != len(counts):
        raise ValueError(f"a histogram with {len(limits)} limits for {len(counts)} buckets")
    # The first bucket's left edge is not stored: writers put an empty bucket first, so one width to the left.
    left = limits[0] - (limits[1] - limits[0]) if len(limits) > 1 else limits[0] - 1.0
    return media.Histogram(np_histogram=(counts, [left, *limits]))


# TensorProto dtype -> (numpy dtype, the repeated field that holds values when tensor_content is empty)
_DTYPES = {1: ("<f4", "float_val"), 2: ("<f8", "double_val"), 3: ("<i4", "int_val"), 4: ("u1", "int_val"),
           5: ("<i2", "int_val"), 6: ("i1", "int_val"), 9: ("<i8", "int64_val"), 10: ("?", "bool_val"),
           17: ("<u2", "int_val"), 19: ("<f2", "half_val"), 22: ("<u4", "uint32_val"), 23: ("<u8", "uint64_val")}
_STRING = 7


def _tensor(t: Any) -> Any:
    """A TensorProto as a numpy array (tensorboard's own make_ndarray is not there where only tensorboardX is)."""
    import numpy as np

    shape = [d.size for d in t.tensor_shape.dim]
    if t.dtype == _STRING:
        return np.array(list(t.string_val), dtype=object).reshape(shape or (-1,))
    name, field = _DTYPES[t.dtype]
    dtype = np.dtype(name)
    if t.tensor_content:
        return np.frombuffer(t.tensor_content, dtype=dtype).reshape(shape)
    if field == "half_val":  # float16 bit patterns in an int field
        values = np.array(list(t.half_val), dtype="<u2").view(dtype)
    else:
        values = np.array(list(getattr(t, field)), dtype=dtype)
    size = int(np.prod(shape)) if shape else 1
    if values.size == 1 and size != 1:
        values = np.full(size, values[0], dtype=dtype)
    return values.reshape(shape)


def _hparams(run: Any, value: Any, event: Any) -> None:
    """add_hparams(): the session start info holds the hyperparameters; they become config."""
    if type(event).__module__.startswith("tensorboardX"):
        from tensorboardX.proto import plugin_hparams_pb2 as pb
    else:
        from tensorboard.plugins.hparams import plugin_data_pb2 as pb
    content = pb.HParamsPluginData()
    content.ParseFromString(value.metadata.plugin_data.content)
    if not content.HasField("session_start_info"):
        return
    config = {}
    for name, v in content.session_start_info.hparams.items():
        kind = v.WhichOneof("kind")
        config[name] = None if kind in (None, "null_value") else getattr(v, kind)
    if config:
        run.config.update(config)
