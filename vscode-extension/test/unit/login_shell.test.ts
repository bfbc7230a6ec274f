import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { SpawnOptions } from "node:child_process";
import { createRequire } from "node:module";
import { describe, it, mock } from "node:test";

import { loginShellArgs, loginShellPath, parseMarkedPath, pathMarkers, printPathCommand } from "../../src/login_shell";

/** The child_process module itself (`import * as` would give a copy): what src/ calls is replaced on it. */
const childProcess = createRequire(__filename)("child_process") as typeof import("child_process");

const LINUX = { platform: "linux" } as const;

/** A home whose shell start-up files print noise (some without a newline) and each add a folder to PATH. */
function noisyHome(): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "login-shell-"));
  // Read by a login shell only (-l). ENV names the file an interactive sh reads (-i), as ~/.bashrc or ~/.zshrc.
  fs.writeFileSync(
    path.join(home, ".profile"),
    'echo "welcome back"\nprintf "no newline after this"\nexport PATH="/opt/from-profile/bin:$PATH"\nexport ENV="$HOME/.shrc"\n',
  );
  fs.writeFileSync(
    path.join(home, ".shrc"),
    'printf "\\033]0;title\\007rc noise; PATH=/fake/bin "\nexport PATH="/opt/from-rc/bin:$PATH"\n',
  );
  return home;
}

describe("loginShellPath", () => {
  it("reads the PATH an interactive login shell builds (profile and rc file), whatever they print around it", async () => {
    const home = noisyHome();
    try {
      const value = await loginShellPath("/bin/sh", { HOME: home, PATH: "/usr/bin:/bin" }, LINUX);
      assert.ok(value !== undefined, "no PATH read from /bin/sh -i -l");
      // The rc file ran (-i) after the profile (-l): its folder comes first, then the profile's.
      assert.match(value, /^\/opt\/from-rc\/bin:\/opt\/from-profile\/bin:/);
      assert.doesNotMatch(value, /noise|welcome|fake/);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it("runs the shell with -i -l, hidden, detached, in the folder it is given", async () => {
    const home = noisyHome();
    const spawned = mock.method(childProcess, "spawn");
    try {
      await loginShellPath("/bin/sh", { HOME: home, PATH: "/usr/bin:/bin" }, { ...LINUX, cwd: home });
      assert.equal(spawned.mock.callCount(), 1);
      const [shell, args, options] = spawned.mock.calls[0]?.arguments ?? [];
      assert.equal(shell, "/bin/sh");
      assert.deepEqual((args as string[]).slice(0, 3), ["-i", "-l", "-c"]);
      const opts = options as SpawnOptions;
      assert.equal(opts.windowsHide, true);
      assert.equal(opts.detached, true);
      assert.equal(opts.cwd, home);
    } finally {
      spawned.mock.restore();
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it("gives up on a profile that hangs, within the deadline", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "login-shell-"));
    try {
      fs.writeFileSync(path.join(home, ".profile"), "sleep 30\n");
      const t0 = Date.now();
      assert.equal(await loginShellPath("/bin/sh", { HOME: home, PATH: "/usr/bin:/bin" }, { ...LINUX, timeoutMs: 500 }), undefined);
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });

  it("is undefined without a shell, with one that does not exist, and on Windows (no shell is run)", async () => {
    assert.equal(await loginShellPath(undefined, {}, LINUX), undefined);
    assert.equal(await loginShellPath("/nonexistent/shell", {}, LINUX), undefined);
    const spawned = mock.method(childProcess, "spawn");
    try {
      assert.equal(await loginShellPath("/bin/sh", { PATH: "/usr/bin:/bin" }, { platform: "win32" }), undefined);
      assert.equal(spawned.mock.callCount(), 0);
      assert.notEqual(await loginShellPath("/bin/sh", { PATH: "/usr/bin:/bin" }, { platform: "darwin" }), undefined);
    } finally {
      spawned.mock.restore();
    }
  });
});

describe("parseMarkedPath", () => {
  const markers = pathMarkers("0123abcd");

  it("takes what is between the markers, however noisy the output around and before them", () => {
    const out = `Last login: Mon\n\u001b]0;title\u0007fortune says hi${markers.begin}/a/bin:/b/bin${markers.end}\ngoodbye\n`;
    assert.equal(parseMarkedPath(out, markers), "/a/bin:/b/bin");
  });

  it("ignores a PATH printed by the rc files, and markers of another run", () => {
    const other = pathMarkers("ffffffff");
    const out = `PATH=/fake/bin\n${other.begin}/other/bin${other.end}\n${markers.begin}/real/bin${markers.end}\n`;
    assert.equal(parseMarkedPath(out, markers), "/real/bin");
  });

  it("is undefined without both markers, or with nothing between them", () => {
    assert.equal(parseMarkedPath("/usr/bin:/bin\n", markers), undefined);
    assert.equal(parseMarkedPath(`${markers.begin}/usr/bin`, markers), undefined);
    assert.equal(parseMarkedPath(`${markers.begin}${markers.end}`, markers), undefined);
  });

  it("markers differ at each run, and the command prints PATH between them", () => {
    assert.notEqual(pathMarkers().begin, pathMarkers().begin);
    const command = printPathCommand(markers);
    assert.deepEqual(loginShellArgs(command), ["-i", "-l", "-c", command]);
    const out = childProcess.execFileSync("/bin/sh", ["-c", command], { env: { PATH: "/x/bin:/usr/bin:/bin" } }).toString();
    assert.equal(parseMarkedPath(`noise${out}`, markers), "/x/bin:/usr/bin:/bin");
  });
});
