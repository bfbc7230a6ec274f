/**
 * The custom messages of tuna-lsp (docs/PROTOCOL.md sections 3, 3a, 4, 6 and 9, plus the server's own
 * extensions: `catalog`, `inCatalog`, `offset`, `tuna/catalogChanged`, `tuna/stats`, ...), typed for
 * vscode-languageclient.
 *
 * Owns the wire names and shapes only. The plain interfaces are imported with `import type` by the pure modules
 * (status formatting, quick pick items, follow decisions), so nothing here may be needed at run time by them.
 * test/unit/lsp_ext.test.ts runs the real server and checks every key it sends against these interfaces: a field
 * added on one side only fails it.
 *
 * Fields marked "(PROTOCOL 3a/9)" are in the contract but newer than some servers: optional here, and absent
 * means null (no workspace, no overwrite seen) or, for `viaEditor`, unknown.
 */
import * as lc from "vscode-languageclient/node";

/** Which choice is in effect: PROTOCOL.md section 3a, highest first. */
export type Scope = "session" | "workspace" | "global" | "default";
/** The scopes a client may set; `"default"` is accepted by the server as the old word for global. */
export type SetScope = "session" | "workspace" | "global";
/** The scopes that can be cleared (global is the CLI's own choice: it is replaced, never cleared). */
export type ClearScope = "session" | "workspace";
export type Origin = "initial" | "client" | "external";
export type KeyStatus = "present" | "missing";

/** Which catalog sources answered; sent with states and listings (null until the catalog has loaded). */
export interface CatalogSource {
  name: string;
  version: string | null;
}
export interface CatalogDescription {
  sources: CatalogSource[];
  providers: number;
  models: number;
}

/** A stale overwrite by a running tunacode CLI (PROTOCOL.md section 9). */
export interface Overwrite {
  /** What the overwrite put in. */
  model: string;
  /** The choice it undid. */
  replacedModel: string;
  /** Keys of the shared config the overwrite dropped (names only, never values). */
  droppedKeys: string[];
  /** When it was seen (ISO timestamp). */
  at: string;
  resolution: "pending" | "restored" | "kept";
}

export interface ModelState {
  model: string;
  provider: string;
  modelId: string;
  scope: Scope;
  persistedModel: string | null;
  configPath: string;
  name: string | null;
  contextWindow: number | null;
  apiKey: KeyStatus;
  apiKeyEnvVar: string | null;
  recentModels: string[];
  warnings: string[];
  origin: Origin;
  /** The bare model id the model was resolved from through the routing preferences, or null. */
  resolvedFrom: string | null;
  /** False while the shared config on disk is invalid and the server keeps its last good state. */
  configValid: boolean;
  catalog: CatalogDescription | null;
  /** The folder this server serves (from initialize), or null (PROTOCOL 3a). */
  workspaceFolder?: string | null;
  /** That folder's remembered model, or null (PROTOCOL 3a). */
  workspaceModel?: string | null;
  /** True when the last change was made through tuna-lsp (any window), false when a CLI or a hand edit made it (PROTOCOL 9). */
  viaEditor?: boolean;
  /** The last stale overwrite seen, or null (PROTOCOL 9). */
  overwrite?: Overwrite | null;
}

export interface SetModelParams {
  model: string;
  scope?: SetScope;
}

/** The answer of every request that changes the state: the new state and what to tell the user. */
export interface ChangeResult extends ModelState {
  message: string;
}
export type SetModelResult = ChangeResult;

export interface ClearModelParams {
  scope: ClearScope;
}

export interface Cost {
  input: number | null;
  output: number | null;
}

export interface ModelInfo {
  model: string;
  provider: string;
  providerName: string | null;
  modelId: string;
  name: string | null;
  contextWindow: number | null;
  outputLimit: number | null;
  cost: Cost | null;
  reasoning: boolean | null;
  toolCall: boolean | null;
  recent: boolean;
  current: boolean;
  apiKey: KeyStatus;
  /** False for a model the catalog does not list (a custom or local one). */
  inCatalog: boolean;
}

export interface ListModelsParams {
  query?: string;
  provider?: string;
  limit?: number;
  offset?: number;
}

export interface ListModelsResult {
  items: ModelInfo[];
  total: number;
  catalog: CatalogDescription | null;
}

export interface HistoryParams {
  limit?: number;
}

export interface HistoryEntry {
  ts: string;
  previous: string | null;
  model: string;
  scope: Scope;
  /** What caused the entry; stale overwrites and their repair are entries too (PROTOCOL 9). */
  origin: Origin | "stale-overwrite" | "restored";
  client: string | null;
}

