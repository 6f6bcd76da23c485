"""Issue 16, item 3: `keyward-scan` finds keys in files and git history before they leak."""

import subprocess
import sys

import pytest

from apikeys import keyformat, scan
from apikeys import services as key_services
from apikeys.models import ApiKey, Status
from tenants.models import Event


def _look_alikes(key: str) -> list[str]:
    last = key[-1]
    return [
        key[:-1] + ("A" if last != "A" else "B"),  # the checksum is wrong
        key.replace("kw_live_", "kw_prod_"),  # another prefix
        "kw_live_" + "0123456789" + "_" + "a" * 36,  # the shape, a made-up checksum
        key + "x",  # part of a longer word
    ]


def _git(repository, *args):
    subprocess.run(
        ["git", "-C", str(repository), *args],
        check=True,
        capture_output=True,
        env={
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.test",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.test",
            "HOME": str(repository),
            "PATH": "/usr/bin:/bin",
        },
    )


@pytest.fixture
def repository(tmp_path):
    """A repository whose history holds a key that its working tree no longer does, and
    look-alikes that are no keys at all."""
    live = keyformat.generate("live")
    staging = keyformat.generate("stg")
    _git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "settings.py").write_text(f"DEBUG = True\nAPI_KEY = '{live}'\n")
    (tmp_path / "notes.md").write_text("\n".join(_look_alikes(live)) + "\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "first")
    (tmp_path / "settings.py").write_text("DEBUG = True\nAPI_KEY = os.environ['KEY']\n")
    _git(tmp_path, "commit", "-q", "-am", "move the key out")
    _git(tmp_path, "checkout", "-q", "-b", "topic")
    (tmp_path / "deploy.sh").write_text(f"#!/bin/sh\n\ncurl -H 'Bearer {staging}'\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-q", "-m", "on a branch")
    _git(tmp_path, "checkout", "-q", "main")
    return tmp_path, live, staging


def test_the_scanner_finds_keys_in_every_commit_of_every_branch_and_ignores_look_alikes(
    repository,
):
    path, live, staging = repository
    found = list(scan.scan_history(str(path)))
    assert sorted((f.location.split(":", 1)[1], f.key_id) for f in found) == sorted(
        [
            ("settings.py:2", keyformat.parse(live).key_id),
            ("deploy.sh:3", keyformat.parse(staging).key_id),
        ]
    )
    assert all(len(f.location.split(":")[0]) == 12 for f in found)  # the commit
    assert list(scan.scan_file(path / "notes.md")) == []
    assert list(scan.scan_file(path / "settings.py")) == []  # gone from the working tree


def test_the_command_prints_where_and_the_key_id_never_the_secret_and_exits_non_zero(
    repository,
):
    path, live, staging = repository
    result = subprocess.run(
        [sys.executable, "-m", "apikeys.scan", "--history", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert f"settings.py:2: Keyward production key {keyformat.parse(live).key_id}" in result.stdout
    assert "staging key" in result.stdout
    assert live not in result.stdout + result.stderr
    assert staging not in result.stdout + result.stderr
    clean = subprocess.run(
        [sys.executable, "-m", "apikeys.scan", str(path)],  # the working tree only
        capture_output=True,
        text=True,
        check=False,
    )
    assert clean.returncode == 0 and clean.stdout == ""


def test_a_file_with_a_key_is_found_at_its_line(tmp_path):
    key = keyformat.generate("dev")
    (tmp_path / "a.env").write_text(f"# config\n\nKEYWARD_KEY={key}\n")
    (tmp_path / "b.bin").write_bytes(b"\0\0" + key.encode())
    assert [str(f) for f in scan.scan_file(tmp_path / "a.env")] == [
        f"{tmp_path / 'a.env'}:3: Keyward development key {keyformat.parse(key).key_id}"
    ]
    assert scan.main([str(tmp_path)]) == 1


@pytest.mark.django_db(transaction=True)
def test_revoke_sends_what_it_found_to_the_system_api_which_revokes_live_keys(
    live_server, new_key, root, tmp_path, monkeypatch, capsys
):
    key = new_key()
    record = new_key.last
    _, service_key = key_services.service_key_create(service_name="scanner", actor=root)
    (tmp_path / "leak.py").write_text(f"KEY = '{key}'\nOTHER = '{_look_alikes(key)[0]}'\n")
    monkeypatch.setenv("KEYWARD_SERVICE_KEY", service_key)
    code = scan.main(["--revoke", "--url", live_server.url, str(tmp_path)])
    assert code == 1
    output = capsys.readouterr().out
    assert f"{record.key_id}: revoked, and marked leaked." in output and key not in output
    record.refresh_from_db()
    assert record.status == Status.REVOKED
    assert record.leak_source == f"{tmp_path / 'leak.py'}:1"
    event = Event.objects.get(action=Event.Action.KEY_LEAKED, target_id=record.key_id)
    assert event.changes["reporter"].startswith("system API, key ")
    # Again: nothing left to revoke, and the answer says so.
    assert scan.main(["--revoke", "--url", live_server.url, str(tmp_path)]) == 1
    assert f"{record.key_id}: revoked" in capsys.readouterr().out
    assert ApiKey.objects.get(pk=record.pk).status == Status.REVOKED


def test_revoke_needs_a_service_key(tmp_path, monkeypatch):
    monkeypatch.delenv("KEYWARD_SERVICE_KEY", raising=False)
    with pytest.raises(SystemExit) as exited:
        scan.main(["--revoke", "--url", "http://127.0.0.1:1", str(tmp_path)])
    assert exited.value.code == 2
