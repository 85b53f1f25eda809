"""Secrets in run.config never reach the store: init(config=...), config[...] = ..., config.update()."""

from __future__ import annotations

import argparse

import tracktui
from tracktui.capture.redact import MASK
from tracktui.store import Reader
from tracktui.store.paths import db_path, wal_path

SK = "sk-" + "q" * 40
HF = "hf_" + "Z" * 34


def stored_config(store_dir, run_id):
    with Reader(store_dir) as r:
        return r.run(run_id).config


def store_bytes(store_dir) -> bytes:
    """Every byte SQLite holds for the store: the database and its write-ahead log."""
    data = db_path(store_dir).read_bytes()
    if wal_path(store_dir).exists():
        data += wal_path(store_dir).read_bytes()
    return data


def train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser()
    p.add_argument("--api-key")
    p.add_argument("--password")
    p.add_argument("--token")
    p.add_argument("--lr", type=float)
    p.add_argument("--tokenizer")
    p.add_argument("--max-tokens", type=int)
    p.add_argument("--pad-token-id", type=int)
    p.add_argument("--eos-token")
    p.add_argument("--use-auth-token", action="store_true")
    p.add_argument("--prompt")
    return p


def test_argparse_namespace_secrets_are_masked_and_the_rest_kept(store_dir):
    args = train_parser().parse_args([
        "--api-key", "k3y-abc-123", "--password", "hunter2", "--token", "t0ken-value", "--lr", "0.01",
        "--tokenizer", "gpt2", "--max-tokens", "128", "--pad-token-id", "0", "--eos-token", "</s>",
        "--use-auth-token", "--prompt", "count every token twice",
    ])
    run = tracktui.init(dir=store_dir, config=args)
    run.finish()
    cfg = stored_config(store_dir, run.id)
    assert cfg["api_key"] == cfg["password"] == cfg["token"] == MASK
    assert cfg["lr"] == 0.01 and cfg["tokenizer"] == "gpt2" and cfg["max_tokens"] == 128
    assert cfg["pad_token_id"] == 0 and cfg["eos_token"] == "</s>" and cfg["use_auth_token"] is True
    assert cfg["prompt"] == "count every token twice"  # the word in a value of an ordinary key is data
    assert run.config.password == MASK  # run.config holds what is stored
    raw = store_bytes(store_dir)
    assert b"hunter2" not in raw and b"k3y-abc-123" not in raw and b"t0ken-value" not in raw


def test_nested_dicts_urls_and_token_shaped_values(store_dir):
    run = tracktui.init(dir=store_dir, config={
        "db": {"host": "db.local", "Password": "pw1", "Private-Key": "----KEY----"},
        "Credentials": {"user": "u", "key": "v"},
        "data_url": "postgres://bob:s3cr3t@db.local/exp",
        "note": f"used {SK} and {HF}",
        "layers": [{"api_key": "inner"}, 3],
        "betas": (0.9, 0.999),
    })
    assert run.config["betas"] == (0.9, 0.999)  # nothing to mask: the value itself is kept
    run.finish()
    cfg = stored_config(store_dir, run.id)
    assert cfg["db"] == {"host": "db.local", "Password": MASK, "Private-Key": MASK}
    assert cfg["Credentials"] == MASK
    assert cfg["data_url"] == f"postgres://bob:{MASK}@db.local/exp"
    assert cfg["note"] == f"used {MASK} and {MASK}"
    assert cfg["layers"] == [{"api_key": MASK}, 3] and cfg["betas"] == [0.9, 0.999]
    raw = store_bytes(store_dir)
    for secret in (b"pw1", b"----KEY----", b"s3cr3t", SK.encode(), HF.encode(), b"inner"):
        assert secret not in raw


def test_setting_and_updating_config_masks_too(store_dir):
    run = tracktui.init(dir=store_dir, config={"lr": 0.1})
    run.config["HF_TOKEN"] = HF
    run.config.secret = "shh-1"
    run.config.update({"wandb-api-key": "abc-2"}, auth_header="Bearer xyz-3")
    run.config.update(argparse.Namespace(passwd="pw-4", epochs=3))
    run.config["opt"] = {"name": "adam"}
    run.config["opt"]["password"] = "pw-5"  # changed in place: masked when the config is next written
    run.config["model"] = "https://user:pw-6@hub.local/m"
    run.config.setdefaults({"apikey": "abc-7", "lr": 9})
    run.finish()
    cfg = stored_config(store_dir, run.id)
    assert cfg == {"lr": 0.1, "HF_TOKEN": MASK, "secret": MASK, "wandb-api-key": MASK, "auth_header": MASK,
                   "passwd": MASK, "epochs": 3, "opt": {"name": "adam", "password": MASK},
                   "model": f"https://user:{MASK}@hub.local/m", "apikey": MASK}
    raw = store_bytes(store_dir)
    for i, secret in enumerate(["shh-1", "abc-2", "xyz-3", "pw-4", "pw-5", "pw-6", "abc-7", HF], 1):
        assert secret.encode() not in raw, i


def test_resume_keeps_the_masked_config(store_dir):
    first = tracktui.init(dir=store_dir, id="r1", config={"password": "pw", "lr": 1})
    first.finish()
    again = tracktui.init(dir=store_dir, id="r1", resume="allow", config={"token": "t"})
    again.finish()
    assert stored_config(store_dir, "r1") == {"password": MASK, "lr": 1, "token": MASK}


def test_disabled_mode_masks_as_well():
    run = tracktui.init(mode="disabled", config={"api_key": "x", "lr": 2})
    assert dict(run.config) == {"api_key": MASK, "lr": 2}
