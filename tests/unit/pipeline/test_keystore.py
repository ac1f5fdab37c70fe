"""Keystore: round trip, wrong passphrase, corruption and tampering, secrets masked."""
from __future__ import annotations

import json

import pytest

from pipeline.keystore import Keystore, KeystoreError

FAST_N = 2 ** 10  # scrypt cost kept low in tests only


def test_round_trip_and_masking(tmp_path):
    path = tmp_path / "keys.json"
    ks = Keystore(path, "correct horse", n=FAST_N)
    ks.put("binance.api_key", "AKIA-very-secret")
    ks.put("binance.secret_key", "s3cr3t")
    again = Keystore(path, "correct horse")
    assert again.names() == ["binance.api_key", "binance.secret_key"]
    secret = again.get("binance.secret_key")
    assert secret.get_secret_value() == "s3cr3t"
    assert "s3cr3t" not in repr(secret) and "s3cr3t" not in repr(again)
    raw = path.read_text()
    assert "s3cr3t" not in raw and "AKIA" not in raw
    assert again.remove("binance.api_key") and not again.remove("binance.api_key")
    assert Keystore(path, "correct horse").names() == ["binance.secret_key"]


def test_wrong_passphrase(tmp_path):
    path = tmp_path / "keys.json"
    Keystore(path, "right", n=FAST_N).put("k", "v")
    with pytest.raises(KeystoreError, match="wrong passphrase"):
        Keystore(path, "wrong")


def test_corrupted_file_says_so(tmp_path):
    path = tmp_path / "keys.json"
    Keystore(path, "pw", n=FAST_N).put("k", "v")
    path.write_text(path.read_text()[:40])
    with pytest.raises(KeystoreError, match="corrupted"):
        Keystore(path, "pw")


def test_tampered_or_moved_entry_fails_to_open(tmp_path):
    path = tmp_path / "keys.json"
    ks = Keystore(path, "pw", n=FAST_N)
    ks.put("a", "value-a")
    ks.put("b", "value-b")
    doc = json.loads(path.read_text())
    doc["entries"]["b"] = doc["entries"]["a"]  # move a's ciphertext under b's name
    path.write_text(json.dumps(doc))
    ks2 = Keystore(path, "pw")
    assert ks2.get("a").get_secret_value() == "value-a"
    with pytest.raises(KeystoreError, match="tampered"):
        ks2.get("b")
    with pytest.raises(KeystoreError, match="no key named"):
        ks2.get("missing")


def test_cli_keys(tmp_path, monkeypatch, capsys):
    from pipeline.cli import main
    path = str(tmp_path / "ks.json")
    monkeypatch.setenv("HFT_KEYSTORE_PASSPHRASE", "pw")
    monkeypatch.setenv("HFT_KEY_VALUE", "topsecret")
    assert main(["keys", "--keystore", path, "add", "okx.api_key"]) == 0
    assert main(["keys", "--keystore", path, "list"]) == 0
    out = capsys.readouterr().out
    assert "okx.api_key" in out and "topsecret" not in out
    monkeypatch.setenv("HFT_KEYSTORE_PASSPHRASE", "bad")
    assert main(["keys", "--keystore", path, "list"]) == 2
    assert "wrong passphrase" in capsys.readouterr().err
