/**
 * Entry point: wires the client, the status bar, the commands and the settings together. Holds no logic of its own.
 */
import * as vscode from "vscode";

import { CliTerminals } from "./cli_terminals";
import { TunaClient } from "./client";
import { registerCommands } from "./commands";
import * as config from "./config";
import { ModelStatusBar } from "./status_bar";
import { UsagePanel } from "./usage_panel";

let client: TunaClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel("TunaCode", { log: true });
  client = new TunaClient(context.extensionUri.fsPath, log, context.globalStorageUri.scheme === "file" ? context.globalStorageUri.fsPath : undefined);
  const c = client;
  const terminals = new CliTerminals(c);
  const usage = new UsagePanel(c);
  const ctx = { client: c, terminals, extensionUri: context.extensionUri, usage };

  context.subscriptions.push(
    log,
    c,
    terminals,
    usage,
    new ModelStatusBar(c),
    ...registerCommands(ctx),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      c.trustGranted();
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (config.needsRestart(event)) {
        log.info("a server setting changed");
        void c.restart();
      }
    }),
  );
  void c.start();
}

export async function deactivate(): Promise<void> {
  const c = client;
  client = undefined;
  await c?.stop();
}
