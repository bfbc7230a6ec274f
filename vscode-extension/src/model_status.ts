/**
 * What the status bar item says: its text, severity and markdown tooltip, from the server's ModelState or from the
 * client's own phase (starting, failed).
 *
 * Pure: returns strings and plain values; the caller turns them into a StatusBarItem. Must not import vscode.
 * Everything that came from outside (paths, warnings, model ids) is escaped before it goes into markdown.
 */
import type { Attempt } from "./locations";
import type { ModelState, Overwrite } from "./lsp_ext";

export type Severity = "ok" | "warning" | "error" | "busy";

export interface StatusView {
  /** Status bar text; may hold `$(icon)` codicons. */
  text: string;
  /** Markdown for the tooltip (command links to `tunacode.*` commands only). */
  tooltip: string;
  severity: Severity;
  /** What a screen reader says. */
  accessibilityLabel: string;
}

/** Characters that mean something in CommonMark, escaped so outside text shows as written. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, (c) => `\\${c}`).replace(/\r?\n/g, " ");
}

/** The part of a model string worth showing in a narrow place: the last `/` segment of its model id. */
export function shortModelName(model: string): string {
  const colon = model.indexOf(":");
  const modelId = colon >= 0 ? model.slice(colon + 1) : model;
  const slash = modelId.lastIndexOf("/");
  const short = slash >= 0 ? modelId.slice(slash + 1) : modelId;
  return short.trim() === "" ? model : short.trim();
}

/**
 * A token count as people say it: 8.19k, 128k, 1M, 1.05M. The one rule the server (`wire.tokens`) and Neovim
 * (`tunacode.format`) follow too (tests/data/token_counts.json): three significant digits, rounded half up in
 * whole numbers, so every language gives the same text.
 */
export function formatTokenCount(n: number): string {
  if (n < 1000) {
    return String(Math.trunc(n));
  }
  const [unit, suffix] = n >= 999_500 ? [1_000_000, "M"] : [1000, "k"];
  const places = n < 10 * unit ? 2 : n < 100 * unit ? 1 : 0;
  const scale = 10 ** places;
  const scaled = Math.floor((Math.trunc(n) * scale * 2 + unit) / (2 * unit));
  const whole = Math.floor(scaled / scale);
  if (places === 0) {
    return `${String(whole)}${suffix}`;
  }
  const fraction = String(scaled - whole * scale).padStart(places, "0");
  const text = `${String(whole)}.${fraction}`.replace(/0+$/, "").replace(/\.$/, "");
  return text + suffix;
}

/** USD per 1M tokens: 3 -> "$3", 0.15 -> "$0.15", 0 -> "free". */
export function formatUsd(n: number): string {
  if (n === 0) {
    return "free";
  }
  return `$${String(Number(n.toFixed(n < 1 ? 3 : 2)))}`;
}

const LINKS: readonly [string, string, string][] = [
  ["Select model", "tunacode.selectModel", "Pick the model tunacode uses (saved to the shared config)"],
  ["For this workspace", "tunacode.selectWorkspaceModel", "Pick a model for this workspace folder (remembered, not in the shared config)"],
  ["For this session", "tunacode.selectModelForSession", "Pick a model for this window only (not saved)"],
  ["Clear", "tunacode.clearModel", "Drop the session or workspace choice"],
  ["Open config", "tunacode.openConfig", "Open the shared tunacode config"],
  ["History", "tunacode.showHistory", "Show the model history"],
  ["Terminal", "tunacode.startTerminal", "Start tunacode with this model in a terminal"],
  ["Logs", "tunacode.showLogs", "Show the TunaCode logs"],
];

/** The command ids the tooltip links to; the caller trusts exactly these. */
export const TOOLTIP_COMMANDS: readonly string[] = [
  ...LINKS.map(([, id]) => id),
  "tunacode.restartServer",
  "tunacode.showInstallInstructions",
  "tunacode.restoreOverwrite",
];

