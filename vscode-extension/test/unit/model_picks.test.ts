import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { HistoryEntry, ModelInfo, ModelState } from "../../src/lsp_ext";
import {
  buildHistoryRows,
  buildModelRows,
  clearChoices,
  pickerText,
  formatTimestamp,
  listedTitle,
  looksLikeModel,
  rowIcon,
  modelDetail,
  type ModelRow,
  type PickRow,
} from "../../src/model_picks";

function info(model: string, over: Partial<ModelInfo> = {}): ModelInfo {
  const [provider = "", modelId = ""] = model.split(":");
  return {
    model,
    provider,
    providerName: provider === "openai" ? "OpenAI" : provider === "anthropic" ? "Anthropic" : null,
    modelId,
    name: null,
    contextWindow: null,
    outputLimit: null,
    cost: null,
    reasoning: null,
    toolCall: null,
    recent: false,
    current: false,
    apiKey: "present",
    inCatalog: true,
    ...over,
  };
}

function labels(rows: PickRow[]): string[] {
  return rows.map((r) => (r.kind === "separator" ? `--${r.label}` : r.label));
}

describe("buildModelRows without a query", () => {
  it("puts current, then recents, then providers under their own separators, in the server's order", () => {
    const rows = buildModelRows(
      [
        info("anthropic:claude-sonnet-4", { current: true, recent: true }),
        info("openai:gpt-4.1", { recent: true }),
        info("anthropic:claude-opus-4"),
        info("openai:gpt-4o"),
      ],
      4,
      "",
    );
    assert.deepEqual(labels(rows), [
      "--Current",
      "anthropic:claude-sonnet-4",
      "--Recent",
      "openai:gpt-4.1",
      "--Anthropic",
      "anthropic:claude-opus-4",
      "--OpenAI",
      "openai:gpt-4o",
    ]);
    const current = rows[1] as ModelRow;
    assert.equal(current.current, true);
    assert.match(current.description, /current/);
  });

  it("falls back to the provider id when it has no name", () => {
    const rows = buildModelRows([info("ollama:llama3")], 1, "");
    assert.deepEqual(labels(rows), ["--ollama", "ollama:llama3"]);
  });
});

describe("buildModelRows with a query", () => {
  it("keeps the server's ranking under one separator that says how many are shown", () => {
    const rows = buildModelRows([info("openai:gpt-4.1-mini"), info("azure:gpt-4.1-mini")], 18, "gpt-4.1 mini");
    assert.deepEqual(labels(rows).slice(0, 3), ["--2 of 18 matches", "openai:gpt-4.1-mini", "azure:gpt-4.1-mini"]);
  });

  it("offers the typed model as it is when the list does not hold it", () => {
    const rows = buildModelRows([], 0, "ollama : my-local");
    const last = rows.at(-1) as ModelRow;
    assert.equal(last.model, "ollama:my-local");
    assert.equal(last.custom, true);
  });

  it("does not offer a typed model that the list holds, nor free text with spaces", () => {
    assert.ok(!buildModelRows([info("openai:gpt-4o")], 1, "openai:gpt-4o").some((r) => r.kind === "model" && r.custom));
    assert.ok(!buildModelRows([], 0, "claude sonnet").some((r) => r.kind === "model" && r.custom));
  });

  it("marks rows whose provider has no key", () => {
    const rows = buildModelRows([info("openai:gpt-4o", { apiKey: "missing" })], 1, "gpt");
    const row = rows[1] as ModelRow;
    assert.equal(row.keyMissing, true);
    assert.match(row.description, /API key missing/);
  });
});

describe("modelDetail", () => {
  it("shows provider, context, cost and features", () => {
    assert.equal(
      modelDetail(
        info("openai:gpt-4.1", {
          contextWindow: 1047576,
          cost: { input: 2, output: 8 },
          reasoning: false,
          toolCall: true,
        }),
      ),
      "OpenAI · 1.05M context · $2 in / $8 out per 1M tokens · tools",
    );
    assert.equal(modelDetail(info("x:y")), "x");
  });
});

