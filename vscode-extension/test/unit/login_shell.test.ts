import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";

import { loginShellPath } from "../../src/login_shell";

describe("loginShellPath", () => {
  it("reads the PATH a login shell's profile builds, ignoring what the profile prints", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "login-shell-"));
    try {
      fs.writeFileSync(path.join(home, ".profile"), 'echo "welcome back"\nexport PATH="/opt/from-profile/bin:$PATH"\n');
      const value = await loginShellPath("/bin/sh", { HOME: home, PATH: "/usr/bin:/bin" });
      assert.ok(value !== undefined, "no PATH read from /bin/sh -l");
      assert.match(value, /^\/opt\/from-profile\/bin:/);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it("gives up on a profile that hangs, within the deadline", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "login-shell-"));
    try {
      fs.writeFileSync(path.join(home, ".profile"), "sleep 30\n");
      const t0 = Date.now();
      assert.equal(await loginShellPath("/bin/sh", { HOME: home, PATH: "/usr/bin:/bin" }, 500), undefined);
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it("is undefined without a shell, or with one that does not exist", async () => {
    assert.equal(await loginShellPath(undefined, {}), undefined);
    assert.equal(await loginShellPath("/nonexistent/shell", {}), undefined);
  });
});
