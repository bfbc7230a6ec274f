import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ExecFileOptions } from "node:child_process";
import { createRequire } from "node:module";
import { after, describe, it, mock } from "node:test";

import { hostOs, pythonInstallHint } from "../../src/platform";
import {
  bundledCandidate,
  describeProbe,
  developerToolsInstalled,
  findPythons,
  parseProbe,
  PROBE_ARGS,
  probePython,
  usable,
  type Probe,
  type PythonCandidate,
  type PythonSearch,
} from "../../src/python_finder";

/** The child_process module itself (`import * as` would give a copy): what src/ calls is replaced on it. */
const childProcess = createRequire(__filename)("child_process") as typeof import("child_process");

const HINT = pythonInstallHint(hostOs("linux", "ID=debian\n"));

/** A Python 3.11+ of this machine: the same one `make venv` uses. */
function realPython(): string {
  for (const p of [process.env.PYTHON, "/usr/bin/python3.11", "/usr/bin/python3", "/usr/local/bin/python3"]) {
    if (p !== undefined && fs.existsSync(p)) {
      return p;
    }
  }
  throw new Error("no Python 3.11+ found for the test: set PYTHON");
}

describe("probePython", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "python-finder-"));
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "python-finder-cwd-"));
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it("reads the version of a real Python", async () => {
    const p = await probePython({ path: realPython(), origin: "PATH" }, cwd);
    assert.ok(p.version !== undefined, p.problem);
    assert.ok(usable(p), describeProbe(p));
  });

  it("says how a program that is not a Python ended, and what it said", async () => {
    const fake = path.join(dir, "not-python");
    fs.writeFileSync(fake, "#!/bin/sh\necho 'this is not python' >&2\nexit 5\n", { mode: 0o755 });
    const p = await probePython({ path: fake, origin: "tunacode.server.python" }, cwd);
    assert.equal(p.version, undefined);
    assert.equal(p.problem, "not a Python that runs (exited with code 5: this is not python)");
    // Node is a real program that is not a Python: it refuses -I.
    const node = await probePython({ path: process.execPath, origin: "x" }, cwd);
    assert.match(node.problem ?? "", /^not a Python that runs \(exited with code \d+/);
  });

  it("says when the file cannot be run at all", async () => {
    const text = path.join(dir, "plain.txt");
    fs.writeFileSync(text, "hello\n", { mode: 0o644 });
    assert.match((await probePython({ path: text, origin: "x" }, cwd)).problem ?? "", /could not be started: EACCES/);
    assert.match((await probePython({ path: path.join(dir, "missing"), origin: "x" }, cwd)).problem ?? "", /could not be started: ENOENT/);
  });

  it("runs the candidate isolated (-I) in the directory it is given, not the editor's (issue 24)", async () => {
    assert.equal(PROBE_ARGS[0], "-I");
    // A fake Python that says where it ran and with what, then answers as a Python would.
    const record = path.join(dir, "probe-record");
    const fake = path.join(dir, "recording-python");
    fs.writeFileSync(
      fake,
      `#!/bin/sh\npwd -P > '${record}'\nfor a in "$@"; do printf '%s\\n' "$a" >> '${record}'; done\necho 'TUNACODE_PYTHON 3 12 1'\n`,
      { mode: 0o755 },
    );
    const workspace = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "python-finder-workspace-")));
    const editorCwd = process.cwd();
    process.chdir(workspace); // VS Code started from the repository
    try {
      const p = await probePython({ path: fake, origin: "PATH" }, cwd);
      assert.deepEqual(p.version, [3, 12, 1]);
    } finally {
      process.chdir(editorCwd);
      fs.rmSync(workspace, { recursive: true, force: true });
    }
    const [ranIn, ...args] = fs.readFileSync(record, "utf8").trimEnd().split("\n");
    assert.equal(ranIn, fs.realpathSync(cwd));
    assert.notEqual(ranIn, workspace);
    assert.equal(args[0], "-I");
    assert.deepEqual(args, [...PROBE_ARGS]);
  });

  it("gives up on a program that hangs", async () => {
    const hang = path.join(dir, "hang");
    fs.writeFileSync(hang, "#!/bin/sh\nexec sleep 30\n", { mode: 0o755 });
    assert.match((await probePython({ path: hang, origin: "x" }, cwd, 300)).problem ?? "", /did not answer within 0\.3 s/);
  });

  it("runs a launcher with its own arguments first (py -3 -I -c ...), and says so", async () => {
    // A fake `py` launcher: a Python 3 only when asked for one with -3, as the real one picks its newest Python 3.
    const py = path.join(dir, "py");
    fs.writeFileSync(py, `#!/bin/sh\n[ "$1" = "-3" ] && [ "$2" = "-I" ] && echo 'TUNACODE_PYTHON 3 13 0' && exit 0\nexit 9\n`, { mode: 0o755 });
    const p = await probePython({ path: py, args: ["-3"], origin: "PATH" }, cwd);
    assert.deepEqual(p.version, [3, 13, 0], p.problem);
    assert.equal(describeProbe(p), `${py} -3 (PATH): 3.13.0`);
    const found = bundledCandidate([p], false, "/ext/l.py", HINT).found;
    assert.deepEqual(found?.args, ["-3", "-I", "/ext/l.py"]);
    assert.match((await probePython({ path: py, origin: "PATH" }, cwd)).problem ?? "", /exited with code 9/);
  });

  it("spawns the probe hidden (no console window on Windows), with a deadline", async () => {
    const ran = mock.method(childProcess, "execFile");
    try {
      await probePython({ path: realPython(), origin: "PATH" }, cwd, 7000);
      assert.equal(ran.mock.callCount(), 1);
      const options = ran.mock.calls[0]?.arguments[2] as ExecFileOptions;
      assert.equal(options.windowsHide, true);
      assert.equal(options.timeout, 7000);
      assert.equal(options.cwd, cwd);
    } finally {
      ran.mock.restore();
    }
  });
});

