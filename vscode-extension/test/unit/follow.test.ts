import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { followDecision, followSetting, modelCommand, type FollowedTerminal } from "../../src/follow";
import type { ModelState } from "../../src/lsp_ext";

function state(over: Partial<ModelState> = {}): ModelState {
  return {
    model: "openai:gpt-4.1",
    provider: "openai",
    modelId: "gpt-4.1",
    scope: "global",
    persistedModel: "openai:gpt-4.1",
    configPath: "/home/u/.config/tunacode.json",
    name: null,
    contextWindow: null,
    apiKey: "present",
    apiKeyEnvVar: "OPENAI_API_KEY",
    recentModels: [],
    warnings: [],
    origin: "external",
    resolvedFrom: null,
    configValid: true,
    catalog: null,
    workspaceFolder: "/home/u/proj",
    workspaceModel: null,
    viaEditor: true,
    overwrite: null,
    ...over,
  };
}

const BEHIND: FollowedTerminal[] = [
  { id: 1, model: "anthropic:claude-sonnet-4-20250514" },
  { id: 2, model: "openai:gpt-4.1" },
  { id: 3, model: undefined },
];

describe("followDecision", () => {
  it("types a global change made through tuna-lsp into the terminals that run another model", () => {
    assert.deepEqual(followDecision(state(), BEHIND, "always"), { kind: "switch", model: "openai:gpt-4.1", terminals: [1, 3] });
    assert.deepEqual(followDecision(state({ origin: "client" }), BEHIND, "always"), {
      kind: "switch",
      model: "openai:gpt-4.1",
      terminals: [1, 3],
    });
  });

  it("asks first by default", () => {
    assert.equal(followDecision(state(), BEHIND, "ask").kind, "ask");
  });

  it("types nothing with never", () => {
    assert.equal(followDecision(state(), BEHIND, "never").kind, "none");
  });

  it("never types back a change a CLI or a hand edit made", () => {
    assert.deepEqual(followDecision(state({ viaEditor: false }), BEHIND, "always"), {
      kind: "none",
      why: "not changed through tuna-lsp (a CLI, a hand edit, or a server that does not say)",
    });
    // A server that does not say (older than PROTOCOL section 9) is not followed either.
    const unsaid = state();
    delete unsaid.viaEditor;
    assert.equal(followDecision(unsaid, BEHIND, "always").kind, "none");
  });

  it("never types a session or workspace choice (tunacode's /model saves globally)", () => {
    for (const scope of ["session", "workspace", "default"] as const) {
      assert.equal(followDecision(state({ scope }), BEHIND, "always").kind, "none", scope);
    }
  });

  it("does not follow the first state of a server", () => {
    assert.equal(followDecision(state({ origin: "initial" }), BEHIND, "always").kind, "none");
  });

  it("does nothing when every terminal runs the model already, or there is none", () => {
    assert.equal(followDecision(state(), [{ id: 2, model: "openai:gpt-4.1" }], "always").kind, "none");
    assert.equal(followDecision(state(), [], "always").kind, "none");
  });

  it("never types a model string with characters a terminal or shell would read", () => {
    for (const model of ["openai:gpt-4.1\n/exit", "openai:$(touch x)", "openai:a b", "openai:gpt;rm"]) {
      assert.equal(followDecision(state({ model }), BEHIND, "always").kind, "none", JSON.stringify(model));
    }
  });
});

describe("modelCommand and followSetting", () => {
  it("types tunacode's own command", () => {
    assert.equal(modelCommand("openrouter:openai/gpt-4.1"), "/model openrouter:openai/gpt-4.1");
  });
  it("reads the setting, ask for anything unknown", () => {
    assert.equal(followSetting("always"), "always");
    assert.equal(followSetting("never"), "never");
    assert.equal(followSetting("sometimes"), "ask");
    assert.equal(followSetting(undefined), "ask");
  });
});
