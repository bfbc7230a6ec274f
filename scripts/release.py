#!/usr/bin/env python3
"""Release checks for tuna-lsp: what `make package-all` and `make release` run (standard library only).

    python3 scripts/release.py check-vsix --target linux-x64 vscode-extension/tunacode-linux-x64.vsix
    python3 scripts/release.py check-versions [--tag v0.1.0]
    python3 scripts/release.py check-listing        # `vsce ls` in vscode-extension/: nothing unexpected
    python3 scripts/release.py notes                # CHANGELOG.md's section for the version
    python3 scripts/release.py finish --dist dist VSIX...   # copies the .vsix files into dist/, checks every
                                                            # artifact, writes dist/SHA256SUMS, prints sizes

check-vsix refuses a .vsix that does not name its target in extension.vsixmanifest, that carries a native binary
of another platform (read from the file's own header: ELF machine, Mach-O CPU type, PE machine), a file outside the
extension's known layout (tests, caches, source maps, __pycache__, sources), or a path of the machine that built it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
EXT_DIR = ROOT / "vscode-extension"

# VS Code target -> (binary format, machine) of the native code it may carry.
TARGETS: dict[str, tuple[str, str]] = {
    "linux-x64": ("ELF", "x86-64"),
    "linux-arm64": ("ELF", "aarch64"),
    "darwin-x64": ("Mach-O", "x86_64"),
    "darwin-arm64": ("Mach-O", "arm64"),
    "win32-x64": ("PE", "x86-64"),
}

ELF_MACHINES = {
    0x03: "x86",
    0x28: "arm",
    0x3E: "x86-64",
    0xB7: "aarch64",
    0xF3: "riscv",
    0x15: "ppc64",
}
MACHO_CPUS = {
    7: "i386",
    0x01000007: "x86_64",
    12: "arm",
    0x0100000C: "arm64",
    0x0200000C: "arm64_32",
}
PE_MACHINES = {0x14C: "x86", 0x8664: "x86-64", 0xAA64: "arm64", 0x1C4: "arm"}
# Names that only native code has: such a file that is no binary of a known format is refused too.
NATIVE_SUFFIXES = (".so", ".pyd", ".dll", ".dylib", ".exe", ".node")

# Where a file of the .vsix may be (zip names). Anything else is unexpected.
ALLOWED = (
    re.compile(r"\[Content_Types\]\.xml"),
    re.compile(r"extension\.vsixmanifest"),
    re.compile(r"extension/(package\.json|readme\.md|changelog\.md|LICENSE\.txt)"),
    re.compile(r"extension/dist/extension\.js"),
    re.compile(r"extension/media/[A-Za-z0-9_.-]+\.png"),
    re.compile(r"extension/bundled/tool/[A-Za-z0-9_]+\.py"),
    re.compile(r"extension/bundled/libs/.+"),
)
REQUIRED = (
    "extension.vsixmanifest",
    "extension/package.json",
    "extension/readme.md",
    "extension/changelog.md",
    "extension/LICENSE.txt",
    "extension/dist/extension.js",
    "extension/media/icon.png",
    "extension/bundled/tool/tuna_lsp_main.py",
    "extension/bundled/libs/tuna_lsp/__init__.py",
)
# Folders and files a package for users never needs: tests, caches, build leftovers, sources, source maps.
FORBIDDEN_DIRS = frozenset(
    {
        "__pycache__",
        "tests",
        "test",
        "testing",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        "node_modules",
        ".git",
        ".github",
        ".vscode",
        ".e2e",
        "test-artifacts",
        "src",
        "out",
    }
)
FORBIDDEN_FILE = re.compile(
    r"(.*\.(pyc|pyo|map|ts|tsbuildinfo|log|vsix|whl|orig|rej|swp)|conftest\.py|test_.*\.py|.*_test\.py"
    r"|\.DS_Store|\.env|direct_url\.json)"
)


class ReleaseError(Exception):
    """A check failed; the message says what and where."""


@dataclass(frozen=True)
class Binary:
    fmt: str  # ELF, Mach-O, PE
    machines: tuple[str, ...]  # a Mach-O universal file has several

    def describe(self) -> str:
        return f"{self.fmt} {'+'.join(self.machines)}"


def identify(data: bytes) -> Binary | None:
    """The native format and machine(s) of a file's bytes, or None for anything else."""
    if data[:4] == b"\x7fELF" and len(data) >= 20:
        order: Literal["little", "big"] = "little" if data[5] == 1 else "big"
        machine = int.from_bytes(data[18:20], order)
        return Binary("ELF", (ELF_MACHINES.get(machine, f"machine 0x{machine:x}"),))
    if data[:4] in (
        b"\xcf\xfa\xed\xfe",
        b"\xce\xfa\xed\xfe",
        b"\xfe\xed\xfa\xcf",
        b"\xfe\xed\xfa\xce",
    ):
        endian: Literal["little", "big"] = "little" if data[0] in (0xCF, 0xCE) else "big"
        cpu = int.from_bytes(data[4:8], endian)
        return Binary("Mach-O", (MACHO_CPUS.get(cpu, f"cpu 0x{cpu:x}"),))
    if data[:4] in (b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"):
        # A universal Mach-O (fat) file, unless it is a Java class file (same magic, then a version >= 45).
        count = int.from_bytes(data[4:8], "big")
        entry = 32 if data[3] == 0xBF else 20
        if 0 < count < 30 and len(data) >= 8 + count * entry:
            cpus = [
                int.from_bytes(data[8 + i * entry : 12 + i * entry], "big") for i in range(count)
            ]
            return Binary("Mach-O", tuple(MACHO_CPUS.get(c, f"cpu 0x{c:x}") for c in cpus))
        return None
    if data[:2] == b"MZ" and len(data) >= 0x40:
        offset = int.from_bytes(data[0x3C:0x40], "little")
        if data[offset : offset + 4] == b"PE\0\0":
            machine = int.from_bytes(data[offset + 4 : offset + 6], "little")
            return Binary("PE", (PE_MACHINES.get(machine, f"machine 0x{machine:x}"),))
    return None


def machine_paths(extra: Iterable[str] = ()) -> list[str]:
    """Strings that name this machine's own folders: the clone (as given and resolved, and the working folder),
    the temporary folders bundle-server.sh builds in. Not the home folder: the wheels' own binaries name their
    build machines' (/root/.cargo/... in watchfiles' manylinux build), which says nothing of this one."""
    paths = {str(ROOT), os.path.realpath(ROOT), os.getcwd(), "/tmp/tmp.", *extra}
    tmp = tempfile.gettempdir()
    paths.add(os.path.join(tmp, "tmp."))
    return sorted(p for p in paths if len(p) > 3)


def readme_images(readme: str) -> list[str]:
    """The files under media/ that the packaged README shows (vsce made its relative links absolute)."""
    return sorted(set(re.findall(r"/vscode-extension/(media/[A-Za-z0-9_.-]+\.png)", readme)))


def check_vsix(
    path: Path,
    target: str,
    version: str | None = None,
    forbidden_paths: Sequence[str] | None = None,
) -> list[str]:
    """Every problem of one .vsix built for `target`, as readable lines (empty: it passes)."""
    if target not in TARGETS:
        raise ReleaseError(f"unknown target {target!r} (expected one of {', '.join(TARGETS)})")
    needles = [
        p.encode() for p in (machine_paths() if forbidden_paths is None else forbidden_paths)
    ]
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        return [f"{path}: not a readable .vsix ({error})"]
    with archive:
        problems = _check_parts(path.name, archive, target, version)
        for info in archive.infolist():
            if not info.is_dir():
                problems += _check_member(
                    path.name, info.filename, archive.read(info), target, needles
                )
    return problems


def _check_parts(
    vsix: str, archive: zipfile.ZipFile, target: str, version: str | None
) -> list[str]:
    """What the package must have: the required files, its target and version, the README's images."""
    names = set(archive.namelist())
    problems = [f"{vsix}: {required} is missing" for required in REQUIRED if required not in names]
    if "extension.vsixmanifest" in names:
        problems += _check_manifest(vsix, archive.read("extension.vsixmanifest"), target, version)
    if version is not None:
        if "extension/package.json" in names:
            found = json.loads(archive.read("extension/package.json")).get("version")
            if found != version:
                problems.append(f"{vsix}: package.json says version {found}, not {version}")
        if f"extension/bundled/libs/tuna_lsp-{version}.dist-info/METADATA" not in names:
            problems.append(
                f"{vsix}: the bundled server is not tuna_lsp {version} (no tuna_lsp-{version}.dist-info)"
            )
    if "extension/readme.md" in names:
        readme = archive.read("extension/readme.md").decode("utf-8", "replace")
        problems += [
            f"{vsix}: the README shows {image}, which the package does not carry"
            for image in readme_images(readme)
            if f"extension/{image}" not in names
        ]
    return problems


def _check_member(
    vsix: str, name: str, data: bytes, target: str, needles: list[bytes]
) -> list[str]:
    """One file of the package: where it is, the platform of its native code, no path of this machine."""
    fmt, machine = TARGETS[target]
    problems = _check_name(vsix, name)
    binary = identify(data)
    if binary is None:
        if name.lower().endswith(NATIVE_SUFFIXES) or ".so." in name:
            problems.append(
                f"{vsix}: {name} is named like native code but is no ELF, Mach-O or PE file"
            )
    elif binary.fmt != fmt or machine not in binary.machines:
        problems.append(
            f"{vsix}: {name} is a {binary.describe()} binary, another platform's: "
            f"a {target} package carries {fmt} {machine} code only"
        )
    for needle in needles:
        at = data.find(needle)
        if at != -1:
            context = data[max(0, at - 30) : at + len(needle) + 30].decode("latin-1")
            problems.append(f"{vsix}: {name} names a path of this machine: {context!r}")
    return problems


def _check_manifest(vsix: str, xml: bytes, target: str, version: str | None) -> list[str]:
    ns = {"v": "http://schemas.microsoft.com/developer/vsx-schema/2011"}
    identity = ElementTree.fromstring(xml).find("v:Metadata/v:Identity", ns)
    if identity is None:
        return [f"{vsix}: extension.vsixmanifest has no Identity"]
    problems = []
    named = identity.get("TargetPlatform")
    if named != target:
        problems.append(
            f"{vsix}: extension.vsixmanifest names TargetPlatform {named!r}, not {target!r}"
        )
    if version is not None and identity.get("Version") != version:
        problems.append(
            f"{vsix}: extension.vsixmanifest says version {identity.get('Version')}, not {version}"
        )
    return problems


def _check_name(vsix: str, name: str) -> list[str]:
    problems = []
    if not any(pattern.fullmatch(name) for pattern in ALLOWED):
        problems.append(f"{vsix}: {name} is not part of the extension's layout")
    *folders, base = name.split("/")
    bad = [f for f in folders if f in FORBIDDEN_DIRS]
    if bad:
        problems.append(
            f"{vsix}: {name} is in a {bad[0]}/ folder (tests, caches, sources stay out)"
        )
    elif FORBIDDEN_FILE.fullmatch(base):
        problems.append(f"{vsix}: {name} is a test, cache, source map or build leftover")
    return problems


def check_listing(lines: Iterable[str]) -> list[str]:
    """Problems in `vsce ls` output (paths relative to vscode-extension/)."""
    problems = []
    for line in lines:
        name = line.strip()
        if not name:
            continue
        # vsce renames these three in the .vsix
        renamed = {
            "README.md": "readme.md",
            "CHANGELOG.md": "changelog.md",
            "LICENSE": "LICENSE.txt",
        }
        problems += _check_name("vsce ls", "extension/" + renamed.get(name, name))
    return problems


# ---- versions ------------------------------------------------------------------------------------------------


def package_version(root: Path = ROOT) -> str:
    text = (root / "server" / "tuna_lsp" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"', text, re.M)
    if not match:
        raise ReleaseError("server/tuna_lsp/__init__.py has no __version__")
    return match.group(1)


CHANGELOG_SECTION = re.compile(
    r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?\s*$", re.M
)


def changelog_versions(text: str) -> dict[str, str | None]:
    """The sections of a Keep a Changelog file: version (or Unreleased) -> date."""
    return {m["version"]: m["date"] for m in CHANGELOG_SECTION.finditer(text)}


def check_versions(root: Path = ROOT, tag: str | None = None) -> tuple[str, list[str]]:
    """The release version and every place that disagrees with it."""
    version = package_version(root)
    problems = []
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        problems.append(
            f"server/tuna_lsp/__init__.py: version {version!r} is not MAJOR.MINOR.PATCH"
        )
    extension = json.loads((root / "vscode-extension" / "package.json").read_text())["version"]
    if extension != version:
        problems.append(
            f"vscode-extension/package.json: version {extension}, the package's is {version}"
        )
    lock_path = root / "package-lock.json"
    if lock_path.exists():
        locked = (
            json.loads(lock_path.read_text())
            .get("packages", {})
            .get("vscode-extension", {})
            .get("version")
        )
        if locked is not None and locked != version:
            problems.append(
                f"package-lock.json: vscode-extension is {locked}, the package's is {version}"
            )
    # The Neovim plugin's :TunaInstall, outside a clone (the published tunacode.nvim), installs tuna-lsp==<this>.
    plugin = root / "editors" / "nvim" / "lua" / "tunacode" / "version.lua"
    if plugin.exists():
        match = re.search(r"^return '([^']+)'", plugin.read_text(), re.M)
        if match is None or match.group(1) != version:
            found = match.group(1) if match else "no `return '<version>'`"
            problems.append(
                f"editors/nvim/lua/tunacode/version.lua: {found}, the package's is {version}"
            )
    changelog = root / "CHANGELOG.md"
    if not changelog.exists():
        problems.append("CHANGELOG.md is missing")
    else:
        sections = changelog_versions(changelog.read_text())
        if "Unreleased" not in sections:
            problems.append("CHANGELOG.md has no [Unreleased] section")
        if version not in sections:
            problems.append(
                f"CHANGELOG.md has no section for {version} (## [{version}] - YYYY-MM-DD)"
            )
        elif sections[version] is None:
            problems.append(f"CHANGELOG.md: the section for {version} has no date")
    if tag is not None and tag != f"v{version}":
        problems.append(f"the tag {tag} is not v{version}")
    return version, problems


def changelog_section(text: str, version: str) -> str:
    """The body of CHANGELOG.md's section for `version` (the release notes)."""
    matches = list(CHANGELOG_SECTION.finditer(text))
    for i, match in enumerate(matches):
        if match["version"] == version:
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            body = text[match.end() : end]
            # the link references at the end of the file belong to no section
            body = re.sub(r"^\[[^\]]+\]: \S+\s*$", "", body, flags=re.M)
            return body.strip() + "\n"
    raise ReleaseError(f"CHANGELOG.md has no section for {version}")


# ---- assembling dist/ ----------------------------------------------------------------------------------------


def sha256sums(files: Iterable[Path]) -> str:
    lines = []
    for file in sorted(files, key=lambda p: p.name):
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        lines.append(f"{digest}  {file.name}\n")
    return "".join(lines)


def expected_artifacts(version: str) -> list[str]:
    return [
        f"tuna_lsp-{version}-py3-none-any.whl",
        f"tuna_lsp-{version}.tar.gz",
        *(f"tunacode-{target}-{version}.vsix" for target in TARGETS),
    ]


def finish(dist: Path, vsix_files: Sequence[Path], root: Path = ROOT) -> list[tuple[str, int]]:
    """Copies each tunacode-<target>.vsix into dist/ as tunacode-<target>-<version>.vsix, checks every artifact,
    writes SHA256SUMS. Returns (name, size) of each artifact."""
    version, problems = check_versions(root)
    if problems:
        raise ReleaseError("\n".join(problems))
    for vsix in vsix_files:
        match = re.fullmatch(r"tunacode-(.+)\.vsix", vsix.name)
        if not match or match[1] not in TARGETS:
            raise ReleaseError(f"{vsix}: not a tunacode-<target>.vsix")
        copy = dist / f"tunacode-{match[1]}-{version}.vsix"
        shutil.copyfile(vsix, copy)
        found = check_vsix(copy, match[1], version)
        if found:
            raise ReleaseError("\n".join(found))
    (dist / "SHA256SUMS").unlink(missing_ok=True)
    present = sorted(p.name for p in dist.iterdir())
    expected = sorted(expected_artifacts(version))
    if present != expected:
        missing = sorted(set(expected) - set(present))
        extra = sorted(set(present) - set(expected))
        raise ReleaseError(
            f"dist/ should hold exactly the release's artifacts: missing {missing}, unexpected {extra}"
        )
    artifacts = [dist / name for name in expected]
    (dist / "SHA256SUMS").write_text(sha256sums(artifacts))
    return [(p.name, p.stat().st_size) for p in [*artifacts, dist / "SHA256SUMS"]]


def _human(size: int) -> str:
    return f"{size / 1024 / 1024:.2f} MB" if size >= 1024 * 1024 else f"{size / 1024:.1f} KB"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    vsix = sub.add_parser("check-vsix", help="check one target's .vsix")
    vsix.add_argument("--target", required=True, choices=sorted(TARGETS))
    vsix.add_argument("vsix", type=Path)
    versions = sub.add_parser(
        "check-versions", help="the package, the extension and CHANGELOG.md agree"
    )
    versions.add_argument("--tag", help="the git tag being released (must be v<version>)")
    sub.add_parser("notes", help="print CHANGELOG.md's section for the version (the release notes)")
    sub.add_parser("check-listing", help="`vsce ls` in vscode-extension/ lists nothing unexpected")
    done = sub.add_parser(
        "finish", help="copy the .vsix files into dist/, check every artifact, write SHA256SUMS"
    )
    done.add_argument("--dist", type=Path, default=ROOT / "dist")
    done.add_argument("vsix", type=Path, nargs="+")
    args = parser.parse_args(argv)
    try:
        if args.command == "check-vsix":
            version = package_version()
            problems = check_vsix(args.vsix, args.target, version)
            if problems:
                raise ReleaseError("\n".join(problems))
            with zipfile.ZipFile(args.vsix) as archive:
                count = len(archive.namelist())
            print(
                f"check-vsix: {args.vsix.name}: {args.target}, {version}, {count} files, {_human(args.vsix.stat().st_size)}: ok"
            )
        elif args.command == "check-versions":
            version, problems = check_versions(tag=args.tag)
            if problems:
                raise ReleaseError("\n".join(problems))
            print(
                f"check-versions: {version} in __init__.py, package.json, package-lock.json,"
                " the Neovim plugin's version.lua and CHANGELOG.md"
            )
        elif args.command == "notes":
            print(changelog_section((ROOT / "CHANGELOG.md").read_text(), package_version()), end="")
        elif args.command == "check-listing":
            vsce = EXT_DIR / "node_modules" / ".bin" / "vsce"
            if not vsce.exists():
                vsce = ROOT / "node_modules" / ".bin" / "vsce"
            listing = subprocess.run(
                [str(vsce), "ls", "--no-dependencies"],
                cwd=EXT_DIR,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.splitlines()
            problems = check_listing(listing)
            if problems:
                raise ReleaseError("\n".join(problems))
            print(f"check-listing: vsce ls: {len(listing)} files, all expected")
        else:
            args.dist.mkdir(parents=True, exist_ok=True)
            for name, size in finish(args.dist, args.vsix):
                print(f"  {name:<40} {size:>10} bytes  {_human(size):>9}")
    except ReleaseError as error:
        print(f"release: {args.command} failed:\n{error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
