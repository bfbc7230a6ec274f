import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DISCOVERY_ORDER, discoverServer, resolveProgram, sharedConfigPath, type Candidate, type DiscoveryInput } from "../../src/locations";

function input(files: string[], over: Partial<DiscoveryInput> = {}): DiscoveryInput {
  const set = new Set(files);
  return {
    settingCommand: [],
    bundled: undefined,
    pathEnv: "/usr/local/bin:/usr/bin",
    platform: "linux",
    home: "/home/u",
    isExecutable: (f) => set.has(f),
    cloneRoot: "/home/u/src/tunacode-lsp",
    trusted: true,
    unsafeReason: () => undefined,
    loginPathEnv: undefined,
    ...over,
  };
}

const CLONE_SERVER = "/home/u/src/tunacode-lsp/.venv/bin/tuna-lsp";
const BUNDLED: Candidate = {
  found: { command: "/usr/bin/python3", args: ["/ext/bundled/tool/server.py"], source: "bundled" },
  attempt: { place: "bundled server", detail: "/usr/bin/python3 (3.11.2)" },
};

describe("discoverServer", () => {
  it("takes the setting first, resolving a bare name on PATH and keeping its arguments", () => {
    const d = discoverServer(
      input(["/usr/bin/tuna-lsp", "/opt/x/tuna-lsp"], { settingCommand: ["/opt/x/tuna-lsp", "--log-level", "DEBUG"], bundled: BUNDLED }),
    );
    assert.deepEqual(d.found, { command: "/opt/x/tuna-lsp", args: ["--log-level", "DEBUG"], source: "setting" });
    const bare = discoverServer(input(["/usr/bin/tuna-lsp"], { settingCommand: ["tuna-lsp"] }));
    assert.equal(bare.found?.command, "/usr/bin/tuna-lsp");
  });

  it("does not fall back when the setting names a missing program: the typo must show", () => {
    const d = discoverServer(input(["/usr/bin/tuna-lsp"], { settingCommand: ["/nope/tuna-lsp"], bundled: BUNDLED }));
    assert.equal(d.found, undefined);
    assert.match(d.reason, /tunacode\.server\.command.*\/nope\/tuna-lsp/);
    assert.deepEqual(
      d.tried.map((t) => t.place),
      ["tunacode.server.command"],
    );
  });

  it("rejects a relative path in the setting (it would depend on the editor's working directory)", () => {
    const d = discoverServer(input(["venv/bin/tuna-lsp"], { settingCommand: ["venv/bin/tuna-lsp"] }));
    assert.equal(d.found, undefined);
  });

  it("expands ~ in the setting", () => {
    const d = discoverServer(input(["/home/u/.local/bin/tuna-lsp"], { settingCommand: ["~/.local/bin/tuna-lsp"] }));
    assert.equal(d.found?.command, "/home/u/.local/bin/tuna-lsp");
  });

  it("then the bundled server, before the clone's .venv and PATH", () => {
    const d = discoverServer(input([CLONE_SERVER, "/usr/bin/tuna-lsp"], { bundled: BUNDLED }));
    assert.deepEqual(d.found, BUNDLED.found);
  });

  it("then the .venv of the exact clone the extension was built from, before PATH", () => {
    const d = discoverServer(input([CLONE_SERVER, "/usr/bin/tuna-lsp"]));
    assert.deepEqual(d.found, { command: CLONE_SERVER, args: [], source: "clone-venv" });
  });

  it("skips a development build's clone in an untrusted window (issue 24): PATH is next", () => {
    const d = discoverServer(input([CLONE_SERVER, "/usr/bin/tuna-lsp"], { trusted: false }));
    assert.deepEqual(d.found, { command: "/usr/bin/tuna-lsp", args: [], source: "path" });
    const none = discoverServer(input([CLONE_SERVER], { trusted: false }));
    assert.equal(none.found, undefined);
    assert.deepEqual(none.tried.map((t) => t.place), [...DISCOVERY_ORDER]);
    assert.equal(
      none.tried.find((t) => t.place === "the clone's .venv")?.detail,
      "/home/u/src/tunacode-lsp: not used in an untrusted window (a development build's clone runs only in trusted ones)",
    );
  });

  it("then PATH, in PATH order, skipping empty and relative entries", () => {
    const d = discoverServer(
      input(["/b/tuna-lsp", "/a/tuna-lsp", "rel/tuna-lsp"], { pathEnv: "rel::/a:/b" }),
    );
    assert.deepEqual(d.found, { command: "/a/tuna-lsp", args: [], source: "path" });
  });

  it("then the login shell's PATH, which an editor started from a desktop launcher does not have", () => {
    const d = discoverServer(input(["/home/u/.local/bin/tuna-lsp"], { pathEnv: "/usr/bin", loginPathEnv: "/home/u/.local/bin:/usr/bin" }));
    assert.deepEqual(d.found, { command: "/home/u/.local/bin/tuna-lsp", args: [], source: "login-path" });
    const none = discoverServer(input([], { pathEnv: "/usr/bin", loginPathEnv: "/home/u/.local/bin:/usr/bin" }));
    assert.match(none.tried.at(-1)?.detail ?? "", /nor on the login shell's PATH \(\/home\/u\/\.local\/bin:\/usr\/bin\)/);
  });

  it("never runs a workspace's .venv: a cloned repository must not choose what runs", () => {
    const d = discoverServer(input(["/home/me/proj/.venv/bin/tuna-lsp"]));
    assert.equal(d.found, undefined);
  });

  it("never walks up from the extension or the clone: ~/.venv, /home/.venv and /.venv are not run", () => {
    const planted = ["/home/u/.venv/bin/tuna-lsp", "/home/.venv/bin/tuna-lsp", "/.venv/bin/tuna-lsp", "/home/u/src/.venv/bin/tuna-lsp"];
    const d = discoverServer(input(planted));
    assert.equal(d.found, undefined);
    const none = discoverServer(input(planted, { cloneRoot: undefined }));
    assert.equal(none.found, undefined);
    assert.match(none.tried.find((t) => t.place === "the clone's .venv")?.detail ?? "", /not built from a clone/);
  });

  it("does not run the clone's server when another user could have put it there", () => {
    const d = discoverServer(
      input([CLONE_SERVER], {
        unsafeReason: (f) => (f.startsWith("/home/u/src") ? "/home/u/src is writable by every user" : undefined),
      }),
    );
    assert.equal(d.found, undefined);
    assert.match(d.tried.find((t) => t.place === "the clone's .venv")?.detail ?? "", /not run, \/home\/u\/src is writable by every user/);
  });

  it("says every place it looked when nothing is found, in the documented order", () => {
    const d = discoverServer(input([]));
    assert.equal(d.found, undefined);
    assert.equal(d.reason, "tuna-lsp was not found");
    assert.deepEqual(d.tried.map((t) => t.place), [...DISCOVERY_ORDER]);
    assert.match(d.tried[1]?.detail ?? "", /carries none/);
  });

  it("uses Scripts\\tuna-lsp.exe and PATHEXT on Windows", () => {
    const d = discoverServer(
      input(["C:\\tools\\tuna-lsp.EXE"], { platform: "win32", pathEnv: "C:\\tools", pathExt: ".EXE", home: "C:\\Users\\u" }),
    );
    assert.equal(d.found?.command, "C:\\tools\\tuna-lsp.EXE");
    const venv = discoverServer(
      input(["C:\\src\\tunacode-lsp\\.venv\\Scripts\\tuna-lsp.exe"], { platform: "win32", pathEnv: "", cloneRoot: "C:\\src\\tunacode-lsp" }),
    );
    assert.equal(venv.found?.source, "clone-venv");
    assert.equal(venv.found.command, "C:\\src\\tunacode-lsp\\.venv\\Scripts\\tuna-lsp.exe");
  });

  it("finds a Windows venv's server however it was installed: Scripts\\ with PATHEXT, or bin\\ (MSYS2)", () => {
    const win = { platform: "win32" as const, pathEnv: "", pathExt: ".COM;.EXE;.BAT;.CMD", cloneRoot: "C:\\src\\tunacode-lsp" };
    const cmd = discoverServer(input(["C:\\src\\tunacode-lsp\\.venv\\Scripts\\tuna-lsp.cmd"], win));
    assert.equal(cmd.found?.command, "C:\\src\\tunacode-lsp\\.venv\\Scripts\\tuna-lsp.cmd");
    const msys = discoverServer(input(["C:\\src\\tunacode-lsp\\.venv\\bin\\tuna-lsp.exe"], win));
    assert.equal(msys.found?.command, "C:\\src\\tunacode-lsp\\.venv\\bin\\tuna-lsp.exe");
    const none = discoverServer(input(["C:\\src\\tunacode-lsp\\.venv\\Scripts\\tuna-lsp"], win));
    assert.equal(none.found, undefined, "a name without an extension does not run on Windows");
    assert.match(none.tried.find((t) => t.place === "the clone's .venv")?.detail ?? "", /Scripts\\tuna-lsp\.exe: not found/);
  });
});

describe("resolveProgram", () => {
  it("returns undefined for an empty name", () => {
    assert.equal(resolveProgram("  ", input([])), undefined);
  });
});

describe("sharedConfigPath", () => {
  it("prefers the setting, then TUNACODE_CONFIG, then ~/.config/tunacode.json", () => {
    assert.equal(sharedConfigPath("/x/t.json", "/env/t.json", "/home/u", "linux"), "/x/t.json");
    assert.equal(sharedConfigPath("", "/env/t.json", "/home/u", "linux"), "/env/t.json");
    assert.equal(sharedConfigPath("  ", undefined, "/home/u", "linux"), "/home/u/.config/tunacode.json");
    assert.equal(sharedConfigPath("~/cfg.json", undefined, "/home/u", "linux"), "/home/u/cfg.json");
  });
});
