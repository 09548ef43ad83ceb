"""Start-up helpers of the Snakefile: fingerprints, writability, stale locks, one-paragraph stops."""

import os

import pytest

from attachment_pipeline import startup


def test_fingerprint_follows_content_not_time(tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("a,b\n1,2\n")
    first = startup.content_sha256(f)
    stat = f.stat()
    f.write_text("a,b\n1,3\n")
    os.utime(f, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as rsync -a keeps it
    assert startup.content_sha256(f) != first
    assert startup.content_sha256(tmp_path / "none") == "missing"
    assert startup.fingerprint("x", (1, 2)) != startup.fingerprint("x", (1, 3))


def test_check_writable_refuses_a_file_in_the_way(tmp_path, capsys):
    (tmp_path / "results").write_text("")
    with pytest.raises(SystemExit) as err:
        startup.check_writable(tmp_path / "results" / "demo")
    assert err.value.code == 1
    assert "exists but is not a folder" in capsys.readouterr().err
    startup.check_writable(tmp_path / "elsewhere" / "demo")  # a folder that can be created: fine
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_check_writable_refuses_a_read_only_folder(tmp_path, capsys):
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    try:
        with pytest.raises(SystemExit):
            startup.check_writable(tmp_path / "ro" / "results" / "demo")
        assert "is not writable for you" in capsys.readouterr().err
    finally:
        (tmp_path / "ro").chmod(0o755)


def test_stale_locks_are_removed_when_no_snakemake_runs_here(tmp_path, capsys):
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("data/raw/demo/responses.csv\n")
    assert startup.clear_stale_locks(tmp_path)
    assert not any(locks.iterdir()) and "lock was removed" in capsys.readouterr().err
    assert not startup.clear_stale_locks(tmp_path)


def test_internal_errors_stop_with_one_paragraph_and_a_log(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    try:
        raise KeyError("boom")
    except KeyError as exc:
        with pytest.raises(SystemExit) as err:
            startup.stop_internal(exc)
    assert err.value.code == 3
    msg = capsys.readouterr().err
    assert "internal error while reading the configuration: KeyError" in msg and "Traceback" not in msg
    assert "Traceback" in (tmp_path / "results/logs/startup-error.log").read_text()
