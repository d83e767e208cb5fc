"""The SFTP source against a real sshd: fetch, remote actions, readiness, host keys, auth."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from gateway.errors import FileVanished, SourceUnavailable
from gateway.ledger.sqlite import SqliteLedger
from gateway.sources.sftp_connection import HostKeyRejected
from tests.sftp.conftest import settled


@pytest.fixture(name="ledger")
def _ledger(tmp_path: Path) -> SqliteLedger:
    ledger = SqliteLedger(tmp_path / "state" / "gateway.db")
    yield ledger
    ledger.close()


def test_fetch_moves_to_remote_archive(
    make_source, remote: Path, ledger: SqliteLedger, tmp_path: Path
) -> None:
    (remote / "in" / "a.csv").write_bytes(b"sku,qty\nA,1\n")
    (remote / "in" / "b.part").write_bytes(b"temp name: never fetched")
    (remote / "in" / ".hidden").write_bytes(b"hidden")
    (remote / "in" / "sub").mkdir()
    source = make_source(after="move:/" + str(remote / "archive").lstrip("/"))
    assert source.poll() == []  # first sight: not ready yet
    ready = settled(source)
    assert [c.name for c in ready] == ["a.csv"]
    row = source.claim(ledger, tmp_path / "work", ready[0])
    assert row.state == "processing"
    assert Path(row.work_path).read_bytes() == b"sku,qty\nA,1\n"
    assert row.sha256 is not None and row.size == 12
    assert not (remote / "in" / "a.csv").exists()
    assert (remote / "archive" / "a.csv").read_bytes() == b"sku,qty\nA,1\n"
    assert not list((tmp_path / "work").glob("*.part"))
    events = [e[1] for e in ledger.events(row.file_id)]
    assert "remote_moved" in events
    assert settled(source, rounds=2) == []


def test_archive_name_clash_keeps_older_copy(
    make_source, remote: Path, ledger: SqliteLedger, tmp_path: Path
) -> None:
    (remote / "archive").mkdir()
    (remote / "archive" / "a.csv").write_bytes(b"older")
    (remote / "in" / "a.csv").write_bytes(b"newer")
    source = make_source(after=f"move:{remote / 'archive'}")
    row = source.claim(ledger, tmp_path / "work", settled(source)[0])
    assert (remote / "archive" / "a.csv").read_bytes() == b"older"
    assert (remote / "archive" / f"a.csv.{row.file_id}").read_bytes() == b"newer"


def test_delete_after_fetch(make_source, remote: Path, ledger: SqliteLedger, tmp_path: Path) -> None:
    (remote / "in" / "x.edi").write_bytes(b"UNA:+.? '")
    source = make_source(after="delete")
    source.claim(ledger, tmp_path / "work", settled(source)[0])
    assert not (remote / "in" / "x.edi").exists()


def test_keep_is_never_fetched_twice_even_after_restart(
    make_source, remote: Path, ledger: SqliteLedger, tmp_path: Path
) -> None:
    (remote / "in" / "k.csv").write_bytes(b"a,b\n1,2\n")
    source = make_source(after="keep")
    row = source.claim(ledger, tmp_path / "work", settled(source)[0])
    assert (remote / "in" / "k.csv").exists()
    assert settled(source, rounds=3) == []
    # A new process: no memory, only the ledger. The first offer is refused by the ledger.
    again = make_source(after="keep")
    ready = settled(again)
    assert [c.name for c in ready] == ["k.csv"]
    with pytest.raises(FileVanished, match=row.file_id):
        again.claim(ledger, tmp_path / "work", ready[0])
    assert settled(again, rounds=3) == []
    assert again.next_due() is None  # a kept file is not "waiting"
    # The partner uploads a new version under the same name: that one is fetched.
    (remote / "in" / "k.csv").write_bytes(b"a,b\n1,2\n3,4\n")
    os.utime(remote / "in" / "k.csv", (time.time() + 5, time.time() + 5))
    ready = settled(again)
    assert [c.size for c in ready] == [12]
    second = again.claim(ledger, tmp_path / "work", ready[0])
    assert second.file_id != row.file_id
    assert len([r for r in ledger.files() if r.source == "partner"]) == 2


def test_file_written_slowly_is_not_fetched_early(make_source, remote: Path) -> None:
    source = make_source(settle_seconds=0.3)
    path = remote / "in" / "slow.csv"
    with path.open("wb") as fh:
        for i in range(8):
            fh.write(b"line %d\n" % i)
            fh.flush()
            os.utime(path)  # a new size (and mtime) every 0.1 s, as a slow upload looks
            assert source.poll() == []
            time.sleep(0.1)
    assert source.next_due() is not None and source.next_due() > 0
    ready = settled(source, rounds=4)
    assert [c.size for c in ready] == [path.stat().st_size]


def test_done_file_is_required_when_configured(
    make_source, remote: Path, ledger: SqliteLedger, tmp_path: Path
) -> None:
    (remote / "in" / "o.csv").write_bytes(b"a\n")
    source = make_source(done_suffix=".ok", after="delete")
    assert settled(source, rounds=3) == []
    (remote / "in" / "o.csv.ok").write_bytes(b"")
    ready = settled(source)
    assert [c.name for c in ready] == ["o.csv"]
    source.claim(ledger, tmp_path / "work", ready[0])
    assert not (remote / "in" / "o.csv.ok").exists()


def test_file_gone_between_list_and_fetch(
    make_source, remote: Path, ledger: SqliteLedger, tmp_path: Path
) -> None:
    (remote / "in" / "v.csv").write_bytes(b"a\n")
    source = make_source()
    ready = settled(source)
    (remote / "in" / "v.csv").unlink()
    with pytest.raises(FileVanished):
        source.claim(ledger, tmp_path / "work", ready[0])
    (row,) = ledger.files()
    assert row.state == "vanished"
    assert not list((tmp_path / "work").glob("*"))


def test_file_changed_between_list_and_fetch(
    make_source, remote: Path, ledger: SqliteLedger, tmp_path: Path
) -> None:
    (remote / "in" / "c.csv").write_bytes(b"a\n")
    source = make_source()
    ready = settled(source)
    (remote / "in" / "c.csv").write_bytes(b"a\nb\n")
    with pytest.raises(FileVanished, match="changed"):
        source.claim(ledger, tmp_path / "work", ready[0])
    ready = settled(source)  # the new version is judged afresh and fetched
    assert source.claim(ledger, tmp_path / "work", ready[0]).size == 4


def test_permission_denied_on_move_is_retried(
    sshd, make_source, remote: Path, ledger: SqliteLedger, tmp_path: Path
) -> None:
    (remote / "in" / "p.csv").write_bytes(b"a\n")
    denied = make_source(port=sshd.denied_port, after="delete", poll_seconds=0.05)
    row = denied.claim(ledger, tmp_path / "work", settled(denied)[0])
    assert row.state == "processing"  # the file is ours; only the remote delete is pending
    assert (remote / "in" / "p.csv").exists()
    assert "remote_delete_failed" in [e[1] for e in ledger.events(row.file_id)]
    assert "denied" in ledger.source_rows()["partner"]["last_error"].lower()
    for _ in range(3):
        assert denied.poll() == []  # never offered again, the delete is just retried
        time.sleep(0.1)
    assert denied.action_retry["p.csv"][0] >= 2
    # The same server with permissions back (the normal port): the pending delete completes.
    healed = make_source(after="delete")
    healed.ledger = ledger
    assert settled(healed, rounds=3) == []
    assert not (remote / "in" / "p.csv").exists()
    assert len(ledger.files()) == 1


def test_missing_remote_folder_is_unavailable(make_source, remote: Path) -> None:
    source = make_source(remote_dir=remote / "nope")
    with pytest.raises(SourceUnavailable, match="nope"):
        source.poll()


def test_unknown_host_key_is_refused(sshd, make_source, remote: Path, tmp_path: Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    source = make_source(known_hosts=str(empty))
    with pytest.raises(HostKeyRejected, match="HOST KEY VERIFICATION FAILED") as caught:
        source.poll()
    assert "no key for this host is on record" in str(caught.value)
    assert sshd.fingerprint("ed25519") in str(caught.value)
    with pytest.raises(SourceUnavailable, match="HOST KEY"):  # stays stopped, no new attempt yet
        source.poll()


def test_changed_host_key_is_refused(sshd, make_source, tmp_path: Path) -> None:
    from benchmarks.sshd import keygen

    other = keygen(tmp_path / "other", "ed25519")
    blob = Path(f"{other}.pub").read_text().split()[:2]
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{sshd.port} {blob[0]} {blob[1]}\n")
    source = make_source(known_hosts=str(wrong))
    with pytest.raises(HostKeyRejected, match="INTERCEPTING"):
        source.poll()


def test_pinned_fingerprint(sshd, make_source, remote: Path) -> None:
    options = {"known_hosts": None}
    good = make_source(host_key_fingerprint=sshd.fingerprint("ed25519"), **options)
    assert good.poll() == []
    bad = make_source(host_key_fingerprint="SHA256:" + "A" * 43, **options)
    with pytest.raises(HostKeyRejected, match="does NOT MATCH"):
        bad.poll()


def test_known_hosts_with_only_an_rsa_key(sshd, make_source, tmp_path: Path) -> None:
    rsa_only = tmp_path / "known_hosts"
    rsa_only.write_text(sshd.known_hosts_lines(("rsa",)))
    assert make_source(known_hosts=str(rsa_only)).poll() == []


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa", "rsa"])
def test_key_types(sshd, make_source, kind: str) -> None:
    assert make_source(key_file=str(sshd.user_keys[kind])).poll() == []


def test_wrong_password_is_an_auth_error(
    sshd, make_source, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("GW_TEST_SFTP_PASSWORD", "not the password")
    source = make_source(key_file=None, password_env="GW_TEST_SFTP_PASSWORD")
    with pytest.raises(SourceUnavailable, match="authentication failed") as caught:
        source.poll()
    assert "not the password" not in str(caught.value)


def test_password_from_file_is_read_without_newline(sshd, tmp_path: Path) -> None:
    from gateway.sources.sftp_connection import ServerSettings

    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    settings = ServerSettings.from_options("x", {"host": "h", "username": "u", "password_file": str(secret)})
    assert settings.password() == "s3cret"


def test_wrong_user_key_is_refused(sshd, make_source, tmp_path: Path) -> None:
    from benchmarks.sshd import keygen

    stranger = keygen(tmp_path / "stranger", "ed25519")
    source = make_source(key_file=str(stranger))
    with pytest.raises(SourceUnavailable, match="authentication failed"):
        source.poll()


def test_permission_denied_on_fetch_backs_off(
    sshd, make_source, remote: Path, ledger: SqliteLedger, tmp_path: Path
) -> None:
    (remote / "in" / "locked.csv").write_bytes(b"a\n")
    # A delay far longer than a few polls take even on a loaded machine.
    source = make_source(port=sshd.unreadable_port, poll_seconds=30)
    (candidate,) = settled(source)
    with pytest.raises(SourceUnavailable, match="ermission denied"):
        source.claim(ledger, tmp_path / "work", candidate)
    (row,) = ledger.files()
    assert row.state == "claimed"  # the ledger remembers the attempt; nothing is in work/
    assert "fetch_failed" in [e[1] for e in ledger.events(row.file_id)]
    assert "denied" in ledger.source_rows()["partner"]["last_error"].lower()
    assert settled(source, rounds=3) == []  # not offered again before its delay has passed
    healed = make_source()  # permissions back: the same ledger row is finished, not a new one
    again = healed.claim(ledger, tmp_path / "work", settled(healed)[0])
    assert again.file_id == row.file_id and again.state == "processing"
    assert len(ledger.files()) == 1


def test_resume_after_a_crash_before_the_download(
    make_source, remote: Path, ledger: SqliteLedger, tmp_path: Path
) -> None:
    (remote / "in" / "r.csv").write_bytes(b"a\nb\n")
    source = make_source(after="delete")
    (candidate,) = settled(source)
    row = ledger.claim(
        "partner", "r.csv", candidate.path, candidate.size, candidate.mtime_ns, tmp_path / "work"
    )
    resumed = make_source(after="delete").resume(ledger, row)  # a new process after the crash
    assert resumed.state == "processing" and Path(resumed.work_path).read_bytes() == b"a\nb\n"
    assert not (remote / "in" / "r.csv").exists()


def test_resume_of_a_file_changed_meanwhile_marks_it_vanished(
    make_source, remote: Path, ledger: SqliteLedger, tmp_path: Path
) -> None:
    (remote / "in" / "m.csv").write_bytes(b"a\n")
    source = make_source()
    (candidate,) = settled(source)
    row = ledger.claim(
        "partner", "m.csv", candidate.path, candidate.size, candidate.mtime_ns, tmp_path / "work"
    )
    (remote / "in" / "m.csv").write_bytes(b"a\nchanged\n")
    with pytest.raises(FileVanished):
        source.resume(ledger, row)
    assert ledger.get(row.file_id).state == "vanished"


def test_hashed_known_hosts(sshd, make_source, tmp_path: Path) -> None:
    import subprocess

    hashed = tmp_path / "known_hosts"
    hashed.write_text(sshd.known_hosts_lines())
    subprocess.run(["ssh-keygen", "-H", "-f", str(hashed)], check=True, capture_output=True)
    assert "|1|" in hashed.read_text()
    assert make_source(known_hosts=str(hashed)).poll() == []


def test_encrypted_key_without_passphrase(sshd, make_source, tmp_path: Path) -> None:
    import subprocess

    key = tmp_path / "locked"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-f", str(key)], check=True)
    source = make_source(key_file=str(key))
    with pytest.raises(SourceUnavailable, match="encrypted"):
        source.poll()


def test_archive_folder_that_cannot_exist_is_not_a_move(
    make_source, remote: Path, ledger: SqliteLedger, tmp_path: Path
) -> None:
    (remote / "blocker").write_bytes(b"a regular file where the archive's parent should be")
    (remote / "in" / "q.csv").write_bytes(b"a\n")
    source = make_source(after=f"move:{remote / 'blocker' / 'archive'}", poll_seconds=0.05)
    row = source.claim(ledger, tmp_path / "work", settled(source)[0])
    assert row.state == "processing"
    assert (remote / "in" / "q.csv").exists()  # not moved, and not recorded as moved
    events = [e[1] for e in ledger.events(row.file_id)]
    assert "remote_move_failed" in events and "remote_moved" not in events
    for _ in range(3):
        assert source.poll() == []  # never fetched again; the move is retried with a backoff
        time.sleep(0.06)
    assert [e[1] for e in ledger.events(row.file_id)].count("remote_moved") == 0
    assert len(ledger.files()) == 1