describe("parseProbe and usable", () => {
  it("reads the marker line only", () => {
    assert.deepEqual(parseProbe("noise\nTUNACODE_PYTHON 3 12 1\n"), [3, 12, 1]);
    assert.equal(parseProbe("3 12 1"), undefined);
  });
  it("takes 3.11 and newer", () => {
    const probe = (version: [number, number, number]): Probe => ({ path: "/p", origin: "PATH", version });
    assert.ok(usable(probe([3, 11, 0])));
    assert.ok(usable(probe([3, 13, 2])));
    assert.ok(usable(probe([4, 0, 0])));
    assert.ok(!usable(probe([3, 10, 13])));
    assert.ok(!usable({ path: "/p", origin: "PATH", problem: "x" }));
  });
});

describe("bundledCandidate", () => {
  const old: Probe = { path: "/usr/bin/python3", origin: "PATH", version: [3, 9, 2] };
  const good: Probe = { path: "/opt/py/bin/python3.12", origin: "the login shell's PATH", version: [3, 12, 1] };
  const broken: Probe = { path: "/home/u/bin/py", origin: "tunacode.server.python", problem: "not a Python that runs (exited with code 5)" };

  it("runs the launcher in isolated mode with the first usable Python", () => {
    const c = bundledCandidate([old, good], false, "/ext/bundled/tool/tuna_lsp_main.py", HINT);
    assert.deepEqual(c.found, { command: good.path, args: ["-I", "/ext/bundled/tool/tuna_lsp_main.py"], source: "bundled" });
  });

  it("says what was found, versions and paths, and what to install", () => {
    const c = bundledCandidate([old], false, "/l", HINT);
    assert.equal(c.found, undefined);
    assert.equal(c.final, undefined, "later places are still tried");
    assert.equal(c.attempt.detail, "no Python 3.11+ to run it (found: /usr/bin/python3 (PATH): 3.9.2, too old)");
    assert.equal(c.hint, HINT);
    assert.match(bundledCandidate([], false, "/l", HINT).attempt.detail, /found: no python3 on PATH/);
  });

  it("stops at a tunacode.server.python that will not do, naming it", () => {
    const c = bundledCandidate([broken], true, "/l", HINT);
    assert.equal(c.final, true);
    assert.match(c.attempt.detail, /^tunacode\.server\.python names \/home\/u\/bin\/py, which is not a usable Python 3\.11\+/);
    assert.equal(
      c.attempt.detail,
      "tunacode.server.python names /home/u/bin/py, which is not a usable Python 3.11+: not a Python that runs (exited with code 5)",
    );
    assert.match(bundledCandidate([{ ...old, origin: "tunacode.server.python" }], true, "/l", HINT).attempt.detail, /: it is Python 3\.9\.2, too old$/);
  });
});

