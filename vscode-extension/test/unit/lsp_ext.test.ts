/**
 * src/lsp_ext.ts against what the real tuna-lsp sends: the server from the venv ($TUNA_LSP, else the repository's
 * .venv/bin/tuna-lsp) is started in a throwaway home, every tuna/* method is called, and every key of every answer
 * and notification must be a field of the TypeScript interface it is typed as; every required field of that
 * interface must be sent. A field added or renamed on one side only fails here.
 */
import * as assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

import * as ts from "typescript";
import * as rpc from "vscode-jsonrpc/node";

const EXT_DIR = path.resolve(__dirname, "..", "..", "..");
const REPO_ROOT = path.dirname(EXT_DIR);

interface Field {
  optional: boolean;
}

/** Interface name -> its fields (inherited ones included), read from the source of lsp_ext.ts. */
function interfacesOf(file: string): Map<string, Map<string, Field>> {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const own = new Map<string, { fields: Map<string, Field>; bases: string[] }>();
  const aliases = new Map<string, string>();
  for (const stmt of source.statements) {
    if (ts.isInterfaceDeclaration(stmt)) {
      const fields = new Map<string, Field>();
      for (const m of stmt.members) {
        if (ts.isPropertySignature(m)) {
          fields.set(m.name.getText(source), { optional: m.questionToken !== undefined });
        }
      }
      const bases = (stmt.heritageClauses ?? []).flatMap((h) => h.types.map((t) => t.expression.getText(source)));
      own.set(stmt.name.text, { fields, bases });
    } else if (ts.isTypeAliasDeclaration(stmt) && ts.isTypeReferenceNode(stmt.type)) {
      aliases.set(stmt.name.text, stmt.type.typeName.getText(source));
    }
  }
  const resolve = (name: string): Map<string, Field> => {
    const decl = own.get(aliases.get(name) ?? name);
    assert.ok(decl !== undefined, `lsp_ext.ts has no interface ${name}`);
    const all = new Map<string, Field>();
    for (const base of decl.bases) {
      for (const [k, v] of resolve(base)) {
        all.set(k, v);
      }
    }
    for (const [k, v] of decl.fields) {
      all.set(k, v);
    }
    return all;
  };
  const out = new Map<string, Map<string, Field>>();
  for (const name of [...own.keys(), ...aliases.keys()]) {
    out.set(name, resolve(name));
  }
  return out;
}

const IFACES = interfacesOf(path.join(EXT_DIR, "src", "lsp_ext.ts"));

/** Asserts that `value`'s keys and `iface`'s fields agree, both ways. */
function checkKeys(iface: string, value: unknown, where: string): void {
  const fields = IFACES.get(iface);
  assert.ok(fields !== undefined, `lsp_ext.ts has no interface ${iface}`);
  assert.ok(value !== null && typeof value === "object" && !Array.isArray(value), `${where} is not an object: ${JSON.stringify(value)}`);
  const keys = Object.keys(value);
  const unknown = keys.filter((k) => !fields.has(k));
  assert.deepEqual(unknown, [], `${where}: the server sends fields that ${iface} in lsp_ext.ts lacks`);
  const missing = [...fields].filter(([k, f]) => !f.optional && !keys.includes(k)).map(([k]) => k);
  assert.deepEqual(missing, [], `${where}: ${iface} in lsp_ext.ts requires fields the server does not send`);
}

function serverExecutable(): string {
  const exe = process.env.TUNA_LSP ?? path.join(REPO_ROOT, ".venv", "bin", "tuna-lsp");
  try {
    fs.accessSync(exe, fs.constants.X_OK);
  } catch {
    throw new Error(`tuna-lsp not found at ${exe}: run \`make venv\` at the repository root, or set TUNA_LSP`);
  }
  return exe;
}

