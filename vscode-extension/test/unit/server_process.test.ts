import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { lastLine, ServerProcess } from "../../src/server_process";

describe("lastLine", () => {
  it("takes the last non-empty line and shortens it", () => {
    assert.equal(lastLine("Traceback:\n  x\nModuleNotFoundError: No module named 'pygls'\n\n"), "ModuleNotFoundError: No module named 'pygls'");
    assert.equal(lastLine(" \n"), undefined);
    assert.equal(lastLine("x".repeat(400))?.length, 300);
  });
});

describe("ServerProcess", () => {
  it("says how a process that dies at once ended, and what it said", async () => {
    const server = new ServerProcess("/bin/sh", ["-c", "echo starting >&2; echo 'boom: broken install' >&2; exit 3"], process.env);
    const child = await server.spawn();
    assert.ok(child.pid !== undefined);
    await server.waitForExit(10_000);
    assert.equal(server.exit, "exited with code 3");
    assert.equal(server.lastStderrLine(), "boom: broken install");
  });

  it("rejects when the program cannot be spawned", async () => {
    const server = new ServerProcess("/nonexistent/tuna-lsp", [], process.env);
    await assert.rejects(server.spawn(), /ENOENT/);
  });

  it("kills a process that outlives its client", async () => {
    const server = new ServerProcess("/bin/sh", ["-c", "exec sleep 30"], process.env);
    await server.spawn();
    assert.equal(server.exit, undefined);
    server.kill();
    await server.waitForExit(10_000);
    assert.equal(server.exit, "was killed by SIGTERM");
  });
});
