import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";

import {
  hostOs,
  isExecutable,
  needsDeveloperTools,
  osReleaseText,
  pipInstallCommand,
  pythonCommands,
  pythonInstallHint,
  venvExecutables,
  type HostOs,
} from "../../src/platform";

const OS_RELEASE = {
  debian: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n',
  ubuntu: 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n',
  mint: 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n',
  fedora: "NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=40\n",
  rocky: 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n',
  arch: "NAME=\"Arch Linux\"\nID=arch\n",
  manjaro: "NAME=\"Manjaro Linux\"\nID=manjaro\nID_LIKE=arch\n",
  alpine: "NAME=\"Alpine Linux\"\nID=alpine\n",
};

describe("hostOs", () => {
  it("tells the distribution families apart from os-release (ID, then ID_LIKE)", () => {
    assert.equal(hostOs("linux", OS_RELEASE.debian), "debian");
    assert.equal(hostOs("linux", OS_RELEASE.ubuntu), "debian");
    assert.equal(hostOs("linux", OS_RELEASE.mint), "debian");
    assert.equal(hostOs("linux", OS_RELEASE.fedora), "fedora");
    assert.equal(hostOs("linux", OS_RELEASE.rocky), "fedora");
    assert.equal(hostOs("linux", OS_RELEASE.arch), "arch");
    assert.equal(hostOs("linux", OS_RELEASE.manjaro), "arch");
    assert.equal(hostOs("linux", OS_RELEASE.alpine), "linux");
    assert.equal(hostOs("linux", undefined), "linux");
  });

  it("takes the platform for macOS, Windows and the rest, whatever os-release says", () => {
    assert.equal(hostOs("darwin", OS_RELEASE.debian), "macos");
    assert.equal(hostOs("win32", undefined), "windows");
    assert.equal(hostOs("freebsd", undefined), "other");
  });
});

describe("osReleaseText", () => {
  it("reads /etc/os-release, else /usr/lib/os-release, on Linux only", () => {
    const read: string[] = [];
    const files: Record<string, string> = { "/usr/lib/os-release": OS_RELEASE.fedora };
    const reader = (file: string): string => {
      read.push(file);
      const text = files[file];
      if (text === undefined) {
        throw new Error(`ENOENT: ${file}`);
      }
      return text;
    };
    assert.equal(osReleaseText("linux", reader), OS_RELEASE.fedora);
    assert.deepEqual(read, ["/etc/os-release", "/usr/lib/os-release"]);
    read.length = 0;
    assert.equal(osReleaseText("darwin", reader), undefined);
    assert.equal(osReleaseText("win32", reader), undefined);
    assert.deepEqual(read, []);
    assert.equal(osReleaseText("linux", () => { throw new Error("EACCES"); }), undefined);
  });

  it("reads this machine's (a Linux with an os-release)", () => {
    const text = osReleaseText("linux");
    assert.ok(text !== undefined && /^ID=/m.test(text), text);
  });
});

describe("install hints", () => {
  const hint = (os: HostOs): string => pythonInstallHint(os);
  const linux = (release: string): string => hint(hostOs("linux", release));

  it("names each system's own package manager, and no other's", () => {
    const tools = { apt: /\bsudo apt install python3\b/, dnf: /\bsudo dnf install python3\b/, pacman: /\bsudo pacman -S python\b/, brew: /\bbrew install python@3\.12\b/, winget: /\bwinget install Python\.Python\.3\.12\b/ };
    const expected: [string, keyof typeof tools][] = [
      [linux(OS_RELEASE.ubuntu), "apt"],
      [linux(OS_RELEASE.debian), "apt"],
      [linux(OS_RELEASE.fedora), "dnf"],
      [linux(OS_RELEASE.arch), "pacman"],
      [hint(hostOs("darwin", undefined)), "brew"],
      [hint(hostOs("win32", undefined)), "winget"],
    ];
    for (const [text, tool] of expected) {
      assert.match(text, tools[tool]);
      for (const [other, re] of Object.entries(tools)) {
        if (other !== tool) {
          assert.doesNotMatch(text, re, `${tool} hint names ${other}: ${text}`);
        }
      }
      assert.match(text, /^Install Python 3\.11 or newer \(.+\), or set tunacode\.server\.python in your user settings to one\.$/);
    }
  });

  it("on macOS says how to get the Command Line Tools and that Apple's python3 will not do", () => {
    const text = hint("macos");
    assert.match(text, /xcode-select --install/);
    assert.match(text, /python\.org/);
    assert.match(text, /\/usr\/bin\/python3 is too old/);
  });

  it("on Windows names python.org and the py launcher; elsewhere neither sudo-less guesses nor py", () => {
    assert.match(hint("windows"), /python\.org/);
    assert.match(hint("windows"), /\bpy launcher\b/);
    assert.doesNotMatch(hint("windows"), /sudo/);
    assert.doesNotMatch(linux(OS_RELEASE.alpine), /sudo|winget|brew/);
    assert.match(linux(OS_RELEASE.alpine), /package manager/);
  });

  it("installs a package with py -3 -m pip on Windows, pip elsewhere", () => {
    assert.equal(pipInstallCommand(hostOs("win32", undefined), "tunacode-cli"), "py -3 -m pip install tunacode-cli");
    assert.equal(pipInstallCommand(hostOs("linux", OS_RELEASE.debian), "tunacode-cli"), "pip install tunacode-cli");
    assert.equal(pipInstallCommand(hostOs("darwin", undefined), "tunacode-cli"), "pip install tunacode-cli");
  });
});