function withDeadline<T>(what: string, p: Promise<T>, ms = 20_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${String(ms)} ms waiting for ${what}`));
    }, ms);
  });
  return Promise.race([p, deadline]).finally(() => {
    clearTimeout(timer);
  });
}

describe("lsp_ext.ts and the real tuna-lsp", { timeout: 60_000 }, () => {
  let dir: string;
  let proc: ChildProcess;
  let conn: rpc.MessageConnection;
  const notes = new Map<string, unknown[]>();
  let catalogChanged: Promise<unknown>;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "tuna-lsp-ext-"));
    const home = path.join(dir, "home");
    const ws = path.join(dir, "workspace");
    fs.mkdirSync(path.join(home, ".config"), { recursive: true });
    fs.mkdirSync(ws);
    fs.writeFileSync(
      path.join(home, ".config", "tunacode.json"),
      JSON.stringify({ default_model: "anthropic:claude-sonnet-4-20250514", env: { ANTHROPIC_API_KEY: "k" } }, null, 4),
      { mode: 0o600 },
    );
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, ".config"),
      XDG_STATE_HOME: path.join(home, ".local", "state"),
      XDG_CACHE_HOME: path.join(home, ".cache"),
      XDG_DATA_HOME: path.join(home, ".local", "share"),
    };
    delete env.TUNACODE_CONFIG;
    proc = spawn(serverExecutable(), [], { env, stdio: ["pipe", "pipe", "pipe"] });
    proc.stderr?.resume();
    if (proc.stdout === null || proc.stdin === null) {
      throw new Error("no stdio pipes to the server");
    }
    conn = rpc.createMessageConnection(new rpc.StreamMessageReader(proc.stdout), new rpc.StreamMessageWriter(proc.stdin));
    let sawCatalog: (v: unknown) => void = () => undefined;
    catalogChanged = new Promise((resolve) => {
      sawCatalog = resolve;
    });
    conn.onNotification((method, params) => {
      notes.set(method, [...(notes.get(method) ?? []), params]);
      if (method === "tuna/catalogChanged") {
        sawCatalog(params);
      }
    });
    conn.onRequest(() => null);
    conn.listen();
    const uri = `file://${ws}`;
    await withDeadline(
      "initialize",
      conn.sendRequest("initialize", {
        processId: process.pid,
        rootUri: uri,
        workspaceFolders: [{ uri, name: "workspace" }],
        capabilities: {},
        clientInfo: { name: "lsp_ext.test" },
        initializationOptions: { staleOverwrite: "ask" },
      }),
    );
    await conn.sendNotification("initialized", {});
  });

  after(async () => {
    try {
      await withDeadline("shutdown", conn.sendRequest("shutdown"), 5000);
      await conn.sendNotification("exit");
    } catch {
      // killed below
    }
    conn.dispose();
    proc.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("tuna/getModel answers a ModelState", async () => {
    checkKeys("ModelState", await withDeadline("tuna/getModel", conn.sendRequest("tuna/getModel", {})), "tuna/getModel");
  });

  it("tuna/modelChanged carries a ModelState", async () => {
    const first = await withDeadline("tuna/modelChanged", (async () => {
      for (;;) {
        const seen = notes.get("tuna/modelChanged");
        if (seen !== undefined && seen.length > 0) {
          return seen[0];
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })());
    checkKeys("ModelState", first, "tuna/modelChanged");
  });

  it("tuna/catalogChanged carries CatalogChangedParams with a CatalogDescription", async () => {
    const params = (await withDeadline("tuna/catalogChanged", catalogChanged)) as { catalog: unknown; state: unknown };
    checkKeys("CatalogChangedParams", params, "tuna/catalogChanged");
    checkKeys("ModelState", params.state, "tuna/catalogChanged state");
    checkKeys("CatalogDescription", params.catalog, "tuna/catalogChanged catalog");
    checkKeys("CatalogSource", (params.catalog as { sources: unknown[] }).sources[0], "catalog source");
  });

  it("tuna/setModel answers a SetModelResult", async () => {
    const r = await withDeadline("tuna/setModel", conn.sendRequest("tuna/setModel", { model: "openai:gpt-4.1", scope: "global" }));
    checkKeys("SetModelResult", r, "tuna/setModel");
    const s = await withDeadline("tuna/setModel session", conn.sendRequest("tuna/setModel", { model: "openai:gpt-4o", scope: "session" }));
    checkKeys("SetModelResult", s, "tuna/setModel session");
  });

  it("tuna/listModels answers ListModelsResult of ModelInfo (with cost and the catalog)", async () => {
    const r: { items: { cost: unknown }[]; catalog: unknown } = await withDeadline(
      "tuna/listModels",
      conn.sendRequest("tuna/listModels", { query: "gpt-4.1", limit: 5, offset: 0 }),
    );
    checkKeys("ListModelsResult", r, "tuna/listModels");
    assert.ok(r.items.length > 0, "tuna/listModels gave no items for gpt-4.1: the catalog did not load");
    for (const item of r.items) {
      checkKeys("ModelInfo", item, "tuna/listModels item");
    }
    const priced = r.items.find((i) => i.cost !== null);
    assert.ok(priced !== undefined, "no listed model has a cost");
    checkKeys("Cost", priced.cost, "ModelInfo.cost");
    checkKeys("CatalogDescription", r.catalog, "tuna/listModels catalog");
  });

  it("tuna/history answers HistoryEntry items", async () => {
    const r: { entries: unknown[] } = await withDeadline("tuna/history", conn.sendRequest("tuna/history", { limit: 5 }));
    checkKeys("HistoryResult", r, "tuna/history");
    assert.ok(r.entries.length > 0, "no history after a global set");
    for (const e of r.entries) {
      checkKeys("HistoryEntry", e, "tuna/history entry");
    }
  });

  it("tuna/setProviderPreference answers SetProviderPreferenceResult", async () => {
    const r = await withDeadline(
      "tuna/setProviderPreference",
      conn.sendRequest("tuna/setProviderPreference", { model: "gpt-4.1", providers: ["openai", "openrouter"] }),
    );
    checkKeys("SetProviderPreferenceResult", r, "tuna/setProviderPreference");
  });

  it("tuna/stats answers StatsResult", async () => {
    const r: { saveLatencyMs: unknown } = await withDeadline("tuna/stats", conn.sendRequest("tuna/stats", {}));
    checkKeys("StatsResult", r, "tuna/stats");
    checkKeys("SaveLatency", r.saveLatencyMs, "tuna/stats saveLatencyMs");
  });

  it("tuna/usage answers a Usage (after the global set above)", async () => {
    const r: {
      saves: { latencyMs: unknown };
      savesByDay?: unknown[];
      selections: unknown[];
      timeOnModel: unknown[];
      overwrites: unknown;
    } = await withDeadline("tuna/usage", conn.sendRequest("tuna/usage", { days: 30 }));
    checkKeys("Usage", r, "tuna/usage");
    checkKeys("UsageSaves", r.saves, "tuna/usage saves");
    checkKeys("UsageLatency", r.saves.latencyMs, "tuna/usage saves.latencyMs");
    checkKeys("UsageOverwrites", r.overwrites, "tuna/usage overwrites");
    assert.ok(r.savesByDay !== undefined && r.savesByDay.length > 0, "no savesByDay after a global set");
    checkKeys("UsageDay", r.savesByDay[0], "tuna/usage savesByDay");
    assert.ok(r.selections.length > 0, "no selections after a global set");
    checkKeys("UsageSelection", r.selections[0], "tuna/usage selection");
    assert.ok(r.timeOnModel.length > 0, "no time on a model");
    checkKeys("UsageTime", r.timeOnModel[0], "tuna/usage timeOnModel");
  });

  // PROTOCOL.md 3a and 9: answered by a server that has them; a server without them says MethodNotFound, and the
  // test says so (the interfaces are then checked by the ModelState fields above, where they are optional).
  for (const [method, params, iface] of [
    ["tuna/clearModel", { scope: "session" }, "ChangeResult"],
    ["tuna/restoreOverwrite", {}, "ChangeResult"],
  ] as const) {
    it(`${method} answers a ${iface} (when the server has it)`, async (t) => {
      try {
        checkKeys(iface, await withDeadline(method, conn.sendRequest(method, params)), method);
      } catch (error) {
        if (error instanceof rpc.ResponseError && error.code === rpc.ErrorCodes.MethodNotFound) {
          t.diagnostic(`${method}: this server does not have it yet (MethodNotFound)`);
          return;
        }
        if (error instanceof rpc.ResponseError) {
          // Nothing to restore is a clear error, not a shape to check.
          t.diagnostic(`${method}: ${error.message}`);
          return;
        }
        throw error;
      }
    });
  }
});
