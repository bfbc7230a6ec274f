"""Issue 28 ("Ready to publish"): the release's files and checks. scripts/release.py's .vsix checker on small
crafted packages (every refusal, with its message) and on the real .vsix files `make package-all` built (skipped
when none are built); versions, CHANGELOG, licence, manifest, media, pyproject metadata and the release workflow.
Nothing here builds or uses the network."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import struct
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from harness.paths import ROOT

EXT = ROOT / "vscode-extension"
REPO_URL = "https://github.com/tunacode/tuna-lsp"


def _load_release() -> ModuleType:
    spec = importlib.util.spec_from_file_location("release", ROOT / "scripts" / "release.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["release"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


release = _load_release()
VERSION = release.package_version()


# ---- native headers, as the real toolchains write them ---------------------------------------------------------


def elf(machine: int) -> bytes:
    # e_ident: magic, 64-bit, little-endian, version 1; then e_type (ET_DYN) and e_machine
    return b"\x7fELF\x02\x01\x01" + bytes(9) + struct.pack("<HH", 3, machine) + bytes(44)


def macho(cpu: int) -> bytes:
    return struct.pack("<II", 0xFEEDFACF, cpu) + bytes(24)


def fat(*cpus: int) -> bytes:
    head = struct.pack(">II", 0xCAFEBABE, len(cpus))
    return head + b"".join(struct.pack(">IIIII", cpu, 3, 4096, 100, 12) for cpu in cpus)


def pe(machine: int) -> bytes:
    dos = bytearray(0x80)
    dos[:2] = b"MZ"
    dos[0x3C:0x40] = struct.pack("<I", 0x80)
    return bytes(dos) + b"PE\0\0" + struct.pack("<H", machine) + bytes(18)


NATIVE = {
    "linux-x64": ("_rust_notify.abi3.so", elf(0x3E)),
    "linux-arm64": ("_rust_notify.abi3.so", elf(0xB7)),
    "darwin-x64": ("_rust_notify.abi3.so", macho(0x01000007)),
    "darwin-arm64": ("_rust_notify.abi3.so", macho(0x0100000C)),
    "win32-x64": ("_rust_notify.pyd", pe(0x8664)),
}


def test_identify_reads_each_format_and_machine() -> None:
    assert release.identify(elf(0x3E)) == release.Binary("ELF", ("x86-64",))
    assert release.identify(elf(0xB7)) == release.Binary("ELF", ("aarch64",))
    assert release.identify(macho(0x01000007)) == release.Binary("Mach-O", ("x86_64",))
    assert release.identify(macho(0x0100000C)) == release.Binary("Mach-O", ("arm64",))
    assert release.identify(fat(0x01000007, 0x0100000C)) == release.Binary(
        "Mach-O", ("x86_64", "arm64")
    )
    assert release.identify(pe(0x8664)) == release.Binary("PE", ("x86-64",))
    assert release.identify(pe(0xAA64)) == release.Binary("PE", ("arm64",))
    # not binaries: text, a Java class file (the fat magic, then a class version), "MZ" without a PE header
    assert release.identify(b"import os\n") is None
    assert release.identify(b"\xca\xfe\xba\xbe\x00\x00\x00\x41" + bytes(40)) is None
    assert release.identify(b"MZ" + bytes(100)) is None


# ---- crafted packages --------------------------------------------------------------------------------------------


def manifest_xml(target: str, version: str = VERSION) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><PackageManifest Version="2.0.0" '
        'xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011"><Metadata>'
        f'<Identity Language="en-US" Id="tunacode" Version="{version}" Publisher="tunacode" '
        f'TargetPlatform="{target}"/></Metadata></PackageManifest>'
    )


def make_vsix(
    path: Path,
    target: str,
    extra: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    manifest_target: str | None = None,
) -> Path:
    native_name, native = NATIVE[target]
    files: dict[str, bytes] = {
        "[Content_Types].xml": b"<Types/>",
        "extension.vsixmanifest": manifest_xml(manifest_target or target).encode(),
        "extension/package.json": json.dumps({"name": "tunacode", "version": VERSION}).encode(),
        "extension/readme.md": f"![picker]({REPO_URL}/raw/HEAD/vscode-extension/media/picker.png)".encode(),
        "extension/changelog.md": b"# Changelog\n",
        "extension/LICENSE.txt": b"MIT License\n",
        "extension/dist/extension.js": b"exports.activate = () => {};\n",
        "extension/media/icon.png": b"\x89PNG\r\n\x1a\n",
        "extension/media/picker.png": b"\x89PNG\r\n\x1a\n",
        "extension/bundled/tool/tuna_lsp_main.py": b"import tuna_lsp\n",
        "extension/bundled/libs/tuna_lsp/__init__.py": f'__version__ = "{VERSION}"\n'.encode(),
        f"extension/bundled/libs/tuna_lsp-{VERSION}.dist-info/METADATA": b"Name: tuna-lsp\n",
        f"extension/bundled/libs/watchfiles/{native_name}": native,
    }
    for name in drop:
        del files[name]
    files.update(extra or {})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def check(path: Path, target: str) -> list[str]:
    return list(release.check_vsix(path, target, VERSION, forbidden_paths=["/home/builder/clone"]))


@pytest.mark.parametrize("target", sorted(NATIVE))
def test_a_well_made_package_of_each_target_passes(tmp_path: Path, target: str) -> None:
    assert check(make_vsix(tmp_path / f"tunacode-{target}.vsix", target), target) == []


@pytest.mark.parametrize(
    ("target", "stranger", "said"),
    [
        (
            "linux-x64",
            elf(0xB7),
            "is a ELF aarch64 binary, another platform's: a linux-x64 package",
        ),
        ("linux-arm64", elf(0x3E), "is a ELF x86-64 binary, another platform's"),
        ("darwin-arm64", macho(0x01000007), "is a Mach-O x86_64 binary, another platform's"),
        ("darwin-x64", elf(0x3E), "is a ELF x86-64 binary, another platform's: a darwin-x64"),
        ("win32-x64", elf(0x3E), "carries PE x86-64 code only"),
        ("linux-x64", pe(0x8664), "is a PE x86-64 binary, another platform's"),
        ("darwin-x64", fat(0x0100000C), "is a Mach-O arm64 binary"),
    ],
)
def test_another_platforms_binary_is_refused_by_name(
    tmp_path: Path, target: str, stranger: bytes, said: str
) -> None:
    name = "extension/bundled/libs/watchfiles/_other.so"
    problems = check(make_vsix(tmp_path / "t.vsix", target, {name: stranger}), target)
    assert len(problems) == 1, problems
    assert name in problems[0] and said in problems[0]


def test_a_universal_macos_binary_with_the_targets_cpu_passes(tmp_path: Path) -> None:
    extra = {"extension/bundled/libs/x/_fat.so": fat(0x01000007, 0x0100000C)}
    assert check(make_vsix(tmp_path / "t.vsix", "darwin-x64", extra), "darwin-x64") == []


def test_a_package_naming_another_target_is_refused(tmp_path: Path) -> None:
    vsix = make_vsix(tmp_path / "t.vsix", "linux-x64", manifest_target="linux-arm64")
    assert check(vsix, "linux-x64") == [
        "t.vsix: extension.vsixmanifest names TargetPlatform 'linux-arm64', not 'linux-x64'"
    ]


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("extension/bundled/libs/pkg/__pycache__/mod.cpython-311.pyc", "in a __pycache__/ folder"),
        ("extension/bundled/libs/pkg/tests/test_mod.py", "in a tests/ folder"),
        ("extension/bundled/libs/pkg/test_mod.py", "a test, cache, source map or build leftover"),
        ("extension/bundled/libs/pkg/conftest.py", "a test, cache, source map or build leftover"),
        ("extension/dist/extension.js.map", "is not part of the extension's layout"),
        ("extension/bundled/libs/pkg/mod.js.map", "a test, cache, source map or build leftover"),
        ("extension/src/extension.ts", "is not part of the extension's layout"),
        ("extension/out/test/unit/a.test.js", "is not part of the extension's layout"),
        ("extension/tunacode-linux-x64.vsix", "is not part of the extension's layout"),
        ("extension/bundled/libs/pkg-1.0.dist-info/direct_url.json", "build leftover"),
    ],
)
def test_tests_caches_sources_and_maps_are_refused(tmp_path: Path, name: str, said: str) -> None:
    problems = check(make_vsix(tmp_path / "t.vsix", "linux-x64", {name: b"x"}), "linux-x64")
    assert problems and all(name in p for p in problems), problems
    assert any(said in p for p in problems), problems


def test_a_path_of_the_building_machine_is_refused(tmp_path: Path) -> None:
    extra = {"extension/bundled/libs/pkg/where.py": b"HERE = '/home/builder/clone/server'\n"}
    problems = check(make_vsix(tmp_path / "t.vsix", "linux-x64", extra), "linux-x64")
    assert len(problems) == 1
    assert "extension/bundled/libs/pkg/where.py names a path of this machine" in problems[0]


def test_native_looking_names_must_be_binaries(tmp_path: Path) -> None:
    extra = {"extension/bundled/libs/pkg/_speedups.so": b"not really\n"}
    problems = check(make_vsix(tmp_path / "t.vsix", "linux-x64", extra), "linux-x64")
    assert problems == [
        "t.vsix: extension/bundled/libs/pkg/_speedups.so is named like native code but is no ELF,"
        " Mach-O or PE file"
    ]


def test_missing_parts_another_version_and_missing_images_are_refused(tmp_path: Path) -> None:
    vsix = make_vsix(
        tmp_path / "t.vsix",
        "linux-x64",
        drop=("extension/media/icon.png", "extension/media/picker.png"),
    )
    problems = release.check_vsix(vsix, "linux-x64", "9.9.9", forbidden_paths=[])
    assert "t.vsix: extension/media/icon.png is missing" in problems
    assert (
        "t.vsix: extension.vsixmanifest says version 0.1.0, not 9.9.9".replace("0.1.0", VERSION)
        in problems
    )
    assert any("the bundled server is not tuna_lsp 9.9.9" in p for p in problems)
    assert "t.vsix: the README shows media/picker.png, which the package does not carry" in problems


def test_the_command_line_refuses_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vsix = make_vsix(
        tmp_path / "t.vsix",
        "linux-arm64",
        {"extension/bundled/libs/x/_x86.so": elf(0x3E)},
    )
    assert release.main(["check-vsix", "--target", "linux-arm64", str(vsix)]) == 1
    err = capsys.readouterr().err
    assert "extension/bundled/libs/x/_x86.so is a ELF x86-64 binary, another platform's" in err


def test_vsce_listing_check() -> None:
    good = [
        "package.json",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "dist/extension.js",
        "media/icon.png",
    ]
    assert release.check_listing([*good, "bundled/libs/tuna_lsp/__init__.py", ""]) == []
    bad = release.check_listing([*good, "src/extension.ts", "dist/extension.js.map"])
    assert bad and all("src/extension.ts" in p or "dist/extension.js.map" in p for p in bad)
    assert any("extension/src/extension.ts is not part of the extension's layout" in p for p in bad)
    assert any("extension/dist/extension.js.map is a test, cache, source map" in p for p in bad)


# ---- the real packages (make package-all) -------------------------------------------------------------------------


def built() -> Iterator[tuple[str, Path]]:
    for target in release.TARGETS:
        path = EXT / f"tunacode-{target}.vsix"
        if path.exists():
            yield target, path


@pytest.mark.parametrize("target", sorted(release.TARGETS))
def test_the_built_packages_pass(target: str) -> None:
    path = EXT / f"tunacode-{target}.vsix"
    if not path.exists():
        pytest.skip(f"{path.name} is not built (make package-all)")
    assert release.check_vsix(path, target, VERSION) == []
    fmt, machine = release.TARGETS[target]
    with zipfile.ZipFile(path) as archive:
        natives = [
            (n, release.identify(archive.read(n)))
            for n in archive.namelist()
            if n.endswith((".so", ".pyd", ".dylib", ".dll"))
        ]
    # watchfiles' extension, at least, and all of the target's own platform
    assert natives and all(
        b is not None and b.fmt == fmt and machine in b.machines for _, b in natives
    )


def test_a_built_package_is_refused_for_every_other_target() -> None:
    packages = dict(built())
    if not packages:
        pytest.skip("no .vsix built (make package-all)")
    for target, path in packages.items():
        for other in release.TARGETS:
            if other == target:
                continue
            problems = release.check_vsix(path, other, VERSION)
            assert any("another platform's" in p for p in problems), (target, other)
            assert any("names TargetPlatform" in p for p in problems), (target, other)


# ---- versions, CHANGELOG, licence --------------------------------------------------------------------------------


def test_versions_agree_and_the_changelog_has_the_version() -> None:
    version, problems = release.check_versions(ROOT)
    assert problems == []
    assert version == VERSION
    sections = release.changelog_versions((ROOT / "CHANGELOG.md").read_text())
    assert "Unreleased" in sections and sections["Unreleased"] is None
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", sections[VERSION] or "")
    notes = release.changelog_section((ROOT / "CHANGELOG.md").read_text(), VERSION)
    assert "### Added" in notes and "[Unreleased]:" not in notes and "## [" not in notes


def copy_root(tmp_path: Path) -> Path:
    for rel in (
        "server/tuna_lsp/__init__.py",
        "vscode-extension/package.json",
        "CHANGELOG.md",
        "package-lock.json",
        "editors/nvim/lua/tunacode/version.lua",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes((ROOT / rel).read_bytes())
    return tmp_path


def test_a_version_without_a_changelog_section_is_refused(tmp_path: Path) -> None:
    root = copy_root(tmp_path)
    changelog = root / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace(f"## [{VERSION}]", "## [0.0.1]"))
    _, problems = release.check_versions(root)
    assert problems == [f"CHANGELOG.md has no section for {VERSION} (## [{VERSION}] - YYYY-MM-DD)"]


def test_a_differing_extension_or_plugin_version_or_tag_is_refused(tmp_path: Path) -> None:
    root = copy_root(tmp_path)
    manifest = root / "vscode-extension" / "package.json"
    manifest.write_text(
        manifest.read_text().replace(f'"version": "{VERSION}"', '"version": "9.9.9"')
    )
    plugin = root / "editors" / "nvim" / "lua" / "tunacode" / "version.lua"
    plugin.write_text(plugin.read_text().replace(f"return '{VERSION}'", "return '9.9.8'"))
    _, problems = release.check_versions(root, tag="v0.0.0")
    assert problems == [
        f"vscode-extension/package.json: version 9.9.9, the package's is {VERSION}",
        f"editors/nvim/lua/tunacode/version.lua: 9.9.8, the package's is {VERSION}",
        f"the tag v0.0.0 is not v{VERSION}",
    ]


def test_the_root_licence_is_the_extensions() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n")
    assert (EXT / "LICENSE").read_text() == text


def test_finish_checks_dist_and_writes_the_sums(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / f"tuna_lsp-{VERSION}-py3-none-any.whl").write_bytes(b"wheel")
    (dist / f"tuna_lsp-{VERSION}.tar.gz").write_bytes(b"sdist")
    built_dir = tmp_path / "built"
    built_dir.mkdir()
    vsix = [make_vsix(built_dir / f"tunacode-{t}.vsix", t) for t in release.TARGETS]
    sizes = dict(release.finish(dist, vsix))
    assert set(sizes) == {*release.expected_artifacts(VERSION), "SHA256SUMS"}
    sums = (dist / "SHA256SUMS").read_text().splitlines()
    assert len(sums) == 7
    for line in sums:
        digest, name = line.split("  ")
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest
    (dist / "stray.txt").write_text("x")
    with pytest.raises(release.ReleaseError, match=r"unexpected \['stray.txt'\]"):
        release.finish(dist, vsix)


# ---- the marketplace manifest, media, pyproject ------------------------------------------------------------------


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_extension_manifest_is_ready_for_the_marketplace() -> None:
    manifest = json.loads((EXT / "package.json").read_text())
    assert manifest["repository"] == {"type": "git", "url": REPO_URL}
    assert manifest["bugs"] == {"url": f"{REPO_URL}/issues"}
    assert manifest["homepage"].startswith(REPO_URL)
    assert manifest["categories"] == ["AI", "Other"]
    assert manifest["galleryBanner"]["theme"] in ("dark", "light")
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", manifest["galleryBanner"]["color"])
    assert manifest["license"] == "MIT" and "tunacode" in manifest["keywords"]
    assert png_size(EXT / manifest["icon"]) == (128, 128)
    assert "--allow-missing-repository" not in (EXT / "scripts" / "package.sh").read_text()


def test_the_readme_shows_small_screenshots_that_the_package_carries() -> None:
    readme = (EXT / "README.md").read_text()
    images = re.findall(r"!\[[^\]]*\]\((media/[^)]+\.png)\)", readme)
    assert {"media/status-bar.png", "media/picker.png"} <= set(images)
    for image in images:
        width, _ = png_size(EXT / image)
        assert width <= 800 and (EXT / image).stat().st_size <= 150 * 1024, image
    ignore = (EXT / ".vscodeignore").read_text().splitlines()
    assert "!media/*.png" in ignore and "!CHANGELOG.md" in ignore


def test_pyproject_has_urls_and_classifiers() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    urls = project["urls"]
    assert set(urls) == {"Homepage", "Repository", "Issues", "Changelog"}
    assert all(url.startswith(REPO_URL) for url in urls.values())
    for classifier in (
        "Programming Language :: Python :: 3.13",
        "Operating System :: POSIX :: Linux",
        "Operating System :: MacOS",
        "Operating System :: Microsoft :: Windows",
    ):
        assert classifier in project["classifiers"]
    # the one placeholder for the repository, everywhere it is named
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"[{VERSION}]: {REPO_URL}/releases/tag/v{VERSION}" in changelog


# ---- the Makefile and the release workflow -------------------------------------------------------------------------


def test_make_has_package_all_and_release() -> None:
    makefile = (ROOT / "Makefile").read_text()
    phony = next(line for line in makefile.splitlines() if line.startswith(".PHONY:"))
    assert " package-all " in phony and " release " in phony
    assert re.search(r"^package-all: .*## ", makefile, re.M)
    assert re.search(r"^release: .*## ", makefile, re.M)
    assert "scripts/release.py check-vsix" in makefile and "scripts/release.py finish" in makefile


def test_the_release_workflow() -> None:
    yaml = pytest.importorskip("yaml")
    text = (ROOT / ".github" / "workflows" / "release.yml").read_text()
    workflow = yaml.safe_load(text)
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert list(triggers) == ["push"] and triggers["push"]["tags"]
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert "make release" in json.dumps(jobs["build"]["steps"])
    # id-token: write in the PyPI job only, which has an environment
    for name, job in jobs.items():
        assert ("id-token" in job.get("permissions", {})) == (name == "pypi"), name
    assert jobs["pypi"]["permissions"] == {"id-token": "write"} and jobs["pypi"]["environment"]
    assert any("pypa/gh-action-pypi-publish@" in s.get("uses", "") for s in jobs["pypi"]["steps"])
    # tokens reach the tools as environment variables only, never in a command line
    for name, secret in (("marketplace", "VSCE_PAT"), ("open-vsx", "OVSX_PAT")):
        steps = jobs[name]["steps"]
        assert any(s.get("env", {}).get(secret) == f"${{{{ secrets.{secret} }}}}" for s in steps)
        assert all("secrets." not in s.get("run", "") for s in steps)
    assert "git subtree split --prefix editors/nvim" in text
    # every action pinned by commit; the ones ci.yml uses by the same commit
    pins = re.findall(r"uses: ([\w./-]+)@(\S+)", text)
    assert pins and all(re.fullmatch(r"[0-9a-f]{40}", sha) for _, sha in pins)
    ci = dict(
        re.findall(r"uses: ([\w./-]+)@(\S+)", (ROOT / ".github/workflows/ci.yml").read_text())
    )
    for action, sha in pins:
        if action in ci:
            assert ci[action] == sha, action
