/**
 * The tunacode terminals this window started ("Start tunacode in Terminal"), and keeping them on the model chosen
 * through tuna-lsp: on a tuna/modelChanged that `follow.ts` says to follow, `/model <model>` is typed into them,
 * after asking when `tunacode.cli.followModelChanges` is ask.
 *
 * Owns the terminals it created; never types into any other terminal.
 */
import * as vscode from "vscode";

import type { TunaClient } from "./client";
import * as config from "./config";
import { lookupEnv } from "./discovery";
import { followDecision, followSetting, modelCommand, type FollowSetting } from "./follow";
import { resolveProgram } from "./locations";
import type { ModelState } from "./lsp_ext";
import { hostOs, osReleaseText, pipInstallCommand } from "./platform";

interface Started {
  id: number;
  /** The model it runs as far as this window knows: what it was started with or last switched to. */
  model: string | undefined;
}

export class CliTerminals implements vscode.Disposable {
  private readonly started = new Map<vscode.Terminal, Started>();
  private nextId = 1;
  /** The model a follow notification is showing for, so that one change asks once. */
  private asking: string | undefined;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly client: TunaClient) {
    this.subscriptions = [
      client.onModelChanged((state) => {
        this.follow(state);
      }),
      vscode.window.onDidCloseTerminal((t) => {
        this.started.delete(t);
      }),
    ];
  }

  /** Starts `tunacode --model <effective model>` in a terminal (the workspace or session choice included). */
  async start(): Promise<void> {
    const [program = "tunacode", ...args] = config.cliCommand();
    const resolved = resolveProgram(program, lookupEnv());
    if (resolved === undefined) {
      const install = pipInstallCommand(hostOs(process.platform, osReleaseText(process.platform)), "tunacode-cli");
      const choice = await vscode.window.showErrorMessage(
        `TunaCode: the tunacode CLI ("${program}") was not found on PATH. Install it with ` +
          `\`${install}\`, or set tunacode.cli.command in your user settings.`,
        "Open Settings",
      );
      if (choice === "Open Settings") {
        await vscode.commands.executeCommand("workbench.action.openSettings", "tunacode.cli.command");
      }
      return;
    }
    const model = this.client.state?.model;
    if (model === undefined) {
      void vscode.window.showWarningMessage(
        "TunaCode: the server has not reported a model; tunacode starts with its own default.",
      );
    }
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === "file");
    // The program runs directly, not through a shell: the model string is one argument, never shell text, and
    // when tunacode exits the terminal ends, so nothing typed later can reach a shell.
    const terminal = vscode.window.createTerminal({
      name: model !== undefined ? `tunacode (${model})` : "tunacode",
      shellPath: resolved,
      shellArgs: model !== undefined ? [...args, "--model", model] : args,
      ...(folder !== undefined ? { cwd: folder.uri } : {}),
    });
    this.started.set(terminal, { id: this.nextId++, model });
    terminal.show();
  }

  private running(): [vscode.Terminal, Started][] {
    return [...this.started].filter(([t]) => t.exitStatus === undefined);
  }

  private follow(state: ModelState): void {
    const decision = followDecision(
      state,
      this.running().map(([, s]) => s),
      followSetting(config.followModelChanges()),
    );
    if (decision.kind === "none") {
      if (this.started.size > 0) {
        this.client.log.info(`follow: ${state.model} not typed: ${decision.why}`);
      }
      return;
    }
    if (decision.kind === "switch") {
      this.switchTo(decision.model);
      return;
    }
    if (this.asking === decision.model) {
      return;
    }
    this.asking = decision.model;
    const count = decision.terminals.length;
    void vscode.window
      .showInformationMessage(
        `TunaCode: the model is now ${decision.model}. Switch the tunacode ${count === 1 ? "session" : `sessions (${String(count)})`} ` +
          "started from this window to it? (types /model into the terminal)",
        "Switch",
        "Always",
        "Never",
      )
      .then(async (choice) => {
        if (this.asking === decision.model) {
          this.asking = undefined;
        }
        if (choice === "Always" || choice === "Never") {
          await this.remember(choice === "Always" ? "always" : "never");
        }
        if (choice === "Switch" || choice === "Always") {
          this.switchTo(decision.model);
        }
      });
  }

  /** Types the model into every running terminal that has another one, if it is still the global choice. */
  private switchTo(model: string): void {
    const now = this.client.state;
    if (now === undefined || now.model !== model || now.scope !== "global") {
      this.client.log.info(`follow: ${model} is no longer the global model here; nothing typed`);
      return;
    }
    for (const [terminal, s] of this.running()) {
      if (s.model !== model) {
        terminal.sendText(modelCommand(model), true);
        s.model = model;
        this.client.log.info(`follow: typed /model ${model} into terminal ${String(s.id)}`);
      }
    }
  }

  private async remember(value: Exclude<FollowSetting, "ask">): Promise<void> {
    try {
      await config.setFollowModelChanges(value);
    } catch (error) {
      this.client.log.warn(`could not save tunacode.cli.followModelChanges: ${String(error)}`);
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) {
      s.dispose();
    }
  }
}
