/**
 * The status bar item: shows what `model_status` renders for the client's phase and the server's latest
 * ModelState; a click opens the model picker.
 */
import * as vscode from "vscode";

import type { TunaClient } from "./client";
import {
  renderFailed,
  renderModelStatus,
  renderStarting,
  renderStopped,
  TOOLTIP_COMMANDS,
  type StatusView,
} from "./model_status";

export const STATUS_ITEM_ID = "tunacode.model";

export class ModelStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly client: TunaClient) {
    this.item = vscode.window.createStatusBarItem(STATUS_ITEM_ID, vscode.StatusBarAlignment.Right, 100);
    this.item.name = "TunaCode Model";
    this.subscription = client.onDidChange(() => {
      this.update();
    });
    this.update();
    this.item.show();
  }

  private view(): StatusView {
    const phase = this.client.phase;
    switch (phase.kind) {
      case "failed":
        return renderFailed(phase.reason, phase.tried);
      case "stopped":
        return renderStopped();
      case "starting":
        return renderStarting();
      case "running": {
        const state = this.client.state;
        return state !== undefined ? renderModelStatus(state) : renderStarting();
      }
    }
  }

  update(): void {
    const view = this.view();
    this.item.text = view.text;
    const tooltip = new vscode.MarkdownString(view.tooltip, true);
    tooltip.isTrusted = { enabledCommands: [...TOOLTIP_COMMANDS] };
    this.item.tooltip = tooltip;
    this.item.accessibilityInformation = { label: view.accessibilityLabel };
    switch (view.severity) {
      case "error":
        this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
        this.item.color = new vscode.ThemeColor("statusBarItem.errorForeground");
        this.item.command = "tunacode.showInstallInstructions";
        break;
      case "warning":
        this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.warningBackground");
        this.item.color = new vscode.ThemeColor("statusBarItem.warningForeground");
        this.item.command = this.client.phase.kind === "running" ? "tunacode.selectModel" : "tunacode.restartServer";
        break;
      default:
        this.item.backgroundColor = undefined;
        this.item.color = undefined;
        this.item.command = "tunacode.selectModel";
    }
  }

  dispose(): void {
    this.subscription.dispose();
    this.item.dispose();
  }
}