describe("pythonCommands", () => {
  it("tries the py launcher (py -3) first on Windows only", () => {
    assert.deepEqual(pythonCommands("win32")[0], { program: "py", args: ["-3"] });
    assert.deepEqual(pythonCommands("win32").map((c) => c.program), ["py", "python3", "python"]);
    for (const platform of ["linux", "darwin"] as const) {
      assert.deepEqual(pythonCommands(platform), [{ program: "python3", args: [] }]);
    }
  });
});

describe("needsDeveloperTools", () => {
  it("is Apple's /usr/bin/python3 on macOS only", () => {
    assert.equal(needsDeveloperTools("/usr/bin/python3", "darwin"), true);
    assert.equal(needsDeveloperTools("/usr/bin//python3", "darwin"), true);
    assert.equal(needsDeveloperTools("/opt/homebrew/bin/python3", "darwin"), false);
    assert.equal(needsDeveloperTools("/usr/local/bin/python3", "darwin"), false);
    assert.equal(needsDeveloperTools("/usr/bin/python3", "linux"), false);
  });
});

describe("venvExecutables", () => {
  it("looks in Scripts\\ for .exe first on Windows, then PATHEXT's others, then bin\\", () => {
    const found = venvExecutables("C:\\src\\.venv", "tuna-lsp", "win32", ".COM;.EXE;.CMD");
    assert.deepEqual(found.slice(0, 3), ["C:\\src\\.venv\\Scripts\\tuna-lsp.exe", "C:\\src\\.venv\\Scripts\\tuna-lsp.com", "C:\\src\\.venv\\Scripts\\tuna-lsp.cmd"]);
    assert.ok(found.includes("C:\\src\\.venv\\bin\\tuna-lsp.exe"));
    assert.ok(found.every((f) => /\.(exe|com|cmd)$/.test(f)), "an extension-less name does not run on Windows");
  });

  it("is bin/ elsewhere", () => {
    assert.deepEqual(venvExecutables("/src/.venv", "tuna-lsp", "linux"), ["/src/.venv/bin/tuna-lsp"]);
    assert.deepEqual(venvExecutables("/src/.venv", "tuna-lsp", "darwin"), ["/src/.venv/bin/tuna-lsp"]);
  });
});

describe("isExecutable", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "platform-"));
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("takes a regular file with the execute bit; on Windows (no such bit) any regular file", () => {
    const script = path.join(dir, "script");
    fs.writeFileSync(script, "#!/bin/sh\n", { mode: 0o755 });
    const text = path.join(dir, "text");
    fs.writeFileSync(text, "hello\n", { mode: 0o644 });
    const link = path.join(dir, "link");
    fs.symlinkSync(script, link);
    assert.equal(isExecutable(script, "linux"), true);
    assert.equal(isExecutable(link, "linux"), true);
    assert.equal(isExecutable(text, "linux"), false);
    assert.equal(isExecutable(text, "win32"), true);
    for (const platform of ["linux", "win32"] as const) {
      assert.equal(isExecutable(dir, platform), false, "a directory");
      assert.equal(isExecutable(path.join(dir, "missing"), platform), false);
    }
  });
});

describe("OS decisions live in platform.ts only", () => {
  it("no other module of src/ compares the platform with anything", () => {
    const src = path.resolve(__dirname, "..", "..", "..", "src");
    const offenders: string[] = [];
    for (const name of fs.readdirSync(src).filter((n) => n.endsWith(".ts") && n !== "platform.ts")) {
      const text = fs.readFileSync(path.join(src, name), "utf8");
      text.split("\n").forEach((line, i) => {
        if (/["'](win32|darwin|linux|freebsd|openbsd|sunos|aix)["']|platform\s*[!=]==|process\.platform\s*[!=]=/.test(line)) {
          offenders.push(`${name}:${String(i + 1)}: ${line.trim()}`);
        }
      });
    }
    assert.ok(fs.existsSync(path.join(src, "platform.ts")), src);
    assert.deepEqual(offenders, []);
  });
});
