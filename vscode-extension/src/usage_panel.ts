/**
 * The webview panel of TunaCode: Show Model Usage: asks the server for `tuna/usage` and shows usage_view's page. One
 * panel at a time; it asks again (debounced) when the model changes and when it comes back into view after a change.
 * No script runs in it: the days selector is `command:tunacode.showUsage` links, the only command the page may run.
 */
import * as crypto from "crypto";
import * as vscode from "vscode";
import * as lc from "vscode-languageclient/node";

import { errorText, type TunaClient } from "./client";
import { DEFAULT_DAYS, SHOW_USAGE_COMMAND, daysArg, daysLink, escapeHtml, renderUsage } from "./usage_view";

const REFRESH_DEBOUNCE_MS = 400;

export class UsagePanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private days = DEFAULT_DAYS;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private seq = 0;
  /** A change arrived while the panel was out of view: ask again when it shows. */
  private stale = false;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly client: TunaClient) {
    this.subscriptions.push(
      client.onModelChanged(() => {
        this.schedule();
      }),
    );
  }

  /** Opens (or brings forward) the panel and shows the last `days` days. */
  async show(arg?: unknown): Promise<void> {
    this.days = daysArg(arg, this.days);
    if (this.panel === undefined) {
      const panel = vscode.window.createWebviewPanel("tunacode.usage", "TunaCode Model Usage", vscode.ViewColumn.Active, {
        enableScripts: false,
        enableCommandUris: [SHOW_USAGE_COMMAND],
        localResourceRoots: [],
        enableFindWidget: true,
      });
      this.panel = panel;
      panel.onDidDispose(() => {
        if (this.panel === panel) {
          this.panel = undefined;
        }
      });
      panel.onDidChangeViewState(() => {
        if (panel.visible && this.stale) {
          this.schedule();
        }
      });
      panel.webview.html = this.page("<p>Asking tuna-lsp…</p>");
    } else {
      this.panel.reveal(undefined, false);
    }
    await this.refresh();
  }

  /** Asks again in a moment: model changes come in bursts (a save, then the watcher seeing it). */
  private schedule(): void {
    if (this.panel === undefined) {
      return;
    }
    if (!this.panel.visible) {
      this.stale = true;
      return;
    }
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, REFRESH_DEBOUNCE_MS);
  }

  private async refresh(): Promise<void> {
    const panel = this.panel;
    if (panel === undefined) {
      return;
    }
    const mine = ++this.seq;
    this.stale = false;
    const days = this.days;
    try {
      const usage = await this.client.usage({ days });
      if (mine !== this.seq || this.panel !== panel) {
        return;
      }
      panel.webview.html = renderUsage(usage, {
        nonce: crypto.randomBytes(16).toString("base64"),
        cspSource: panel.webview.cspSource,
        days,
        currentModel: this.client.state?.model,
        currentScope: this.client.state?.scope,
        globalModel: this.client.state?.persistedModel ?? undefined,
      });
    } catch (error) {
      if (mine !== this.seq || this.panel !== panel) {
        return;
      }
      const why =
        error instanceof lc.ResponseError && error.code === lc.ErrorCodes.MethodNotFound
          ? "this tuna-lsp is older than tuna/usage: update the server"
          : errorText(error);
      this.client.log.warn(`tuna/usage failed: ${why}`);
      panel.webview.html = this.page(
        `<p>Could not read the usage: ${escapeHtml(why)}</p><p><a href="${escapeHtml(daysLink(days))}">Try again</a></p>`,
      );
    }
  }

  /** A plain page (waiting, or what went wrong), under the same policy. */
  private page(body: string): string {
    const nonce = crypto.randomBytes(16).toString("base64");
    const csp = `default-src 'none'; style-src ${this.panel?.webview.cspSource ?? "'none'"} 'nonce-${nonce}'`;
    return (
      `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">` +
      `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">` +
      `<style nonce="${nonce}">body { font-family: var(--vscode-font-family); color: var(--vscode-foreground); padding: 8px 24px; }` +
      ` a { color: var(--vscode-textLink-foreground); }</style>` +
      `</head><body><h1>TunaCode model usage</h1>${body}</body></html>`
    );
  }

  dispose(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    for (const s of this.subscriptions) {
      s.dispose();
    }
    this.panel?.dispose();
  }
}
