import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

import type { ModelState } from "../../src/lsp_ext";
import {
  escapeMarkdown,
  formatTokenCount,
  formatUsd,
  renderFailed,
  renderModelStatus,
  shortModelName,
  startFailureMessage,
  TOOLTIP_COMMANDS,
} from "../../src/model_status";

function state(over: Partial<ModelState> = {}): ModelState {
  return {
    model: "anthropic:claude-sonnet-4-20250514",
    provider: "anthropic",
    modelId: "claude-sonnet-4-20250514",
    scope: "global",
    persistedModel: "anthropic:claude-sonnet-4-20250514",
    configPath: "/home/u/.config/tunacode.json",
    name: "Claude Sonnet 4",
    contextWindow: 200000,
    apiKey: "present",
    apiKeyEnvVar: "ANTHROPIC_API_KEY",
    recentModels: [],
    warnings: [],
    origin: "initial",
    resolvedFrom: null,
    configValid: true,
    catalog: null,
    ...over,
  };
}

describe("shortModelName", () => {
  it("keeps the last segment of the model id", () => {
    assert.equal(shortModelName("openrouter:openai/gpt-4.1"), "gpt-4.1");
    assert.equal(shortModelName("openai:gpt-4.1"), "gpt-4.1");
    assert.equal(shortModelName("gpt-4.1"), "gpt-4.1");
    assert.equal(shortModelName("ollama:"), "ollama:");
  });
});

describe("token counts: the one rule of the server, VS Code and Neovim", () => {
  const rule = JSON.parse(
    readFileSync(join(__dirname, "..", "..", "..", "..", "tests", "data", "token_counts.json"), "utf8"),
  ) as { cases: [number, string][] };
  it("reads every case as the rule says", () => {
    assert.ok(rule.cases.length > 20);
    for (const [n, text] of rule.cases) {
      assert.equal(formatTokenCount(n), text, String(n));
    }
  });
});

describe("formatting numbers", () => {
  it("formats token counts and prices", () => {
    assert.equal(formatTokenCount(200000), "200k");
    assert.equal(formatTokenCount(1047576), "1.05M");
    assert.equal(formatTokenCount(204800), "205k");
    assert.equal(formatTokenCount(512), "512");
    assert.equal(formatUsd(3), "$3");
    assert.equal(formatUsd(0.15), "$0.15");
    assert.equal(formatUsd(0.132), "$0.132");
    assert.equal(formatUsd(0), "free");
  });
});