export interface HistoryResult {
  entries: HistoryEntry[];
}

export interface SetProviderPreferenceParams {
  model: string;
  providers: string[];
}

export interface SetProviderPreferenceResult {
  model: string;
  providers: string[];
  /** The preferences.toml written. */
  path: string;
}

export interface RefreshCatalogParams {
  url?: string;
}

export interface RefreshCatalogResult {
  path: string;
  providers: number;
  catalog: CatalogDescription | null;
}

export interface SaveLatency {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  count: number;
}

export interface StatsResult {
  saves: number;
  unchangedSets: number;
  sessionSets: number;
  failures: Record<string, number>;
  externalChanges: number;
  saveLatencyMs: SaveLatency;
  pid: number;
  version: string;
  uptimeS: number;
  catalog: CatalogDescription | null;
}

export interface UsageParams {
  /** 1..3650; default 30. */
  days?: number;
}

/** Save latency over the saved attempts, in milliseconds. */
export interface UsageLatency {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface UsageSaves {
  attempts: number;
  saved: number;
  unchanged: number;
  failed: number;
  /** RequestFailed reason -> count, most first. */
  failedByReason: Record<string, number>;
  /** saved / (saved + failed), 0..1; null when both are 0. */
  successRate: number | null;
  /** null when nothing was saved. */
  latencyMs: UsageLatency | null;
}

/** The attempts of one UTC day (`YYYY-MM-DD`) that had any. */
export interface UsageDay {
  day: string;
  saved: number;
  unchanged: number;
  failed: number;
}

export interface UsageSelection {
  model: string;
  count: number;
  /** History origin ("client", "external", "restored") -> count. */
  byOrigin: Record<string, number>;
}

export interface UsageTime {
  model: string;
  seconds: number;
}

export interface UsageOverwrites {
  caught: number;
  restored: number;
  kept: number;
}

/** `tuna/usage` (PROTOCOL.md section 10): what the history and the save outcomes say of the last `days` days. */
export interface Usage {
  /** ISO 8601, UTC. */
  since: string;
  until: string;
  saves: UsageSaves;
  /** Per-day counts, oldest first (newer than PROTOCOL 10: absent from older servers). */
  savesByDay?: UsageDay[];
  /** Most first. */
  selections: UsageSelection[];
  /** Most first. */
  timeOnModel: UsageTime[];
  overwrites: UsageOverwrites;
  /** Lines that did not parse. */
  skipped: number;
}

/** `error.data` of a RequestFailed (-32803) answer. */
export interface ConfigErrorData {
  reason: "invalid-config" | "permission-denied" | "lock-timeout" | "io-error" | "unsaved-changes";
  path: string;
}

/** The catalog loaded or was refreshed: the same state, now with the model's name and context window. */
export interface CatalogChangedParams {
  catalog: CatalogDescription | null;
  state: ModelState;
}

/** What the client sends as `initializationOptions` (the server ignores keys it does not know). */
export interface InitializationOptions {
  configPath?: string;
  catalogUrl?: string;
  catalogAutoRefresh?: boolean;
  includeTunacodeRegistry?: boolean;
  /** What to do about a stale overwrite (PROTOCOL 9); default "ask". */
  staleOverwrite?: "ask" | "restore" | "accept";
}

export const getModel = new lc.RequestType0<ModelState, void>("tuna/getModel");
export const setModel = new lc.RequestType<SetModelParams, SetModelResult, void>("tuna/setModel");
export const clearModel = new lc.RequestType<ClearModelParams, ChangeResult, void>("tuna/clearModel");
export const restoreOverwrite = new lc.RequestType<Record<string, never>, ChangeResult, void>("tuna/restoreOverwrite");
export const listModels = new lc.RequestType<ListModelsParams, ListModelsResult, void>("tuna/listModels");
export const history = new lc.RequestType<HistoryParams, HistoryResult, void>("tuna/history");
export const setProviderPreference = new lc.RequestType<SetProviderPreferenceParams, SetProviderPreferenceResult, void>(
  "tuna/setProviderPreference",
);
export const refreshCatalog = new lc.RequestType<RefreshCatalogParams, RefreshCatalogResult, void>("tuna/refreshCatalog");
export const stats = new lc.RequestType0<StatsResult, void>("tuna/stats");
export const usage = new lc.RequestType<UsageParams, Usage, void>("tuna/usage");
export const modelChanged = new lc.NotificationType<ModelState>("tuna/modelChanged");
export const catalogChanged = new lc.NotificationType<CatalogChangedParams>("tuna/catalogChanged");
