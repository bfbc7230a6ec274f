"""Routing preferences (storage/preferences.py) on real files: hand edits apply at once, the
user's comments and order survive every write, and a bad file is reported, never rewritten."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from tuna_lsp.storage.preferences import HEADER, Preferences, PreferencesError


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "conf" / "preferences.toml"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_missing_file_means_no_preferences(path: Path) -> None:
    prefs = Preferences(path)
    assert prefs.providers_for("gpt-4.1") == []
    assert prefs.all() == {}
    assert prefs.error is None


def test_reads_the_table_with_lowercased_keys(path: Path) -> None:
    write(path, '[providers]\n"GPT-4.1" = ["openrouter", "openai"]\no3 = []\n')
    prefs = Preferences(path)
    assert prefs.providers_for("gpt-4.1") == ["openrouter", "openai"]
    assert prefs.all() == {"gpt-4.1": ["openrouter", "openai"], "o3": []}
    got = prefs.providers_for("gpt-4.1")
    got.append("x")  # a copy
    assert prefs.providers_for("gpt-4.1") == ["openrouter", "openai"]
    prefs.all()["gpt-4.1"].append("x")
    assert prefs.all()["gpt-4.1"] == ["openrouter", "openai"]


def test_no_providers_table(path: Path) -> None:
    write(path, "# nothing yet\n[other]\nx = 1\n")
    assert Preferences(path).all() == {}


def test_hand_edits_apply_at_once(path: Path) -> None:
    write(path, '[providers]\no3 = ["openai"]\n')
    prefs = Preferences(path)
    assert prefs.providers_for("o3") == ["openai"]
    write(path, '[providers]\no3 = ["azure", "openai"]\n')
    assert prefs.providers_for("o3") == ["azure", "openai"]
    path.unlink()
    assert prefs.providers_for("o3") == []


def test_unchanged_file_is_not_parsed_again(path: Path) -> None:
    write(path, '[providers]\no3 = ["openai"]\n')
    prefs = Preferences(path)
    assert prefs.providers_for("o3") == ["openai"]
    st = path.stat()
    path.write_text('[providers]\no3 = ["azure1"]\n')  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the same mtime
    assert prefs.providers_for("o3") == ["openai"]


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("[providers\n", "invalid TOML ("),
        ("providers = 3\n", "[providers] must be a table of model id = [provider ids]"),
        ('[providers]\no3 = "openai"\n', "providers.'o3' must be a list of provider id strings"),
        ("[providers]\no3 = [1]\n", "providers.'o3' must be a list of provider id strings"),
    ],
)
def test_a_bad_file_is_reported_and_ignored(
    path: Path, text: str, cause: str, caplog: pytest.LogCaptureFixture
) -> None:
    write(path, text)
    prefs = Preferences(path)
    assert prefs.all() == {}
    assert prefs.error is not None
    assert prefs.error.cause.startswith(cause)
    assert str(prefs.error) == f"{path}: {prefs.error.cause}"
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    with pytest.raises(PreferencesError):
        prefs.prefer("o3", "openai")
    with pytest.raises(PreferencesError):
        prefs.set_providers("o3", ["openai"])
    assert path.read_text() == text  # never rewritten
    # once fixed, it applies and the error clears
    write(path, '[providers]\no3 = ["azure"]\n')
    assert prefs.providers_for("o3") == ["azure"]
    assert prefs.error is None


def test_the_same_error_is_logged_once(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    write(path, "[providers\n")
    prefs = Preferences(path)
    prefs.all()
    write(path, "[providers\n\n")  # changed, but still the same error
    prefs.all()
    assert len(caplog.records) == 1


def test_unreadable_file_is_an_error(path: Path) -> None:
    write(path, "")
    path.write_bytes(b"\xff\xfe[providers]")
    prefs = Preferences(path)
    assert prefs.all() == {}
    assert prefs.error is not None and prefs.error.cause.startswith("cannot read the file (")
    assert prefs.error.path == path


@pytest.mark.posix
def test_first_write_creates_the_file_with_a_header(path: Path) -> None:
    prefs = Preferences(path)
    assert prefs.set_providers("gpt-4.1", ["openrouter", "openai"]) is True
    text = path.read_text()
    assert text.startswith(HEADER)
    assert '"gpt-4.1" = ["openrouter", "openai"]' in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert prefs.providers_for("gpt-4.1") == ["openrouter", "openai"]


@pytest.mark.posix
def test_writes_keep_comments_order_and_mode(path: Path) -> None:
    original = (
        "# my routing\n"
        "[providers]\n"
        "# fast first\n"
        'o3 = ["azure", "openai"] # azure is cheaper\n'
        '"claude-sonnet-4" = ["anthropic"]\n'
        "\n[mine]\nkeep = true # untouched\n"
    )
    write(path, original)
    os.chmod(path, 0o644)
    prefs = Preferences(path)
    assert prefs.set_providers("gpt-4.1", ["openai"]) is True
    text = path.read_text()
    assert text.startswith(original.split("\n[mine]")[0])
    assert "keep = true # untouched" in text
    assert text.index("o3 =") < text.index('"claude-sonnet-4" =') < text.index("gpt-4.1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert prefs.all() == {
        "o3": ["azure", "openai"],
        "claude-sonnet-4": ["anthropic"],
        "gpt-4.1": ["openai"],
    }
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_setting_the_same_list_writes_nothing(path: Path) -> None:
    write(path, '[providers]\no3 = ["openai"]\n')
    mtime = path.stat().st_mtime_ns
    assert Preferences(path).set_providers("o3", ["openai"]) is False
    assert path.stat().st_mtime_ns == mtime


def test_bad_provider_ids_are_refused(path: Path) -> None:
    with pytest.raises(PreferencesError) as err:
        Preferences(path).set_providers("o3", ["openai", "Open AI"])
    assert err.value.cause == "not a provider id: 'Open AI'"
    assert not path.exists()


def test_prefer_moves_a_provider_first(path: Path) -> None:
    write(path, '[providers]\no3 = ["a", "b", "c"] # keep me\n')
    prefs = Preferences(path)
    assert prefs.prefer("o3", "c") is True
    assert prefs.providers_for("o3") == ["c", "a", "b"]
    assert prefs.prefer("o3", "c") is False
    assert prefs.prefer("gpt-4.1", "openai") is True
    assert prefs.providers_for("gpt-4.1") == ["openai"]
    assert "# keep me" in path.read_text()


@pytest.mark.posix
def test_a_write_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.toml"
    real.write_text("# mine\n")
    link = tmp_path / "preferences.toml"
    link.symlink_to(real)
    Preferences(link).set_providers("o3", ["openai"])
    assert link.is_symlink()
    assert real.read_text().startswith("# mine\n")
    assert Preferences(real).providers_for("o3") == ["openai"]


def test_lock_timeout(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import filelock

    real = filelock.FileLock

    def quick(lock_file: str, timeout: float, **kw: object) -> filelock.BaseFileLock:
        assert timeout == 2
        return real(lock_file, timeout=0.05, **kw)  # type: ignore[arg-type]

    write(path, "")
    holder = real(str(path) + ".lock")
    monkeypatch.setattr(filelock, "FileLock", quick)
    with holder, pytest.raises(PreferencesError) as err:
        Preferences(path).set_providers("o3", ["openai"])
    assert err.value.cause == "another writer held the lock for over 2 s"
    assert err.value.path == path
    assert path.read_text() == ""


def test_a_directory_that_cannot_be_made_is_a_preferences_error(tmp_path: Path) -> None:
    # callers catch PreferencesError: a bare OSError here failed a tuna/setModel that had
    # already written the config
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(PreferencesError) as err:
        Preferences(blocker / "sub" / "preferences.toml").set_providers("o3", ["openai"])
    assert err.value.cause == "cannot write (Not a directory)"


def test_errors_name_the_file_and_the_warning_says_why(
    path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(path, "[providers\n")
    prefs = Preferences(path)
    prefs.all()
    assert prefs.error is not None and prefs.error.path == path
    assert caplog.records[0].getMessage() == f"routing preferences ignored: {prefs.error}"
    with pytest.raises(PreferencesError) as err:
        Preferences(path).set_providers("o3", ["Bad Id"])
    assert err.value.path == path


def test_a_deep_missing_directory_is_made(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "preferences.toml"
    assert Preferences(path).set_providers("o3", ["openai"]) is True
    assert Preferences(path).providers_for("o3") == ["openai"]


def test_write_errors_name_the_file_and_the_cause(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    path = blocker / "sub" / "preferences.toml"
    with pytest.raises(PreferencesError) as err:
        Preferences(path).set_providers("o3", ["openai"])
    assert err.value.path == path
    assert err.value.cause == "cannot write (Not a directory)"


def spelled_twice(tmp_path: Path) -> tuple[str, str]:
    """A folder and a second spelling of it that the file system takes for the same folder (a
    symlink here, where ext4 tells case apart; APFS and NTFS do it for every name)."""
    folder = tmp_path / "Proj"
    folder.mkdir()
    (tmp_path / "pROJ").symlink_to(folder)
    return str(folder), str(tmp_path / "pROJ")


@pytest.mark.posix
def test_one_folder_spelled_two_ways_is_one_workspace_key(path: Path, tmp_path: Path) -> None:
    """APFS and NTFS fold case: the same folder opened as Proj and as pROJ has one choice, kept
    under the key first written, never a second key."""
    first, second = spelled_twice(tmp_path)
    prefs = Preferences(path)
    assert prefs.set_workspace(first, "openai:gpt-4.1")
    assert prefs.workspace_model(second) == "openai:gpt-4.1"
    assert prefs.set_workspace(second, "anthropic:claude-sonnet-4")
    text = path.read_text()
    assert text.count("Proj") == 1 and "pROJ" not in text, text
    assert prefs.workspace_model(first) == "anthropic:claude-sonnet-4"
    assert not prefs.set_workspace(second, "anthropic:claude-sonnet-4")  # the same: no write
    assert prefs.set_workspace(second, None)
    assert prefs.workspace_model(first) is None


def test_where_case_tells_folders_apart_they_keep_their_own_keys(
    path: Path, tmp_path: Path
) -> None:
    upper, lower = tmp_path / "Proj", tmp_path / "pROJ"
    upper.mkdir()
    lower.mkdir()
    prefs = Preferences(path)
    prefs.set_workspace(str(upper), "openai:gpt-4.1")
    assert prefs.workspace_model(str(lower)) is None
    prefs.set_workspace(str(lower), "openai:o3")
    assert prefs.workspace_model(str(upper)) == "openai:gpt-4.1"
    assert prefs.workspace_model(str(lower)) == "openai:o3"