describe("developerToolsInstalled (xcode-select -p)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xcode-select-"));
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  function fakeXcodeSelect(name: string, body: string): string {
    const file = path.join(dir, name);
    fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return file;
  }

  it("is true when it succeeds, false when it fails, hangs past the deadline or is missing", async () => {
    const record = path.join(dir, "args");
    const ok = fakeXcodeSelect("ok", `printf '%s' "$*" > '${record}'; echo /Library/Developer/CommandLineTools`);
    assert.equal(await developerToolsInstalled(dir, 5000, ok), true);
    assert.equal(fs.readFileSync(record, "utf8"), "-p");
    const none = fakeXcodeSelect("none", "echo 'xcode-select: error: unable to get active developer directory' >&2; exit 2");
    assert.equal(await developerToolsInstalled(dir, 5000, none), false);
    const t0 = Date.now();
    assert.equal(await developerToolsInstalled(dir, 300, fakeXcodeSelect("hang", "exec sleep 30")), false);
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(await developerToolsInstalled(dir, 5000, path.join(dir, "missing")), false);
  });

  it("runs /usr/bin/xcode-select hidden, with its deadline", async () => {
    const ran = mock.method(childProcess, "execFile");
    try {
      await developerToolsInstalled(dir, 1234);
      const [program, args, options] = ran.mock.calls[0]?.arguments ?? [];
      assert.equal(program, "/usr/bin/xcode-select");
      assert.deepEqual(args, ["-p"]);
      assert.equal((options as ExecFileOptions).windowsHide, true);
      assert.equal((options as ExecFileOptions).timeout, 1234);
    } finally {
      ran.mock.restore();
    }
  });
});

/**
 * A machine for findPythons: the files that exist, each runnable file's version (or none: not a Python), and
 * records of what was run.
 */
interface Machine {
  search: PythonSearch;
  probed: PythonCandidate[];
  toolsAsked: () => number;
  loginAsked: () => number;
}

function machine(platform: NodeJS.Platform, over: Partial<PythonSearch> & { versions: Record<string, [number, number, number]> }): Machine {
  const probed: PythonCandidate[] = [];
  let toolsAsked = 0;
  let loginAsked = 0;
  const { versions, ...rest } = over;
  // Windows file names are case-insensitive: C:\Windows\py.exe is found as py.EXE (PATHEXT's spelling).
  const key = (file: string): string => (platform === "win32" ? file.toLowerCase() : file);
  const known = new Map(Object.entries(versions).map(([file, version]) => [key(file), version]));
  const search: PythonSearch = {
    pathEnv: platform === "win32" ? "C:\\Windows;C:\\Python312" : "/usr/local/bin:/usr/bin",
    pathExt: ".COM;.EXE;.BAT;.CMD",
    platform,
    home: platform === "win32" ? "C:\\Users\\u" : "/home/u",
    isExecutable: (file) => known.has(key(file)),
    setting: "",
    extensionInterpreter: () => Promise.resolve(undefined),
    loginPath: () => {
      loginAsked++;
      return Promise.resolve(undefined);
    },
    probe: (candidate) => {
      probed.push(candidate);
      const version = known.get(key(candidate.path));
      return Promise.resolve(version !== undefined ? { ...candidate, version } : { ...candidate, problem: "not a Python that runs" });
    },
    developerTools: () => {
      toolsAsked++;
      return Promise.resolve(true);
    },
    ...rest,
  };
  return {
    search,
    probed,
    toolsAsked: () => toolsAsked,
    loginAsked: () => loginAsked,
  };
}