describe("looksLikeModel", () => {
  it("accepts model strings and rejects free text", () => {
    assert.ok(looksLikeModel("openai:gpt-4.1"));
    assert.ok(looksLikeModel("gpt-4.1"));
    assert.ok(looksLikeModel("openai : gpt-4.1"));
    assert.ok(!looksLikeModel("gpt 4"));
    assert.ok(!looksLikeModel("   "));
  });
});

describe("history rows", () => {
  it("says when, what before, and who", () => {
    const entries: HistoryEntry[] = [
      { ts: "2025-06-01T12:03:00Z", previous: "openai:gpt-4o", model: "openai:gpt-4.1", scope: "global", origin: "client", client: "Visual Studio Code" },
      { ts: "not a date", previous: null, model: "x:y", scope: "session", origin: "external", client: null },
    ];
    const [first, second] = buildHistoryRows(entries);
    assert.ok(first !== undefined && second !== undefined);
    assert.equal(first.label, "openai:gpt-4.1");
    assert.match(first.description, /^2025-06-0\d \d\d:\d\d · global$/);
    assert.equal(first.detail, "from openai:gpt-4o · from an editor by Visual Studio Code");
    assert.equal(second.description, "not a date · session");
    assert.match(second.detail, /^first model · changed outside/);
    assert.equal(formatTimestamp("bad"), "bad");
  });
});

describe("listedTitle and rowIcon", () => {
  it("says how many of the matches are shown only when not all are", () => {
    assert.equal(listedTitle("Pick", 100, 2400), "Pick (100 of 2400: type to narrow)");
    assert.equal(listedTitle("Pick", 12, 12), "Pick");
  });

  it("marks a missing key first, then the current model, then a typed-in one", () => {
    const row = (over: Partial<ModelRow>): ModelRow => ({
      kind: "model",
      model: "openai:gpt-4.1",
      label: "openai:gpt-4.1",
      description: "",
      detail: "",
      current: false,
      keyMissing: false,
      custom: false,
      ...over,
    });
    assert.equal(rowIcon(row({ keyMissing: true, current: true })), "$(warning) ");
    assert.equal(rowIcon(row({ current: true, custom: true })), "$(check) ");
    assert.equal(rowIcon(row({ custom: true })), "$(edit) ");
    assert.equal(rowIcon(row({})), "");
  });
});

describe("pickerText", () => {
  it("says which scope the pick writes", () => {
    assert.match(pickerText("global", "proj").title, /global: the shared config/);
    assert.match(pickerText("global", "proj").placeholder, /saved to the shared config/);
    assert.match(pickerText("workspace", "proj").title, /This Workspace \(proj: remembered by tuna-lsp\)/);
    assert.match(pickerText("workspace", undefined).placeholder, /not written to the shared config/);
    assert.match(pickerText("session", "proj").placeholder, /this window only, not saved/);
  });
});

describe("clearChoices", () => {
  const base = {
    model: "openai:gpt-4o",
    scope: "global",
    persistedModel: "anthropic:claude-sonnet-4",
    workspaceModel: null,
    workspaceFolder: "/home/u/proj",
  } as unknown as ModelState;

  it("offers nothing when the global model is in effect", () => {
    assert.deepEqual(clearChoices(base), []);
    assert.deepEqual(clearChoices(undefined), []);
  });

  it("offers the session choice, saying what the window goes back to", () => {
    const rows = clearChoices({ ...base, scope: "session" });
    assert.deepEqual(rows.map((r) => r.scope), ["session"]);
    assert.match(rows[0]?.detail ?? "", /global model, anthropic:claude-sonnet-4/);
  });

  it("offers both, session first, when a session choice overrides a workspace one", () => {
    const rows = clearChoices({ ...base, scope: "session", workspaceModel: "openai:gpt-4.1" });
    assert.deepEqual(rows.map((r) => r.scope), ["session", "workspace"]);
    assert.match(rows[0]?.detail ?? "", /workspace choice, openai:gpt-4\.1/);
    assert.equal(rows[1]?.label, "Workspace choice: openai:gpt-4.1");
  });

  it("offers the workspace choice alone", () => {
    assert.deepEqual(clearChoices({ ...base, scope: "workspace", workspaceModel: "openai:gpt-4o" }).map((r) => r.scope), ["workspace"]);
  });
});
