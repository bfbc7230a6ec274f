/**
 * The rows of the model picker and of the history list, from `tuna/listModels` and `tuna/history` results.
 *
 * Pure: returns plain rows; the caller makes QuickPickItems of them. Must not import vscode.
 */
import type { ClearScope, HistoryEntry, ModelInfo, ModelState, SetScope } from "./lsp_ext";
import { formatTokenCount, formatUsd } from "./model_status";

/** The picker's title and placeholder: which scope the pick writes, and where that choice lives. */
export function pickerText(scope: SetScope, folderName: string | undefined): { title: string; placeholder: string } {
  switch (scope) {
    case "global":
      return {
        title: "TunaCode: Select Model (global: the shared config, used by the tunacode CLI)",
        placeholder: "Model for tunacode, saved to the shared config (type to search)",
      };
    case "workspace":
      return {
        title: `TunaCode: Select Model for This Workspace (${folderName ?? "this folder"}: remembered by tuna-lsp)`,
        placeholder: "Model for this workspace folder, not written to the shared config (type to search)",
      };
    case "session":
      return {
        title: "TunaCode: Select Model for This Session (this window only)",
        placeholder: "Model for this window only, not saved (type to search)",
      };
  }
}

/** The picker's title once the server answered: how many of the matches are shown, when not all of them are. */
export function listedTitle(title: string, shown: number, total: number): string {
  return total > shown ? `${title} (${String(shown)} of ${String(total)}: type to narrow)` : title;
}

export interface ClearChoice {
  scope: ClearScope;
  label: string;
  detail: string;
}

/** What "Clear Session or Workspace Model" offers: the choices set in this window, highest precedence first. */
export function clearChoices(state: ModelState | undefined): ClearChoice[] {
  if (state === undefined) {
    return [];
  }
  const out: ClearChoice[] = [];
  const workspaceModel = state.workspaceModel ?? null;
  if (state.scope === "session") {
    out.push({
      scope: "session",
      label: `Session choice: ${state.model}`,
      detail: `This window goes back to ${workspaceModel !== null ? `the workspace choice, ${workspaceModel}` : `the global model, ${state.persistedModel ?? "tunacode's default"}`}`,
    });
  }
  if (workspaceModel !== null) {
    out.push({
      scope: "workspace",
      label: `Workspace choice: ${workspaceModel}`,
      detail: `Every window on ${state.workspaceFolder ?? "this folder"} goes back to the global model, ${state.persistedModel ?? "tunacode's default"}`,
    });
  }
  return out;
}

export interface SeparatorRow {
  kind: "separator";
  label: string;
}

export interface ModelRow {
  kind: "model";
  /** The model string, exactly what is sent to `tuna/setModel`. */
  model: string;
  label: string;
  description: string;
  detail: string;
  current: boolean;
  keyMissing: boolean;
  /** A model typed by the user that the list does not hold. */
  custom: boolean;
}

export type PickRow = SeparatorRow | ModelRow;

/** The codicon in front of a row's label: a missing key first, then the current model, then a typed-in one. */
export function rowIcon(row: ModelRow): string {
  return row.keyMissing ? "$(warning) " : row.current ? "$(check) " : row.custom ? "$(edit) " : "";
}

export function modelDetail(info: ModelInfo): string {
  const bits: string[] = [info.providerName ?? info.provider];
  if (info.contextWindow !== null) {
    bits.push(`${formatTokenCount(info.contextWindow)} context`);
  }
  if (info.cost !== null && info.cost.input !== null && info.cost.output !== null) {
    bits.push(`${formatUsd(info.cost.input)} in / ${formatUsd(info.cost.output)} out per 1M tokens`);
  }
  const features: string[] = [];
  if (info.reasoning === true) {
    features.push("reasoning");
  }
  if (info.toolCall === true) {
    features.push("tools");
  }
  if (features.length > 0) {
    bits.push(features.join(", "));
  }
  return bits.join(" · ");
}

function modelRow(info: ModelInfo): ModelRow {
  const description: string[] = [];
  if (info.name !== null && info.name !== "") {
    description.push(info.name);
  }
  if (info.current) {
    description.push("current");
  }
  if (info.apiKey === "missing") {
    description.push("API key missing");
  }
  return {
    kind: "model",
    model: info.model,
    label: info.model,
    description: description.join(" · "),
    detail: modelDetail(info),
    current: info.current,
    keyMissing: info.apiKey === "missing",
    custom: false,
  };
}

function groupOf(info: ModelInfo): string {
  if (info.current) {
    return "Current";
  }
  if (info.recent) {
    return "Recent";
  }
  return info.providerName ?? info.provider;
}

/** Whether what the user typed could be a model string the server takes (`provider:model_id` or a bare id). */
export function looksLikeModel(text: string): boolean {
  const t = text.trim();
  return t !== "" && t.length <= 321 && !/\s/.test(t.replace(/\s*:\s*/, ":"));
}

/**
 * Picker rows for one answer of `tuna/listModels`. Without a query: the server's order (current, recents, the rest
 * by provider) with a separator per group. With one: the server's ranking under one separator, and a last row that
 * uses the typed text as it is, for a model the catalog does not know.
 */
export function buildModelRows(items: readonly ModelInfo[], total: number, query: string): PickRow[] {
  const rows: PickRow[] = [];
  const q = query.trim();
  if (q === "") {
    let group: string | undefined;
    for (const info of items) {
      const g = groupOf(info);
      if (g !== group) {
        rows.push({ kind: "separator", label: g });
        group = g;
      }
      rows.push(modelRow(info));
    }
  } else {
    if (items.length > 0) {
      const shown = items.length < total ? `${String(items.length)} of ${String(total)} matches` : "Matches";
      rows.push({ kind: "separator", label: shown });
      for (const info of items) {
        rows.push(modelRow(info));
      }
    }
    addTyped(
      rows,
      q,
      "Not in the catalog list: the server checks it (custom and local models are accepted with a warning)",
    );
  }
  return rows;
}

/** An "Other" row for a query that reads as a model id no listed row has: the user may mean exactly it. */
function addTyped(rows: PickRow[], query: string, detail: string): void {
  const typed = query.trim().replace(/\s*:\s*/, ":");
  if (!looksLikeModel(query) || rows.some((r) => r.kind === "model" && r.model === typed)) {
    return;
  }
  rows.push({ kind: "separator", label: "Other" });
  rows.push({
    kind: "model",
    model: typed,
    label: typed,
    description: "use this model id as typed",
    detail,
    current: false,
    keyMissing: false,
    custom: true,
  });
}

export interface HistoryRow {
  model: string;
  label: string;
  description: string;
  detail: string;
}

function pad2(n: number): string {
  return n < 10 ? `0${String(n)}` : String(n);
}

/** ISO timestamp -> "2025-06-01 14:03" in local time; the text as it is when it does not parse. */
export function formatTimestamp(ts: string): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) {
    return ts;
  }
  return `${String(d.getFullYear())}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

const ORIGIN_TEXT: Record<string, string> = {
  initial: "at start",
  client: "from an editor",
  external: "changed outside (CLI, another editor or a hand edit)",
};

export function buildHistoryRows(entries: readonly HistoryEntry[]): HistoryRow[] {
  return entries.map((e) => {
    const from = e.previous !== null ? `from ${e.previous}` : "first model";
    const who = e.client !== null && e.client !== "" ? ` by ${e.client}` : "";
    return {
      model: e.model,
      label: e.model,
      description: `${formatTimestamp(e.ts)} · ${e.scope}`,
      detail: `${from} · ${ORIGIN_TEXT[e.origin] ?? e.origin}${who}`,
    };
  });
}