function link(label: string, command: string, title: string): string {
  return `[${label}](command:${command} "${title}")`;
}

function scopeText(state: ModelState): string {
  switch (state.scope) {
    case "session":
      return "session (this window only, not saved)";
    case "workspace":
      return "workspace (this folder's choice, remembered by tuna-lsp; the CLI's own default is unchanged)";
    case "global":
      return "global (saved in the shared config)";
    case "default":
      return "default (no config file yet: tunacode's default model)";
  }
}

function keyText(state: ModelState): string {
  const envVar = state.apiKeyEnvVar !== null ? ` (${escapeMarkdown(state.apiKeyEnvVar)})` : "";
  return state.apiKey === "present" ? `present${envVar}` : `**missing**${envVar}`;
}

/** The stale overwrite waiting for an answer, if any. */
export function pendingOverwrite(state: ModelState): Overwrite | undefined {
  return state.overwrite?.resolution === "pending" ? state.overwrite : undefined;
}

/** What the tooltip says about a stale overwrite, with a link that restores the choice it undid. */
function overwriteLines(o: Overwrite): string[] {
  const dropped =
    o.droppedKeys.length > 0
      ? ` It also dropped ${o.droppedKeys.map((k) => `\`${k.replace(/`/g, "'")}\``).join(", ")}.`
      : "";
  return [
    "**A running tunacode undid a model choice** $(warning)",
    "",
    `A tunacode session saved its old copy of the shared config: \`${o.model.replace(/`/g, "'")}\` replaced ` +
      `\`${o.replacedModel.replace(/`/g, "'")}\`${o.at !== "" ? ` (${escapeMarkdown(o.at)})` : ""}.${dropped}`,
    "",
    link(
      `Restore ${escapeMarkdown(o.replacedModel)}`,
      "tunacode.restoreOverwrite",
      "Write the undone model back, with the dropped keys; keep everything else tunacode saved",
    ),
    "",
  ];
}

export function renderModelStatus(state: ModelState): StatusView {
  const short = shortModelName(state.model);
  const keyMissing = state.apiKey === "missing";
  const configInvalid = !state.configValid;
  const overwrite = pendingOverwrite(state);
  const warned = keyMissing || configInvalid || state.warnings.length > 0 || overwrite !== undefined;
  const session = state.scope === "session";
  const workspace = state.scope === "workspace";

  const parts: string[] = [warned ? "$(warning)" : "$(hubot)", short];
  if (session) {
    parts.push("(session)");
  } else if (workspace) {
    parts.push("(workspace)");
  }
  // An invalid file comes first: nothing, a restore included, can be written until it is fixed.
  if (configInvalid) {
    parts.push("· config invalid");
  } else if (overwrite !== undefined) {
    parts.push("· overwritten by tunacode");
  } else if (keyMissing) {
    parts.push("· no API key");
  } else if (state.warnings.length > 0) {
    parts.push(state.warnings.length === 1 ? "· 1 warning" : `· ${String(state.warnings.length)} warnings`);
  }

  const rows: [string, string][] = [
    ["Model", `\`${state.model.replace(/`/g, "'")}\`${state.name !== null ? ` — ${escapeMarkdown(state.name)}` : ""}`],
    ["Scope", scopeText(state)],
  ];
  const workspaceModel = state.workspaceModel ?? null;
  if (workspaceModel !== null && !workspace) {
    rows.push(["Workspace model", escapeMarkdown(workspaceModel)]);
  }
  if (state.workspaceFolder !== undefined && state.workspaceFolder !== null) {
    rows.push(["Workspace", escapeMarkdown(state.workspaceFolder)]);
  }
  if (state.scope !== "global" || state.persistedModel !== state.model) {
    rows.push(["Saved model", state.persistedModel !== null ? escapeMarkdown(state.persistedModel) : "none"]);
  }
  if (state.resolvedFrom !== null) {
    rows.push(["Resolved from", escapeMarkdown(state.resolvedFrom)]);
  }
  rows.push(["Config", escapeMarkdown(state.configPath)]);
  rows.push([
    "Context window",
    state.contextWindow !== null ? `${formatTokenCount(state.contextWindow)} tokens` : "unknown",
  ]);
  rows.push(["API key", keyText(state)]);

  const lines: string[] = overwrite !== undefined ? overwriteLines(overwrite) : [];
  lines.push(`**TunaCode model** ${warned ? "$(warning)" : ""}`.trimEnd(), "");
  lines.push("| | |", "|:--|:--|");
  for (const [k, v] of rows) {
    lines.push(`| ${k} | ${v} |`);
  }
  lines.push("");
  if (state.warnings.length > 0) {
    lines.push("**Warnings**", "");
    for (const w of state.warnings) {
      lines.push(`- ${escapeMarkdown(w)}`);
    }
    lines.push("");
  }
  lines.push(LINKS.map(([label, id, title]) => link(label, id, title)).join(" · "));

  const a11y = [
    `TunaCode model ${state.model}`,
    session ? "for this session" : "",
    workspace ? "for this workspace" : "",
    overwrite !== undefined ? `a running tunacode replaced ${overwrite.replacedModel}` : "",
    configInvalid ? "the shared config is invalid" : "",
    keyMissing ? "API key missing" : "",
    state.warnings.length > 0 ? `${String(state.warnings.length)} warnings` : "",
  ].filter((s) => s !== "");

  return {
    text: parts.join(" "),
    tooltip: lines.join("\n"),
    severity: warned ? "warning" : "ok",
    accessibilityLabel: a11y.join(", "),
  };
}

