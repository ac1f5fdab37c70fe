"""Audit hash chain: an intact log verifies; edit, delete, reorder, truncate are each found
and located."""
from __future__ import annotations

import json

import pytest

from pipeline.audit import AuditLog, verify


@pytest.fixture()
def log_path(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(path)
    for i in range(6):
        log.append("order", "engine", {"client_id": f"c{i}", "px": "65000.1"}, ts_ns=1_000 + i)
    log.close()
    return path


def lines(path):
    return path.read_text().splitlines()


def test_intact_log_verifies_and_resumes_chain(log_path):
    res = verify(log_path)
    assert res.ok and res.records == 6 and res.problems == []
    log = AuditLog(log_path)
    rec = log.append("control", "admin", {"action": "halt"}, ts_ns=2_000)
    log.close()
    assert rec["seq"] == 7 and verify(log_path).ok


def test_edit_is_found(log_path):
    ls = lines(log_path)
    rec = json.loads(ls[2])
    rec["data"]["px"] = "1.0"
    ls[2] = json.dumps(rec, sort_keys=True, separators=(",", ":"))
    log_path.write_text("\n".join(ls) + "\n")
    res = verify(log_path)
    assert not res.ok
    assert any("line 3 (seq 3): record was edited" in p for p in res.problems)


def test_delete_is_found(log_path):
    ls = lines(log_path)
    del ls[3]
    log_path.write_text("\n".join(ls) + "\n")
    res = verify(log_path)
    assert any("expected seq 4, found 5" in p and "removed" in p for p in res.problems)
    assert any("chain broken" in p for p in res.problems)


def test_reorder_is_found(log_path):
    ls = lines(log_path)
    ls[1], ls[2] = ls[2], ls[1]
    log_path.write_text("\n".join(ls) + "\n")
    res = verify(log_path)
    assert not res.ok
    assert any("line 2" in p for p in res.problems)


def test_truncation_is_found_via_head(log_path):
    ls = lines(log_path)
    log_path.write_text("\n".join(ls[:4]) + "\n")
    res = verify(log_path)
    assert any("truncated" in p for p in res.problems)


def test_garbage_line_is_reported(log_path):
    with open(log_path, "a") as f:
        f.write("not json\n")
    assert any("not a valid audit record" in p for p in verify(log_path).problems)


def test_cli_audit_verify(log_path, capsys):
    from pipeline.cli import main
    assert main(["audit", "verify", str(log_path)]) == 0
    assert "ok: 6 records" in capsys.readouterr().out
    ls = lines(log_path)
    del ls[0]
    log_path.write_text("\n".join(ls) + "\n")
    assert main(["audit", "verify", str(log_path)]) == 1
    assert "expected seq 1, found 2" in capsys.readouterr().out