describe("findPythons", () => {
  it("on Windows tries the py launcher (py -3) first, then python3 and python", async () => {
    const m = machine("win32", {
      versions: { "C:\\Windows\\py.exe": [3, 12, 4], "C:\\Python312\\python.exe": [3, 12, 4] },
    });
    const { probes } = await findPythons(m.search);
    assert.deepEqual(
      m.probed.map((c) => [c.path, c.args ?? []]),
      [["C:\\Windows\\py.EXE", ["-3"]]],
    );
    const found = bundledCandidate(probes, false, "C:\\ext\\l.py", HINT).found;
    assert.deepEqual(found, { command: "C:\\Windows\\py.EXE", args: ["-3", "-I", "C:\\ext\\l.py"], source: "bundled" });
  });

  it("on Windows goes on to python.exe (found through PATHEXT) when py -3 is missing or will not do", async () => {
    const m = machine("win32", { versions: { "C:\\Python312\\python.exe": [3, 12, 4] } });
    assert.deepEqual(
      (await findPythons(m.search)).probes.map((p) => p.path),
      ["C:\\Python312\\python.EXE"],
    );
    const old = machine("win32", {
      versions: { "C:\\Windows\\py.exe": [3, 9, 0], "C:\\Python312\\python.exe": [3, 12, 4] },
    });
    const { probes } = await findPythons(old.search);
    assert.deepEqual(
      probes.map(describeProbe),
      ["C:\\Windows\\py.EXE -3 (PATH): 3.9.0, too old", "C:\\Python312\\python.EXE (PATH): 3.12.4"],
    );
  });

  it("does not look for py elsewhere than on Windows", async () => {
    const m = machine("linux", { versions: { "/usr/bin/py": [3, 12, 0], "/usr/bin/python3": [3, 11, 2] } });
    await findPythons(m.search);
    assert.deepEqual(m.probed.map((c) => c.path), ["/usr/bin/python3"]);
    assert.equal(m.probed[0]?.args, undefined);
  });

  it("on macOS runs /usr/bin/python3 only when xcode-select -p succeeds", async () => {
    const withTools = machine("darwin", { versions: { "/usr/bin/python3": [3, 12, 0] } });
    const found = await findPythons(withTools.search);
    assert.equal(withTools.toolsAsked(), 1);
    assert.deepEqual(withTools.probed.map((c) => c.path), ["/usr/bin/python3"]);
    assert.ok(found.probes[0] !== undefined && usable(found.probes[0]));

    let asked = 0;
    const without = machine("darwin", {
      versions: { "/usr/bin/python3": [3, 12, 0] },
      developerTools: () => {
        asked++;
        return Promise.resolve(false);
      },
    });
    const { probes } = await findPythons(without.search);
    assert.equal(asked, 1);
    assert.deepEqual(without.probed, [], "the stub was run: it would have opened Apple's install dialog");
    assert.equal(probes.length, 1);
    assert.match(probes[0]?.problem ?? "", /^not run: Apple's Command Line Tools are not installed \(xcode-select -p failed\)/);
    assert.ok(!usable(probes[0] ?? { path: "", origin: "" }));
  });

  it("on macOS asks xcode-select at most once, and not at all when the stub is not a candidate", async () => {
    const brew = machine("darwin", { versions: { "/usr/local/bin/python3": [3, 12, 0], "/usr/bin/python3": [3, 9, 6] } });
    await findPythons(brew.search);
    assert.equal(brew.toolsAsked(), 0);
    const twice = machine("darwin", {
      versions: { "/usr/bin/python3": [3, 9, 6], "/usr/bin/../bin/python3": [3, 9, 6] },
      extensionInterpreter: () => Promise.resolve("/usr/bin/../bin/python3"),
    });
    await findPythons(twice.search);
    assert.deepEqual(twice.probed.map((c) => c.path), ["/usr/bin/../bin/python3", "/usr/bin/python3"]);
    assert.equal(twice.toolsAsked(), 1);
  });

  it("runs each command once, wherever it was found again", async () => {
    const m = machine("linux", {
      versions: { "/usr/bin/python3": [3, 9, 2] },
      extensionInterpreter: () => Promise.resolve("/usr/bin/python3"),
      loginPath: () => Promise.resolve("/usr/bin"),
    });
    const { probes } = await findPythons(m.search);
    assert.deepEqual(m.probed.map((c) => c.path), ["/usr/bin/python3"]);
    assert.deepEqual(probes.map(describeProbe), ["/usr/bin/python3 (the Python extension's interpreter): 3.9.2, too old"]);
  });

  it("runs /usr/bin/python3 without asking anything elsewhere than on macOS", async () => {
    const m = machine("linux", { versions: { "/usr/bin/python3": [3, 11, 2] } });
    await findPythons(m.search);
    assert.equal(m.toolsAsked(), 0);
    assert.deepEqual(m.probed.map((c) => c.path), ["/usr/bin/python3"]);
  });

  it("gates the setting's Python on macOS too, and takes only it", async () => {
    const m = machine("darwin", {
      versions: { "/usr/bin/python3": [3, 12, 0], "/usr/local/bin/python3": [3, 12, 0] },
      setting: "/usr/bin/python3",
      developerTools: () => Promise.resolve(false),
    });
    const found = await findPythons(m.search);
    assert.equal(found.fromSetting, true);
    assert.deepEqual(m.probed, []);
    assert.match(found.probes[0]?.problem ?? "", /xcode-select -p failed/);
  });

  it("reads the login shell only when the editor's PATH has no usable Python, and tries what it adds", async () => {
    const onPath = machine("linux", { versions: { "/usr/bin/python3": [3, 11, 2] } });
    await findPythons(onPath.search);
    assert.equal(onPath.loginAsked(), 0);
    const m = machine("linux", {
      versions: { "/usr/bin/python3": [3, 9, 2], "/home/u/.pyenv/shims/python3": [3, 12, 1] },
      loginPath: () => Promise.resolve("/home/u/.pyenv/shims:/usr/bin"),
    });
    const { probes } = await findPythons(m.search);
    assert.deepEqual(probes.map(describeProbe), [
      "/usr/bin/python3 (PATH): 3.9.2, too old",
      "/home/u/.pyenv/shims/python3 (the login shell's PATH): 3.12.1",
    ]);
  });
});
