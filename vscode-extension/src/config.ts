/**
 * The extension's settings, read the way their scope demands.
 *
 * `tunacode.server.command`, `tunacode.configPath` and `tunacode.cli.command` choose what runs and where the
 * server writes, so they are taken from the user's own settings only (default or global value), never from a
 * workspace's `.vscode/settings.json`: a cloned repository must not pick them. VS Code already ignores workspace
 * values of machine-scoped settings; reading `globalValue` keeps that true whatever the editor does.
 */
import * as vscode from "vscode";

export const SECTION = "tunacode";

/** Settings whose change needs a new server process. */
const RESTART_KEYS = ["server.command", "configPath"] as const;

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

export function configPath(): string {
  const value = userValue<unknown>("configPath", "");
  return typeof value === "string" ? value : "";
}

export function cliCommand(): string[] {
  const command = stringArray(userValue<unknown>("cli.command", ["tunacode"]));
  return command.length > 0 ? command : ["tunacode"];
}

export function needsRestart(event: vscode.ConfigurationChangeEvent): boolean {
  return RESTART_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
}
