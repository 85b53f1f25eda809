"""Secrets never reach the store: arguments, URLs, token-looking values."""

from __future__ import annotations

from tracktui.capture.redact import MASK, clean_url, redact_args, redact_text, redact_value


def test_secret_option_values_are_masked_in_every_spelling():
    args = ["--lr", "0.1", "--api-key", "abc123", "--token=xyz", "password=hunter2", "--db-password", "pw",
            "--auth", "basic", "--epochs", "3"]
    assert redact_args(args) == ["--lr", "0.1", "--api-key", MASK, f"--token={MASK}", f"password={MASK}",
                                 "--db-password", MASK, "--auth", MASK, "--epochs", "3"]


def test_ordinary_ml_options_that_merely_contain_token_are_kept():
    args = ["--tokenizer", "gpt2", "max_tokens=128", "--author", "ada", "--token_count", "7"]
    assert redact_args(args) == args


def test_token_shaped_values_are_masked_anywhere():
    secrets = ["sk-" + "a" * 40, "hf_" + "B" * 34, "ghp_" + "c" * 36, "AKIA" + "ABCDEFGHIJKLMNOP",
               "github_pat_" + "d" * 40]
    for s in secrets:
        assert redact_args(["--x", s]) == ["--x", MASK]
        assert s not in redact_text(f"key is {s} ok")
    assert redact_args(["--header=Bearer sk-" + "z" * 30]) == [f"--header=Bearer {MASK}"]


def test_url_passwords_are_masked_in_args_and_removed_from_remotes():
    assert redact_args(["postgres://bob:pw@db/x"]) == [f"postgres://bob:{MASK}@db/x"]
    assert clean_url("https://bob:s3cret@github.com/org/repo.git") == "https://github.com/org/repo.git"
    assert clean_url("https://ghp_" + "x" * 36 + "@github.com/org/r") == "https://github.com/org/r"
    assert clean_url("https://oauth2:glpat-" + "y" * 20 + "@gitlab.com/o/r") == "https://gitlab.com/o/r"
    assert clean_url("git@github.com:org/repo.git") == "git@github.com:org/repo.git"
    assert clean_url("ssh://git@host/org/repo") == "ssh://git@host/org/repo"


def test_config_values_under_secret_keys_are_masked():
    assert redact_value("wandb_api_key", "abc") == MASK
    assert redact_value("opt", {"password": "x", "lr": 0.1}) == {"password": MASK, "lr": 0.1}
    assert redact_value("lr", 0.1) == 0.1


def test_token_is_secret_only_as_the_last_word_and_never_for_vocabulary_entries():
    for name in ("token", "hf_token", "GITHUB_TOKEN", "AccessToken", "x-auth-token", "token2"):
        assert redact_value(name, "v") == MASK, name
    for name in ("pad_token_id", "eos_token", "bos-token", "mask_token", "tokenizer", "max_tokens",
                 "token_count", "num_tokens_per_batch"):
        assert redact_value(name, "v") == "v", name
    assert redact_args(["--eos-token", "</s>", "--hf-token", "abc"]) == ["--eos-token", "</s>", "--hf-token", MASK]


def test_flags_and_empty_values_under_secret_names_are_kept():
    assert redact_value("use_auth_token", True) is True and redact_value("password", None) is None
    assert redact_value("token", "") == "" and redact_value("pin_password", 1234) == MASK
