/**
 * Every difference between Windows, macOS and Linux the extension acts on, in one place (issue 25, item 5): path
 * syntax and program names (PATHEXT), where a virtual environment keeps its programs (`Scripts\` and `.exe` on
 * Windows), the Pythons worth trying (the `py -3` launcher on Windows), Apple's `/usr/bin/python3` stub, whether a
 * login shell is read, and what to tell the user to install.
 *
 * Each function takes the platform (and what else of the machine it needs) as a parameter, so the unit tests force
 * every OS on one machine. No other module compares `process.platform` with anything (a unit test checks): they pass
 * it here. Node only (no vscode import); nothing here starts a process.
 */
import * as fs from "fs";
import * as nodePath from "path";

/** The path syntax of `platform`: `C:\dir` on Windows, `/dir` elsewhere, whatever the machine running the code. */
export function pathApi(platform: NodeJS.Platform): nodePath.PlatformPath {
  return platform === "win32" ? nodePath.win32 : nodePath.posix;
}

/**
 * True when `file` exists, is a regular file (symlinks followed) and may be executed. Windows has no execute bit:
 * whether a file runs depends on its extension, which the caller chose (programSuffixes).
 */
export function isExecutable(file: string, platform: NodeJS.Platform): boolean {
  try {
    if (!fs.statSync(file).isFile()) {
      return false;
    }
    if (platform === "win32") {
      return true;
    }
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const DEFAULT_PATHEXT = ".COM;.EXE;.BAT;.CMD";

/** What may follow a bare program name on PATH: the name itself, and on Windows each extension of PATHEXT. */
export function programSuffixes(platform: NodeJS.Platform, pathExt: string | undefined): string[] {
  if (platform !== "win32") {
    return [""];
  }
  return ["", ...windowsExtensions(pathExt)];
}

function windowsExtensions(pathExt: string | undefined): string[] {
  const exts = (pathExt ?? DEFAULT_PATHEXT).split(";").filter((e) => e !== "");
  return exts.length > 0 ? exts : DEFAULT_PATHEXT.split(";");
}

/**
 * Where a virtual environment in `venv` may keep the program `name`, most likely first: `venv\Scripts\name.exe`
 * (then the other PATHEXT extensions, then `bin\`, which an MSYS2 or Cygwin Python makes) on Windows,
 * `venv/bin/name` elsewhere. The caller takes the first that exists.
 */
export function venvExecutables(venv: string, name: string, platform: NodeJS.Platform, pathExt?: string): string[] {
  const p = pathApi(platform);
  if (platform !== "win32") {
    return [p.join(venv, "bin", name)];
  }
  const exts = windowsExtensions(pathExt);
  const ordered = [".exe", ...exts.filter((e) => e.toLowerCase() !== ".exe")];
  return ["Scripts", "bin"].flatMap((dir) => ordered.map((ext) => p.join(venv, dir, name + ext.toLowerCase())));
}

/** A Python to look for on PATH: the program, and the arguments that make it a Python 3 (`py -3`). */
export interface PythonCommand {
  program: string;
  args: string[];
}

/**
 * The Pythons looked for on PATH, in order. On Windows first the `py` launcher (`py -3`: its newest Python 3), the
 * only one python.org's installer puts on PATH, then `python3` and `python` (often the Microsoft Store's stubs,
 * which only say where to get Python). Elsewhere `python3`.
 */
export function pythonCommands(platform: NodeJS.Platform): PythonCommand[] {
  if (platform === "win32") {
    return [
      { program: "py", args: ["-3"] },
      { program: "python3", args: [] },
      { program: "python", args: [] },
    ];
  }
  return [{ program: "python3", args: [] }];
}

/** Apple's `xcode-select`, asked whether the Command Line Tools are installed (`-p` prints their folder). */
export const XCODE_SELECT = "/usr/bin/xcode-select";

/**
 * True when running `python` needs the Command Line Tools first: on macOS `/usr/bin/python3` is a stub that, without
 * them, opens Apple's install dialog instead of running (at every editor start, if the extension ran it).
 */
export function needsDeveloperTools(python: string, platform: NodeJS.Platform): boolean {
  return platform === "darwin" && nodePath.posix.normalize(python) === "/usr/bin/python3";
}

/** Whether the user's login shell is read for its PATH: not on Windows, where an editor inherits the user's PATH. */
export function readsLoginShell(platform: NodeJS.Platform): boolean {
  return platform !== "win32";
}

/** Whether files have POSIX owners and modes to check before running them (not on Windows). */
export function hasPosixOwners(platform: NodeJS.Platform): boolean {
  return platform !== "win32";
}

/** The systems the install hints are written for. */
export type HostOs = "windows" | "macos" | "debian" | "fedora" | "arch" | "linux" | "other";

/** Where a Linux system describes itself (os-release(5)), first that exists. */
const OS_RELEASE_FILES = ["/etc/os-release", "/usr/lib/os-release"];

/** The text of os-release on Linux, undefined elsewhere or when unreadable. `read` is injected for the tests. */
export function osReleaseText(
  platform: NodeJS.Platform,
  read: (file: string) => string = (file) => fs.readFileSync(file, "utf8"),
): string | undefined {
  if (platform !== "linux") {
    return undefined;
  }
  for (const file of OS_RELEASE_FILES) {
    try {
      return read(file);
    } catch {
      // the next one
    }
  }
  return undefined;
}

/** `ID` and `ID_LIKE` of an os-release text, lowercased: `ID=ubuntu`, `ID_LIKE=debian` gives ["ubuntu", "debian"]. */
function osIds(osRelease: string): string[] {
  const ids: string[] = [];
  for (const line of osRelease.split(/\r?\n/)) {
    const m = /^\s*(ID|ID_LIKE)\s*=\s*(.*?)\s*$/.exec(line);
    if (m?.[2] !== undefined) {
      ids.push(...m[2].replace(/^["']|["']$/g, "").toLowerCase().split(/\s+/).filter((id) => id !== ""));
    }
  }
  return ids;
}

/** The system, for install hints: the platform, and on Linux the distribution family from os-release. */
export function hostOs(platform: NodeJS.Platform, osRelease: string | undefined): HostOs {
  switch (platform) {
    case "win32":
      return "windows";
    case "darwin":
      return "macos";
    case "linux": {
      const ids = osIds(osRelease ?? "");
      const family = (["debian", "ubuntu", "fedora", "rhel", "arch"] as const).find((id) => ids.includes(id));
      if (family === "debian" || family === "ubuntu") {
        return "debian";
      }
      if (family === "fedora" || family === "rhel") {
        return "fedora";
      }
      return family ?? "linux";
    }
    default:
      return "other";
  }
}

/** How to get a Python 3.11+ on `os`, for the notification when none was found. */
export function pythonInstallHint(os: HostOs): string {
  return `Install Python 3.11 or newer (${PYTHON_INSTALL[os]}), or set tunacode.server.python in your user settings to one.`;
}

const PYTHON_INSTALL: Record<HostOs, string> = {
  debian: "sudo apt install python3 on Debian 12 or Ubuntu 23.04 and later; sudo apt install python3.11 on Ubuntu 22.04",
  fedora: "sudo dnf install python3",
  arch: "sudo pacman -S python",
  linux: "from your distribution's package manager, or python.org",
  macos:
    "brew install python@3.12 (Homebrew needs Apple's Command Line Tools: xcode-select --install), or the installer " +
    "from python.org; Apple's own /usr/bin/python3 is too old",
  windows: "winget install Python.Python.3.12, or the installer from python.org, which puts the py launcher on PATH",
  other: "from python.org, or your package manager",
};

/** The command that installs the Python package `pkg` for the user on `os` (`py -3 -m pip install` on Windows). */
export function pipInstallCommand(os: HostOs, pkg: string): string {
  return os === "windows" ? `py -3 -m pip install ${pkg}` : `pip install ${pkg}`;
}
