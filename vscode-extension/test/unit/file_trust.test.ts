import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";

import { unsafeReason } from "../../src/file_trust";

describe("unsafeReason", () => {
  // The compiled tests' own folder: the user's (and in a clone under /tmp, below a root-owned sticky folder).
  const base = fs.mkdtempSync(path.join(__dirname, "trust-"));
  after(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });
  const uid = process.getuid?.() ?? 0;

  function program(dirMode: number): string {
    const dir = fs.mkdtempSync(path.join(base, "d-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const file = path.join(bin, "tuna-lsp");
    fs.writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
    fs.chmodSync(dir, dirMode);
    return file;
  }

  it("names a folder on the way that every user can write", () => {
    const file = program(0o777);
    const ancestorsSafe = unsafeReason(path.dirname(base), uid, "linux");
    assert.equal(ancestorsSafe, undefined, `the test needs a safe folder to work in: ${String(ancestorsSafe)}`);
    assert.match(unsafeReason(file, uid, "linux") ?? "", /is writable by every user/);
  });

  it("names a program its group can write", () => {
    const file = program(0o755);
    fs.chmodSync(file, 0o775);
    assert.match(unsafeReason(file, uid, "linux") ?? "", /tuna-lsp is writable by its group/);
  });

  it("names a program that belongs to another user", () => {
    const file = program(0o755);
    // Seen as another user: the files belong to `uid`, the check runs for uid + 1.
    const other = uid === 0 ? 12345 : uid + 1;
    assert.equal(unsafeReason(file, other, "linux"), uid === 0 ? undefined : `${fs.realpathSync(file)} belongs to another user (uid ${String(uid)})`);
  });

  it("accepts a program the user owns in folders only the user writes", () => {
    assert.equal(unsafeReason(program(0o755), uid, "linux"), undefined);
  });

  it("follows a symlink and checks where it leads", () => {
    const target = program(0o777);
    const link = path.join(program(0o755), "..", "link");
    fs.symlinkSync(target, link);
    assert.match(unsafeReason(link, uid, "linux") ?? "", /writable by every user/);
  });

  it("accepts a root-owned sticky folder such as /tmp on the way, not a plain world-writable one", () => {
    const tmp = fs.realpathSync(os.tmpdir());
    const st = fs.statSync(tmp);
    assert.ok(st.uid === 0 && (st.mode & 0o1000) !== 0, `${tmp} is expected to be root's and sticky (mode ${st.mode.toString(8)})`);
    const dir = fs.mkdtempSync(path.join(tmp, "tuna-trust-"));
    try {
      const file = path.join(dir, "tuna-lsp");
      fs.writeFileSync(file, "#!/bin/sh\n", { mode: 0o755 });
      fs.chmodSync(dir, 0o755);
      assert.equal(unsafeReason(file, uid, "linux"), undefined);
      fs.chmodSync(dir, 0o777); // the user's own folder, writable by all: not sticky, not root's
      assert.match(unsafeReason(file, uid, "linux") ?? "", /is writable by every user/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says when the file cannot be resolved", () => {
    assert.match(unsafeReason(path.join(base, "missing"), uid, "linux") ?? "", /cannot be resolved/);
  });
});
