/**
 * The model picker: a QuickPick whose rows come from `tuna/listModels`, asked again (debounced) as the user types.
 * Resolves with the model the user accepted, or undefined; setting it is the caller's (commands.ts). The rows
 * themselves are model_picks.ts's; this module only shows them.
 */
import * as vscode from "vscode";

import { errorText, type TunaClient } from "./client";
import { buildModelRows, listedTitle, rowIcon, type PickRow } from "./model_picks";

const LIST_LIMIT = 100;
/** How long the user may pause typing before the server is asked again. */
const DEBOUNCE_MS = 120;

interface ModelItem extends vscode.QuickPickItem {
  model?: string;
}

function toItems(rows: readonly PickRow[]): ModelItem[] {
  return rows.map((row): ModelItem => {
    if (row.kind === "separator") {
      return { label: row.label, kind: vscode.QuickPickItemKind.Separator };
    }
    return {
      label: `${rowIcon(row)}${row.label}`,
      description: row.description,
      detail: row.detail,
      model: row.model,
      // The server filters and ranks; VS Code's own label filter would hide its matches on name or provider.
      alwaysShow: true,
    };
  });
}

/** Shows the picker; resolves with the accepted model when it closes, or undefined when nothing was accepted. */
export function pickModel(client: TunaClient, text: { title: string; placeholder: string }): Promise<string | undefined> {
  return new ModelPicker(client, text).run();
}

class ModelPicker {
  private readonly qp = vscode.window.createQuickPick<ModelItem>();
  private readonly subscriptions: vscode.Disposable[] = [];
  /** The number of the latest load: an answer to an earlier one is dropped. */
  private seq = 0;
  private pending: vscode.CancellationTokenSource | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private chosen: string | undefined;

  constructor(
    private readonly client: TunaClient,
    private readonly text: { title: string; placeholder: string },
  ) {
    this.qp.title = text.title;
    this.qp.placeholder = text.placeholder;
    this.qp.matchOnDescription = true;
    this.qp.matchOnDetail = true;
    this.keepServerOrder();
  }

  run(): Promise<string | undefined> {
    return new Promise((resolve) => {
      this.subscriptions.push(
        this.qp.onDidChangeValue((value) => {
          this.loadSoon(value);
        }),
        this.qp.onDidAccept(() => {
          this.accept();
        }),
        this.qp.onDidHide(() => {
          this.close();
          resolve(this.chosen);
        }),
      );
      this.qp.show();
      void this.load("");
    });
  }

  /**
   * The server ranks the matches (current, recents, how well the words fit). VS Code's default sorts them by label
   * as the user types, which undoes that and drops the separators. `sortByLabel` is a proposed API: where an editor
   * lacks it, setting it does nothing; one that refused it would keep its own order.
   */
  private keepServerOrder(): void {
    try {
      (this.qp as vscode.QuickPick<ModelItem> & { sortByLabel?: boolean }).sortByLabel = false;
    } catch {
      this.client.log.info("the picker keeps the editor's own order (sortByLabel is not available)");
    }
  }

  private loadSoon(query: string): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      void this.load(query);
    }, DEBOUNCE_MS);
  }

  /** Asks the server for the rows of `query`, cancelling the previous request; shows them if still the latest. */
  private async load(query: string): Promise<void> {
    const mine = ++this.seq;
    this.pending?.cancel();
    this.pending = new vscode.CancellationTokenSource();
    const token = this.pending.token;
    this.qp.busy = true;
    try {
      const params = query.trim() !== "" ? { query, limit: LIST_LIMIT } : { limit: LIST_LIMIT };
      const result = await this.client.listModels(params, token);
      this.qp.title = listedTitle(this.text.title, result.items.length, result.total);
      if (mine === this.seq && !token.isCancellationRequested) {
        this.show(buildModelRows(result.items, result.total, query), query);
      }
    } catch (error) {
      if (mine === this.seq && !token.isCancellationRequested) {
        this.client.log.warn(`tuna/listModels failed: ${errorText(error)}`);
        this.qp.items = [{ label: "$(error) Could not list models", detail: errorText(error), alwaysShow: true }];
      }
    } finally {
      if (mine === this.seq) {
        this.qp.busy = false;
      }
    }
  }

  /** Shows the rows; with no query, the current model is the active row. */
  private show(rows: readonly PickRow[], query: string): void {
    const items = toItems(rows);
    this.qp.items = items;
    if (query.trim() === "") {
      const current = items.find((i) => i.model !== undefined && i.model === this.client.state?.model);
      if (current !== undefined) {
        this.qp.activeItems = [current];
      }
    }
  }

  private accept(): void {
    const item = this.qp.selectedItems[0] ?? this.qp.activeItems[0];
    if (item?.model === undefined) {
      return;
    }
    this.chosen = item.model;
    this.qp.hide();
  }

  private close(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
    }
    this.pending?.cancel();
    for (const s of this.subscriptions) {
      s.dispose();
    }
    this.qp.dispose();
  }
}
