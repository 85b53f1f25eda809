"""run.config as wandb's: the dict protocol its tests/unit_tests/test_wandb_config.py checks, and a changed
value needing allow_val_change (wandb raises ConfigError; here: one warning per key, the old value kept,
persisted as kept)."""

from __future__ import annotations

import argparse
import sys
import types
import warnings

import pytest
import tracktui


@pytest.fixture
def run(store_dir):
    r = tracktui.init(dir=store_dir, settings={"capture": False})
    yield r
    r.finish()


def stored_config(store_dir, run):
    run.finish()
    return tracktui.Api(store_dir).run(run.id).config


def test_attribute_set_update_and_setdefaults(run, store_dir):
    run.config.this = 2
    assert dict(run.config) == {"this": 2}
    run.config.update({"that": 4})
    run.config.setdefaults({"extra": 2, "that": 5})
    run.config.update(argparse.Namespace(batch=32))
    assert dict(run.config) == {"this": 2, "that": 4, "extra": 2, "batch": 32}
    assert run.config.get("a", 1) == 1
    with pytest.raises(AttributeError, match="'a'"):
        run.config.a  # noqa: B018
    assert stored_config(store_dir, run) == {"this": 2, "that": 4, "extra": 2, "batch": 32}


def test_a_changed_value_keeps_the_old_one_and_warns_once_per_key(run, store_dir):
    run.config.update({"lr": 0.1, "bs": 32})
    with pytest.warns(tracktui.TrackTuiWarning, match=r"config\['lr'\] is already 0.1.*allow_val_change"):
        run.config.update({"lr": 0.2, "new": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the second change of the same key says nothing more
        run.config.update({"lr": 0.3})
        run.config["lr"] = 0.4
        run.config.update({"bs": 32})  # the same value is no change
    with pytest.warns(tracktui.TrackTuiWarning, match="'bs'"):
        run.config.bs = 64  # attribute and item sets follow the same rule, as in wandb
    assert run.config.lr == 0.1 and run.config.bs == 32 and run.config.new == 1
    run.config.update({"lr": 0.5}, allow_val_change=True)
    assert run.config.lr == 0.5
    assert stored_config(store_dir, run) == {"lr": 0.5, "bs": 32, "new": 1}


def test_values_without_a_plain_equality_compare_by_text(run):
    np = pytest.importorskip("numpy")
    run.config.update({"w": np.arange(3)})
    run.config.update({"w": np.arange(3)})  # equal arrays: no change, no warning
    with pytest.warns(tracktui.TrackTuiWarning, match="'w'"):
        run.config.update({"w": np.arange(4)})
    assert len(run.config.w) == 3


def test_a_notebook_may_change_values(run, monkeypatch):
    shell = types.SimpleNamespace(kernel=object())  # what a Jupyter kernel's shell has
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    run.config.update({"lr": 0.1})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run.config.update({"lr": 0.2})
        run.config.lr = 0.3
    assert run.config.lr == 0.3
    with pytest.warns(tracktui.TrackTuiWarning):
        run.config.update({"lr": 0.4}, allow_val_change=False)  # said explicitly: refused there too
    assert run.config.lr == 0.3
