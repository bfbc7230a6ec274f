/**
 * The `tunacode.*` commands. Each one asks the client for what it needs and tells the user the outcome; none
 * throws at VS Code: failures become messages.
 */
import * as fs from "fs";
import * as os from "os";
import * as vscode from "vscode";
import * as lc from "vscode-languageclient/node";

import type { CliTerminals } from "./cli_terminals";
import { errorText, ServerNotRunning, type TunaClient } from "./client";
import * as config from "./config";
import { sharedConfigPath } from "./locations";
import type { ChangeResult, ConfigErrorData, SetScope } from "./lsp_ext";
import { pickModel } from "./model_picker";
import { buildHistoryRows, clearChoices, pickerText, type ClearChoice } from "./model_picks";
import type { UsagePanel } from "./usage_panel";

const REQUEST_FAILED = -32803;

export interface Ctx {
  client: TunaClient;
  terminals: CliTerminals;
  extensionUri: vscode.Uri;
  usage: UsagePanel;
}

/** `arg`: what the command was run with (the usage page's days links pass `{days}`); undefined from the palette. */
type Command = (ctx: Ctx, arg?: unknown) => Promise<void>;

function notRunning(ctx: Ctx): void {
  void vscode.window
    .showErrorMessage("TunaCode: the tuna-lsp server is not running.", "Restart Server", "Show Logs")
    .then((choice) => {
      if (choice === "Restart Server") {
        void ctx.client.restart();
      } else if (choice === "Show Logs") {
        ctx.client.log.show();
      }
    });
}

/** Tells the user why a request failed, in the server's words. */
function reportFailure(ctx: Ctx, what: string, error: unknown): void {
  if (error instanceof ServerNotRunning) {
    notRunning(ctx);
    return;
  }
  if (error instanceof lc.ResponseError && error.code === REQUEST_FAILED) {
    const data = error.data as ConfigErrorData | undefined;
    void vscode.window.showErrorMessage(`TunaCode: ${error.message}`, "Open Config").then((choice) => {
      if (choice === "Open Config" && data?.path !== undefined) {
        void openFile(data.path);
      }
    });
    return;
  }
  const message = error instanceof lc.ResponseError ? error.message : errorText(error);
  ctx.client.log.warn(`${what} failed: ${message}`);
  void vscode.window.showErrorMessage(`TunaCode: ${what} failed: ${message}`);
}

/** Tells the user the outcome of a change: the server's message, and its warnings. */
function announce(result: ChangeResult): void {
  void vscode.window.showInformationMessage(result.message);
  if (result.warnings.length > 0) {
    void vscode.window.showWarningMessage(`TunaCode: ${result.warnings.join(" ")}`);
  }
}

async function applyModel(ctx: Ctx, model: string, scope: SetScope): Promise<void> {
  try {
    announce(await ctx.client.setModel({ model, scope }));
  } catch (error) {
    reportFailure(ctx, "Setting the model", error);
  }
}

/** Picks a model for `scope` and sets it; tells the user why not when the server is not running or no folder is open. */
async function selectModel(ctx: Ctx, scope: SetScope): Promise<void> {
  if (ctx.client.phase.kind !== "running") {
    notRunning(ctx);
    return;
  }
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (scope === "workspace" && folder === undefined) {
    void vscode.window.showErrorMessage(
      "TunaCode: no folder is open, so there is no workspace to remember a model for. Open a folder, or use " +
        "Select Model for This Session.",
    );
    return;
  }
  const chosen = await pickModel(ctx.client, pickerText(scope, folder?.name));
  if (chosen !== undefined) {
    await applyModel(ctx, chosen, scope);
  }
}

async function openFile(path: string): Promise<void> {
  if (!fs.existsSync(path)) {
    void vscode.window.showInformationMessage(
      `TunaCode: there is no config at ${path} yet; it is created the first time a model is selected.`,
    );
    return;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(path));
  await vscode.window.showTextDocument(doc);
}

