/**
 * The extension's settings, read the way their scope demands.
 *
 * `tunacode.server.command`, `tunacode.configPath`, `tunacode.cli.command` and `tunacode.trace.server` choose what
 * runs, where the server writes and what is logged; `tunacode.cli.followModelChanges` and `tunacode.cli.staleOverwrite`
 * decide what is typed into a terminal and written to the shared config. All are taken from the user's own settings
 * only (default or global value), never from a workspace's `.vscode/settings.json`: a cloned repository must not
 * pick them. VS Code already ignores workspace values of machine- and application-scoped settings; reading
 * `globalValue` keeps that true whatever the editor does.
 */
import * as vscode from "vscode";

export const SECTION = "tunacode";

/** Settings whose change needs a new server process. */
const RESTART_KEYS = ["server.command", "server.python", "configPath", "cli.staleOverwrite"] as const;

function userValue<T>(key: string, fallback: T): T {
  const inspected = vscode.workspace.getConfiguration(SECTION).inspect<T>(key);
  return inspected?.globalValue ?? inspected?.defaultValue ?? fallback;
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

export function serverCommand(): string[] {
  return stringArray(userValue<unknown>("server.command", []));
}

/** `tunacode.server.python`: the Python that runs the bundled server; empty when unset. */
export function serverPython(): string {
  const value = userValue<unknown>("server.python", "");
  return typeof value === "string" ? value.trim() : "";
}

export function configPath(): string {
  const value = userValue<unknown>("configPath", "");
  return typeof value === "string" ? value : "";
}

export function cliCommand(): string[] {
  const command = stringArray(userValue<unknown>("cli.command", ["tunacode"]));
  return command.length > 0 ? command : ["tunacode"];
}

/** `tunacode.cli.followModelChanges` as set (the caller checks the value). */
export function followModelChanges(): unknown {
  return userValue<unknown>("cli.followModelChanges", "ask");
}

/** Saves the answer "Always" or "Never" of a follow notification in the user's settings. */
export async function setFollowModelChanges(value: "always" | "never"): Promise<void> {
  await vscode.workspace.getConfiguration(SECTION).update("cli.followModelChanges", value, vscode.ConfigurationTarget.Global);
}

export type StaleOverwrite = "ask" | "restore" | "accept";

/** `tunacode.cli.staleOverwrite`, sent as initializationOptions.staleOverwrite; anything unknown is ask. */
export function staleOverwrite(): StaleOverwrite {
  const value = userValue<unknown>("cli.staleOverwrite", "ask");
  return value === "restore" || value === "accept" ? value : "ask";
}

export function needsRestart(event: vscode.ConfigurationChangeEvent): boolean {
  return RESTART_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
}
