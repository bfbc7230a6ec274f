/**
 * The custom messages of tuna-lsp (shared/PROTOCOL.md sections 3, 4 and 6), typed for vscode-languageclient.
 *
 * Owns the wire names and shapes only. The plain interfaces are imported with `import type` by the pure
 * modules (status formatting, quick pick items), so nothing here may be needed at run time by them.
 */
import * as lc from "vscode-languageclient/node";

export type Scope = "session" | "global" | "default";
export type SetScope = "session" | "global";
export type Origin = "initial" | "client" | "external";
export type KeyStatus = "present" | "missing";

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
  /** Present when a bare model id was resolved through the routing preferences. */
  resolvedFrom?: string | null;
  /** False while the shared config on disk is invalid and the server keeps its last good state (an extension). */
  configValid?: boolean;
}

export interface SetModelParams {
  model: string;
  scope?: SetScope;
}

export interface SetModelResult extends ModelState {
  message: string;
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
}

export interface ListModelsParams {
  query?: string;
  provider?: string;
  limit?: number;
}

export interface ListModelsResult {
  items: ModelInfo[];
  total: number;
}

export interface HistoryParams {
  limit?: number;
}

export interface HistoryEntry {
  ts: string;
  previous: string | null;
  model: string;
  scope: Scope;
  origin: Origin;
  client: string | null;
}

export interface HistoryResult {
  entries: HistoryEntry[];
}

/** `error.data` of a RequestFailed (-32803) answer to `tuna/setModel`. */
export interface ConfigErrorData {
  reason: "invalid-config" | "permission-denied" | "lock-timeout" | "io-error";
  path: string;
}

export const getModel = new lc.RequestType0<ModelState, void>("tuna/getModel");
export const setModel = new lc.RequestType<SetModelParams, SetModelResult, void>("tuna/setModel");
export const listModels = new lc.RequestType<ListModelsParams, ListModelsResult, void>("tuna/listModels");
export const history = new lc.RequestType<HistoryParams, HistoryResult, void>("tuna/history");
export const modelChanged = new lc.NotificationType<ModelState>("tuna/modelChanged");

/** The catalog loaded or was refreshed: the same state, now with the model's name and context window. */
export interface CatalogChangedParams {
  catalog: unknown;
  state: ModelState;
}
export const catalogChanged = new lc.NotificationType<CatalogChangedParams>("tuna/catalogChanged");
