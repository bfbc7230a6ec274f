import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";

import { bundledCandidate, describeProbe, parseProbe, PROBE_ARGS, probePython, usable, type Probe } from "../../src/python_finder";

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
    const c = bundledCandidate([old, good], false, "/ext/bundled/tool/tuna_lsp_main.py");
    assert.deepEqual(c.found, { command: good.path, args: ["-I", "/ext/bundled/tool/tuna_lsp_main.py"], source: "bundled" });
  });

  it("says what was found, versions and paths, and what to install", () => {
    const c = bundledCandidate([old], false, "/l");
    assert.equal(c.found, undefined);
    assert.equal(c.final, undefined, "later places are still tried");
    assert.equal(c.attempt.detail, "no Python 3.11+ to run it (found: /usr/bin/python3 (PATH): 3.9.2, too old)");
    assert.match(c.hint ?? "", /Install Python 3\.11 or newer/);
    assert.match(bundledCandidate([], false, "/l").attempt.detail, /found: no python3 on PATH/);
  });

  it("stops at a tunacode.server.python that will not do, naming it", () => {
    const c = bundledCandidate([broken], true, "/l");
    assert.equal(c.final, true);
    assert.match(c.attempt.detail, /^tunacode\.server\.python names \/home\/u\/bin\/py, which is not a usable Python 3\.11\+/);
    assert.equal(
      c.attempt.detail,
      "tunacode.server.python names /home/u/bin/py, which is not a usable Python 3.11+: not a Python that runs (exited with code 5)",
    );
    assert.match(bundledCandidate([{ ...old, origin: "tunacode.server.python" }], true, "/l").attempt.detail, /: it is Python 3\.9\.2, too old$/);
  });
});
