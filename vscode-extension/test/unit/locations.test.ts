import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { discoverServer, resolveProgram, sharedConfigPath, type DiscoveryInput } from "../../src/locations";

function input(files: string[], over: Partial<DiscoveryInput> = {}): DiscoveryInput {
  const set = new Set(files);
  return {
    settingCommand: [],
    pathEnv: "/usr/local/bin:/usr/bin",
    platform: "linux",
    home: "/home/u",
    isExecutable: (f) => set.has(f),
    workspaceFolders: ["/home/me/proj"],
    trusted: true,
    cloneRoot: "/home/u/src/tunacode-lsp",
    unsafeReason: () => undefined,
    ...over,
  };
}

describe("discoverServer", () => {
  it("takes the setting first, resolving a bare name on PATH and keeping its arguments", () => {
    const d = discoverServer(
      input(["/usr/bin/tuna-lsp", "/opt/x/tuna-lsp"], { settingCommand: ["/opt/x/tuna-lsp", "--log-level", "DEBUG"] }),
    );
    assert.deepEqual(d.found, { command: "/opt/x/tuna-lsp", args: ["--log-level", "DEBUG"], source: "setting" });
    const bare = discoverServer(input(["/usr/bin/tuna-lsp"], { settingCommand: ["tuna-lsp"] }));
    assert.equal(bare.found?.command, "/usr/bin/tuna-lsp");
  });

  it("does not fall back when the setting names a missing program: the typo must show", () => {
    const d = discoverServer(input(["/usr/bin/tuna-lsp"], { settingCommand: ["/nope/tuna-lsp"] }));
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

  it("then PATH, in PATH order, skipping empty and relative entries", () => {
    const d = discoverServer(
      input(["/b/tuna-lsp", "/a/tuna-lsp", "rel/tuna-lsp"], { pathEnv: "rel::/a:/b" }),
    );
    assert.deepEqual(d.found, { command: "/a/tuna-lsp", args: [], source: "path" });
  });

  it("then a trusted workspace folder's .venv", () => {
    const d = discoverServer(input(["/home/me/proj/.venv/bin/tuna-lsp"]));
    assert.deepEqual(d.found, { command: "/home/me/proj/.venv/bin/tuna-lsp", args: [], source: "workspace-venv" });
  });

  it("never runs an untrusted workspace's .venv", () => {
    const d = discoverServer(input(["/home/me/proj/.venv/bin/tuna-lsp"], { trusted: false }));
    assert.equal(d.found, undefined);
    assert.ok(d.tried.some((t) => /not trusted/.test(t.detail)));
  });

  it("then the .venv of the exact clone the extension was built from", () => {
    const d = discoverServer(input(["/home/u/src/tunacode-lsp/.venv/bin/tuna-lsp"]));
    assert.deepEqual(d.found, {
      command: "/home/u/src/tunacode-lsp/.venv/bin/tuna-lsp",
      args: [],
      source: "clone-venv",
    });
  });

  it("never walks up from the extension or the clone: ~/.venv, /home/.venv and /.venv are not run", () => {
    const planted = ["/home/u/.venv/bin/tuna-lsp", "/home/.venv/bin/tuna-lsp", "/.venv/bin/tuna-lsp", "/home/u/src/.venv/bin/tuna-lsp"];
    const d = discoverServer(input(planted));
    assert.equal(d.found, undefined);
    const none = discoverServer(input(planted, { cloneRoot: undefined }));
    assert.equal(none.found, undefined);
    assert.match(none.tried.at(-1)?.detail ?? "", /not built from a clone/);
  });

  it("does not run the clone's server when another user could have put it there", () => {
    const d = discoverServer(
      input(["/home/u/src/tunacode-lsp/.venv/bin/tuna-lsp"], {
        unsafeReason: (f) => (f.startsWith("/home/u/src") ? "/home/u/src is writable by every user" : undefined),
      }),
    );
    assert.equal(d.found, undefined);
    assert.match(d.tried.at(-1)?.detail ?? "", /not run, \/home\/u\/src is writable by every user/);
  });

  it("says every place it looked when nothing is found", () => {
    const d = discoverServer(input([]));
    assert.equal(d.found, undefined);
    assert.equal(d.reason, "tuna-lsp was not found");
    assert.deepEqual(
      d.tried.map((t) => t.place),
      ["tunacode.server.command", "PATH", "workspace .venv", "the clone's .venv"],
    );
  });

  it("uses Scripts\\tuna-lsp.exe and PATHEXT on Windows", () => {
    const d = discoverServer(
      input(["C:\\tools\\tuna-lsp.EXE"], { platform: "win32", pathEnv: "C:\\tools", pathExt: ".EXE", home: "C:\\Users\\u" }),
    );
    assert.equal(d.found?.command, "C:\\tools\\tuna-lsp.EXE");
    const venv = discoverServer(
      input(["C:\\proj\\.venv\\Scripts\\tuna-lsp.exe"], {
        platform: "win32",
        pathEnv: "",
        workspaceFolders: ["C:\\proj"],
        cloneRoot: undefined,
      }),
    );
    assert.equal(venv.found?.source, "workspace-venv");
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