const openConfig: Command = async (ctx) => {
  const path =
    ctx.client.state?.configPath ??
    sharedConfigPath(config.configPath(), process.env.TUNACODE_CONFIG, os.homedir(), process.platform);
  try {
    await openFile(path);
  } catch (error) {
    void vscode.window.showErrorMessage(`TunaCode: could not open ${path}: ${errorText(error)}`);
  }
};

const showHistory: Command = async (ctx) => {
  let rows;
  try {
    rows = buildHistoryRows((await ctx.client.history({ limit: 50 })).entries);
  } catch (error) {
    reportFailure(ctx, "Reading the model history", error);
    return;
  }
  if (rows.length === 0) {
    void vscode.window.showInformationMessage("TunaCode: no model changes recorded yet.");
    return;
  }
  const picked = await vscode.window.showQuickPick(rows, {
    title: "TunaCode: Model History (newest first)",
    placeHolder: "Pick an entry to use its model again (saved to the shared config)",
    matchOnDescription: true,
    matchOnDetail: true,
  });
  if (picked !== undefined) {
    await applyModel(ctx, picked.model, "global");
  }
};

const clearModel: Command = async (ctx) => {
  if (ctx.client.phase.kind !== "running") {
    notRunning(ctx);
    return;
  }
  const choices = clearChoices(ctx.client.state);
  if (choices.length === 0) {
    void vscode.window.showInformationMessage(
      "TunaCode: nothing to clear: this window has no session or workspace choice (its model is the global one).",
    );
    return;
  }
  const picked = await vscode.window.showQuickPick<ClearChoice & vscode.QuickPickItem>(choices, {
    title: "TunaCode: Clear Session or Workspace Model",
    placeHolder: "Which choice to drop",
  });
  if (picked === undefined) {
    return;
  }
  try {
    announce(await ctx.client.clearModel(picked.scope));
  } catch (error) {
    reportFailure(ctx, `Clearing the ${picked.scope} model`, error);
  }
};

const restoreOverwrite: Command = async (ctx) => {
  try {
    announce(await ctx.client.restoreOverwrite());
  } catch (error) {
    reportFailure(ctx, "Restoring the model", error);
  }
};

const showInstallInstructions: Command = async (ctx) => {
  // vsce stores the README as readme.md; a development checkout has README.md.
  const readme =
    ["readme.md", "README.md"]
      .map((name) => vscode.Uri.joinPath(ctx.extensionUri, name))
      .find((uri) => fs.existsSync(uri.fsPath)) ?? vscode.Uri.joinPath(ctx.extensionUri, "README.md");
  try {
    await vscode.commands.executeCommand("markdown.showPreview", readme);
  } catch {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(readme));
  }
};

export function registerCommands(ctx: Ctx): vscode.Disposable[] {
  const commands: Record<string, Command> = {
    "tunacode.selectModel": (c) => selectModel(c, "global"),
    "tunacode.selectModelForSession": (c) => selectModel(c, "session"),
    "tunacode.selectWorkspaceModel": (c) => selectModel(c, "workspace"),
    "tunacode.clearModel": clearModel,
    "tunacode.restoreOverwrite": restoreOverwrite,
    "tunacode.openConfig": openConfig,
    "tunacode.showHistory": showHistory,
    "tunacode.showUsage": (c, arg) => c.usage.show(arg),
    "tunacode.restartServer": (c) => c.client.restart(),
    "tunacode.showLogs": (c) => {
      c.client.log.show();
      return Promise.resolve();
    },
    "tunacode.startTerminal": (c) => c.terminals.start(),
    "tunacode.showInstallInstructions": showInstallInstructions,
  };
  return Object.entries(commands).map(([id, run]) =>
    vscode.commands.registerCommand(id, async (arg?: unknown) => {
      try {
        await run(ctx, arg);
      } catch (error) {
        ctx.client.log.error(`${id}: ${errorText(error)}`);
        void vscode.window.showErrorMessage(`TunaCode: ${errorText(error)}`);
      }
    }),
  );
}