describe("renderModelStatus", () => {
  it("shows the short name, no warning, and the whole state in the tooltip", () => {
    const v = renderModelStatus(state());
    assert.equal(v.text, "$(hubot) claude-sonnet-4-20250514");
    assert.equal(v.severity, "ok");
    for (const part of ["anthropic:claude-sonnet-4-20250514", "Claude Sonnet 4", "global", "tunacode\\.json", "200k tokens", "present (ANTHROPIC\\_API\\_KEY)"]) {
      assert.ok(v.tooltip.includes(part), `tooltip lacks ${part}:\n${v.tooltip}`);
    }
    assert.match(v.tooltip, /\(command:tunacode\.selectModel /);
  });

  it("marks a session choice and shows the saved model", () => {
    const v = renderModelStatus(state({ scope: "session", model: "openai:gpt-4.1", modelId: "gpt-4.1" }));
    assert.equal(v.text, "$(hubot) gpt-4.1 (session)");
    assert.ok(v.tooltip.includes("| Saved model | anthropic:claude\\-sonnet\\-4\\-20250514 |"), v.tooltip);
    assert.match(v.accessibilityLabel, /for this session/);
  });

  it("warns in text and color when the key is missing", () => {
    const v = renderModelStatus(state({ apiKey: "missing" }));
    assert.equal(v.severity, "warning");
    assert.equal(v.text, "$(warning) claude-sonnet-4-20250514 · no API key");
    assert.match(v.tooltip, /\*\*missing\*\*/);
  });

  it("warns when the server reports warnings, escaping their text", () => {
    const v = renderModelStatus(state({ warnings: ["config is invalid: [x](command:evil)", "second"] }));
    assert.equal(v.severity, "warning");
    assert.match(v.text, /· 2 warnings$/);
    assert.ok(!v.tooltip.includes("[x](command:evil)"));
    assert.ok(v.tooltip.includes("\\[x\\]\\(command:evil\\)"));
  });

  it("says when the config on disk is invalid (the server keeps its last good state)", () => {
    const v = renderModelStatus(state({ configValid: false, warnings: ["invalid JSON at line 3"], apiKey: "missing" }));
    assert.equal(v.severity, "warning");
    assert.equal(v.text, "$(warning) claude-sonnet-4-20250514 · config invalid");
  });

  it("says unknown for a model the catalog does not know", () => {
    const v = renderModelStatus(state({ name: null, contextWindow: null }));
    assert.match(v.tooltip, /Context window \| unknown/);
  });

  it("marks a workspace choice as it marks a session one, and names the folder", () => {
    const v = renderModelStatus(
      state({ scope: "workspace", model: "openai:gpt-4.1", modelId: "gpt-4.1", workspaceModel: "openai:gpt-4.1", workspaceFolder: "/home/u/proj" }),
    );
    assert.equal(v.text, "$(hubot) gpt-4.1 (workspace)");
    assert.match(v.tooltip, /\| Scope \| workspace/);
    assert.match(v.tooltip, /\| Workspace \| \/home\/u\/proj \|/);
    assert.ok(v.tooltip.includes("| Saved model | anthropic:claude\\-sonnet\\-4\\-20250514 |"), v.tooltip);
    assert.match(v.accessibilityLabel, /for this workspace/);
  });

  it("shows a workspace model that a session choice overrides", () => {
    const v = renderModelStatus(state({ scope: "session", model: "openai:gpt-4o", workspaceModel: "openai:gpt-4.1" }));
    assert.match(v.text, /\(session\)$/);
    assert.match(v.tooltip, /\| Workspace model \| openai:gpt\\-4\\.1 \|/);
  });

  it("turns to a warning while a stale overwrite waits, saying what happened, with a Restore link", () => {
    const v = renderModelStatus(
      state({
        model: "anthropic:claude-sonnet-4-20250514",
        overwrite: {
          model: "anthropic:claude-sonnet-4-20250514",
          replacedModel: "openai:gpt-4o",
          droppedKeys: ["editor_note"],
          at: "2026-12-01T05:00:00Z",
          resolution: "pending",
        },
      }),
    );
    assert.equal(v.severity, "warning");
    assert.equal(v.text, "$(warning) claude-sonnet-4-20250514 · overwritten by tunacode");
    assert.match(v.tooltip, /A running tunacode undid a model choice/);
    assert.match(v.tooltip, /`anthropic:claude-sonnet-4-20250514` replaced `openai:gpt-4o`/);
    assert.match(v.tooltip, /dropped `editor_note`/);
    assert.match(v.tooltip, /\[Restore openai:gpt\\-4o\]\(command:tunacode\.restoreOverwrite /);
    assert.match(v.accessibilityLabel, /a running tunacode replaced openai:gpt-4o/);
  });

  it("says the config is invalid before a pending overwrite: nothing can be restored until it is fixed", () => {
    const v = renderModelStatus(
      state({
        configValid: false,
        overwrite: {
          model: "anthropic:claude-sonnet-4-20250514",
          replacedModel: "openai:gpt-4o",
          droppedKeys: [],
          at: "2026-12-01T05:00:00Z",
          resolution: "pending",
        },
      }),
    );
    assert.match(v.text, /· config invalid$/);
  });

  it("is back to normal once the overwrite is restored or kept", () => {
    for (const resolution of ["restored", "kept"] as const) {
      const v = renderModelStatus(
        state({ overwrite: { model: "a:b", replacedModel: "c:d", droppedKeys: [], at: "", resolution } }),
      );
      assert.equal(v.severity, "ok", resolution);
      assert.doesNotMatch(v.tooltip, /undid/);
    }
  });

  it("links only to commands the caller trusts", () => {
    const pending = renderModelStatus(
      state({ overwrite: { model: "a:b", replacedModel: "c:d", droppedKeys: [], at: "", resolution: "pending" } }),
    );
    assert.match(pending.tooltip, /command:tunacode\.restoreOverwrite/);
    for (const v of [renderModelStatus(state()), pending]) {
      const linked = [...v.tooltip.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1]);
      assert.ok(linked.length > 0);
      for (const id of linked) {
        assert.ok(TOOLTIP_COMMANDS.includes(id ?? ""), id);
      }
    }
  });

  it("links to no command the extension does not contribute", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, "..", "..", "..", "package.json"), "utf8")) as {
      contributes: { commands: { command: string }[] };
    };
    const contributed = new Set(pkg.contributes.commands.map((c) => c.command));
    for (const id of TOOLTIP_COMMANDS) {
      assert.ok(contributed.has(id), id);
    }
  });

  it("links only to commands the caller trusts (the plain state)", () => {
    const v = renderModelStatus(state());
    const linked = [...v.tooltip.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1]);
    assert.ok(linked.length > 0);
    for (const id of linked) {
      assert.ok(TOOLTIP_COMMANDS.includes(id ?? ""), id);
    }
  });
});

describe("failure", () => {
  const tried = [
    { place: "tunacode.server.command", detail: "not set" },
    { place: "PATH", detail: "no tuna-lsp on PATH (/usr/bin)" },
    { place: "workspace .venv", detail: "/a/.venv/bin/tuna-lsp: not found" },
    { place: "workspace .venv", detail: "/b/.venv/bin/tuna-lsp: not found" },
  ];

  it("renders an error item with the details in the tooltip", () => {
    const v = renderFailed("tuna-lsp was not found", tried);
    assert.equal(v.severity, "error");
    assert.equal(v.text, "$(error) TunaCode: no server");
    assert.match(v.tooltip, /\/b\/\\\.venv\/bin\/tuna\\-lsp: not found/);
    assert.match(v.tooltip, /command:tunacode\.showInstallInstructions/);
  });

  it("keeps the notification short: each place once, and what to do", () => {
    const m = startFailureMessage("tuna-lsp was not found", tried);
    assert.match(m, /Tried: tunacode\.server\.command, PATH, workspace \.venv\. /);
    assert.match(m, /Install tuna-lsp/);
    assert.ok(!m.includes("/usr/bin"));
  });
});

describe("escapeMarkdown", () => {
  it("escapes markdown and flattens newlines", () => {
    assert.equal(escapeMarkdown("a_b|c\nd"), "a\\_b\\|c d");
  });
});