export function renderStarting(): StatusView {
  return {
    text: "$(sync~spin) TunaCode",
    tooltip: "Starting the tuna-lsp server…",
    severity: "busy",
    accessibilityLabel: "TunaCode: starting the server",
  };
}

export function renderStopped(): StatusView {
  return {
    text: "$(circle-slash) TunaCode",
    tooltip: `The tuna-lsp server is stopped.\n\n${link("Restart server", "tunacode.restartServer", "Start the server again")}`,
    severity: "warning",
    accessibilityLabel: "TunaCode: server stopped",
  };
}

export function renderFailed(reason: string, tried: readonly Attempt[]): StatusView {
  const lines = [
    "**TunaCode: the tuna-lsp server is not running**",
    "",
    escapeMarkdown(reason),
    "",
  ];
  if (tried.length > 0) {
    lines.push("Tried:", "");
    for (const t of tried) {
      lines.push(`- ${escapeMarkdown(t.place)}: ${escapeMarkdown(t.detail)}`);
    }
    lines.push("");
  }
  lines.push(
    [
      link("Install instructions", "tunacode.showInstallInstructions", "How to install tuna-lsp"),
      link("Restart server", "tunacode.restartServer", "Try to start the server again"),
      link("Logs", "tunacode.showLogs", "Show the TunaCode logs"),
    ].join(" · "),
  );
  return {
    text: "$(error) TunaCode: no server",
    tooltip: lines.join("\n"),
    severity: "error",
    accessibilityLabel: `TunaCode: the server is not running: ${reason}`,
  };
}

/** The error notification's text when no server starts: what was tried and what to do, in a few lines. */
export function startFailureMessage(reason: string, tried: readonly Attempt[], hint?: string): string {
  const places = [...new Set(tried.map((t) => t.place))];
  const triedText = places.length > 0 ? ` Tried: ${places.join(", ")}.` : "";
  return (
    `TunaCode: could not start the tuna-lsp language server: ${reason}.${triedText} ` +
    (hint ?? "Install tuna-lsp and, unless it is on PATH, set tunacode.server.command in your user settings.")
  );
}
