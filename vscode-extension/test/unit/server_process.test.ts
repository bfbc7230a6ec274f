import * as assert from "node:assert/strict";
import { execFileSync, type SpawnOptions } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRequire } from "node:module";
import { after, describe, it, mock } from "node:test";

import { lastLine, ServerProcess } from "../../src/server_process";
import { childWorkDir } from "../../src/work_dir";

/** The child_process module itself (`import * as` would give a copy): what src/ calls is replaced on it. */
const childProcess = createRequire(__filename)("child_process") as typeof import("child_process");

/** A Python 3 of this machine. */
function python(): string {
  for (const p of [process.env.PYTHON, "/usr/bin/python3", "/usr/local/bin/python3"]) {
    if (p !== undefined && fs.existsSync(p)) {
      return p;
    }
  }
  throw new Error("no Python 3 found for the test: set PYTHON");
}

describe("lastLine", () => {
  it("takes the last non-empty line and shortens it", () => {
    assert.equal(lastLine("Traceback:\n  x\nModuleNotFoundError: No module named 'pygls'\n\n"), "ModuleNotFoundError: No module named 'pygls'");
    assert.equal(lastLine(" \n"), undefined);
    assert.equal(lastLine("x".repeat(400))?.length, 300);
  });
});

describe("ServerProcess", () => {
  it("says how a process that dies at once ended, and what it said", async () => {
    const server = new ServerProcess("/bin/sh", ["-c", "echo starting >&2; echo 'boom: broken install' >&2; exit 3"], process.env, os.tmpdir());
    const child = await server.spawn();
    assert.ok(child.pid !== undefined);
    await server.waitForExit(10_000);
    assert.equal(server.exit, "exited with code 3");
    assert.equal(server.lastStderrLine(), "boom: broken install");
  });

  it("spawns the server hidden (no console window on Windows), over pipes, in its own folder", async () => {
    const spawned = mock.method(childProcess, "spawn");
    try {
      const server = new ServerProcess("/bin/sh", ["-c", "exit 0"], process.env, os.tmpdir());
      await server.spawn();
      await server.waitForExit(10_000);
      assert.equal(spawned.mock.callCount(), 1);
      const options = spawned.mock.calls[0]?.arguments[2] as SpawnOptions;
      assert.equal(options.windowsHide, true);
      assert.equal(options.stdio, "pipe");
      assert.equal(options.cwd, os.tmpdir());
      assert.equal(server.exit, "exited with code 0");
    } finally {
      spawned.mock.restore();
    }
  });

  it("rejects when the program cannot be spawned", async () => {
    const server = new ServerProcess("/nonexistent/tuna-lsp", [], process.env, os.tmpdir());
    await assert.rejects(server.spawn(), /ENOENT/);
  });

  it("kills a process that outlives its client", async () => {
    const server = new ServerProcess("/bin/sh", ["-c", "exec sleep 30"], process.env, os.tmpdir());
    await server.spawn();
    assert.equal(server.exit, undefined);
    server.kill();
    await server.waitForExit(10_000);
    assert.equal(server.exit, "was killed by SIGTERM");
  });

  describe("started from a repository that plants json.py (issue 24)", () => {
    const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "server-cwd-")));
    const workspace = path.join(root, "repo");
    const storage = path.join(root, "globalStorage", "tunacode.tunacode");
    const marker = path.join(root, "planted-json-ran");
    fs.mkdirSync(workspace);
    // What a cloned repository can hold: a module named like one of the standard library's, run on import.
    fs.writeFileSync(path.join(workspace, "json.py"), `open(${JSON.stringify(marker)}, "w").write("ran")\n`);
    after(() => {
      fs.rmSync(root, { recursive: true, force: true });
    });

    /** Spawns `python -c 'import json'` (`-c`, like `-m`, puts the working directory first on the import path). */
    async function runFrom(editorCwd: string, server: ServerProcess): Promise<void> {
      const before = process.cwd();
      process.chdir(editorCwd); // VS Code's own working directory: the folder `code` was started from
      try {
        await server.spawn();
      } finally {
        process.chdir(before);
      }
      await server.waitForExit(20_000);
      assert.equal(server.exit, "exited with code 0", server.lastStderrLine());
    }

    it("runs the server in the extension's own folder, so the workspace's json.py is not imported", async () => {
      const cwd = childWorkDir(storage, [workspace]);
      const server = new ServerProcess(python(), ["-c", "import json, os; print(os.getcwd())"], process.env, cwd);
      await runFrom(workspace, server);
      assert.ok(!fs.existsSync(marker), "the workspace's json.py ran");
      assert.equal(server.spawnOptions().cwd, storage);
      assert.notEqual(server.spawnOptions().cwd, workspace);
    });

    it("(the planted json.py does run when the workspace is the working directory: the test can see it)", () => {
      execFileSync(python(), ["-c", "import json"], { cwd: workspace });
      assert.ok(fs.existsSync(marker));
      fs.rmSync(marker);
    });
  });
});
