/**
 * The page of TunaCode: Show Model Usage: the `Usage` object of `tuna/usage` (PROTOCOL.md section 10) as HTML with
 * inline SVG charts and the same figures as text.
 *
 * Pure: Usage in, an HTML string out. Must not import vscode. Nothing remote: no script, no image, no font, no URL
 * but `command:tunacode.showUsage` links (the days selector); the only style is one <style> element carrying the
 * nonce the Content-Security-Policy allows (no style attributes, which that policy would block). Colours are the
 * editor theme's CSS variables. Everything that came from outside (model names, failure reasons, origins) is
 * escaped.
 */
import type { Usage, UsageDay, UsageSelection, UsageTime } from "./lsp_ext";

/** The targets the project is judged by (PROTOCOL.md section 10). */
export const LATENCY_BUDGET_MS = 100;
export const SUCCESS_TARGET = 0.999;
/** What the days selector offers. */
export const DAY_CHOICES: readonly number[] = [7, 30, 90, 365];
export const SHOW_USAGE_COMMAND = "tunacode.showUsage";
export const DEFAULT_DAYS = 30;

/** The days asked for by a `command:tunacode.showUsage?[{"days":N}]` link or a caller; `fallback` otherwise. */
export function daysArg(arg: unknown, fallback = DEFAULT_DAYS): number {
  if (typeof arg === "object" && arg !== null && "days" in arg) {
    const days = arg.days;
    if (typeof days === "number" && Number.isInteger(days) && days >= 1 && days <= 3650) {
      return days;
    }
  }
  return fallback;
}

export interface ViewOptions {
  /** The nonce of the one <style> element (the CSP names it). */
  nonce: string;
  /** `Webview.cspSource`: the webview's own origin, allowed for styles. */
  cspSource: string;
  /** The days asked for (the selector marks it). */
  days: number;
  /** This window's model now, or undefined when not known. */
  currentModel?: string;
  /** Its scope ("session", "workspace", "global", "default"): said next to it unless global. */
  currentScope?: string;
  /** The global model now (the shared config's): marked in the time chart. */
  globalModel?: string;
  /** A line shown above the charts: a refresh that failed, say. */
  notice?: string;
}

// Chart geometry, in CSS pixels: the SVGs scale down in a narrow panel, never up.
const WIDTH = 640;
const LABEL_W = 220;
const VALUE_W = 90;
const BAR_W = WIDTH - LABEL_W - VALUE_W;
const ROW_H = 26;
const MAX_ROWS = 12;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The origins of a change of the global model in the history, as the legend names them. */
const ORIGINS: readonly { key: string; label: string; cls: string }[] = [
  { key: "client", label: "from an editor (tuna-lsp)", cls: "o-client" },
  { key: "external", label: "by the CLI or a hand edit", cls: "o-external" },
  { key: "restored", label: "restored after an overwrite", cls: "o-restored" },
];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${String(c.charCodeAt(0))};`);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${String(n)} ${n === 1 ? one : many}`;
}

/** 0.3333 -> "33.33%", as `tuna-lsp usage` prints it. */
export function formatPercent(rate: number): string {
  return `${(rate * 100).toFixed(2)}%`;
}

export function formatMs(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}

/** Seconds as `tuna-lsp usage` prints them: "2d 3h 4m", "3h 4m", "4m 5s". */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  if (days > 0) {
    return `${String(days)}d ${String(hours)}h ${String(minutes)}m`;
  }
  if (hours > 0) {
    return `${String(hours)}h ${String(minutes)}m`;
  }
  return `${String(minutes)}m ${String(secs)}s`;
}

/** The one-line summary of the saves, e.g. "4 attempts, 1 saved, 1 unchanged, 2 failed · success 33.33% (target 99.9%)". */
export function savesSummary(u: Usage): string {
  const s = u.saves;
  const rate = s.successRate === null ? "n/a" : formatPercent(s.successRate);
  return (
    `${plural(s.attempts, "attempt")}, ${String(s.saved)} saved, ${String(s.unchanged)} unchanged, ` +
    `${String(s.failed)} failed · success ${rate} (target ${targetText()})`
  );
}

function targetText(): string {
  return `${String(SUCCESS_TARGET * 100)}%`;
}

/** The latency figures as text, or undefined when nothing was saved. */
export function latencySummary(u: Usage): string | undefined {
  const l = u.saves.latencyMs;
  if (l === null) {
    return undefined;
  }
  const over = (["p50", "p90", "p99", "max"] as const).filter((k) => l[k] > LATENCY_BUDGET_MS);
  const verdict =
    over.length === 0 ? "all under the budget" : `${over.join(", ")} over the budget`;
  return (
    `p50 ${formatMs(l.p50)}, p90 ${formatMs(l.p90)}, p99 ${formatMs(l.p99)}, max ${formatMs(l.max)} ` +
    `(budget ${String(LATENCY_BUDGET_MS)} ms: ${verdict})`
  );
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** `command:` URI of the days selector (the only links on the page). */
export function daysLink(days: number): string {
  return `command:${SHOW_USAGE_COMMAND}?${encodeURIComponent(JSON.stringify([{ days }]))}`;
}

function daysLabel(days: number): string {
  return days === 365 ? "1 year" : plural(days, "day");
}

function svg(height: number, label: string, body: string): string {
  return (
    `<svg class="chart" width="${String(WIDTH)}" height="${String(height)}" viewBox="0 0 ${String(WIDTH)} ${String(height)}" ` +
    `role="img" aria-label="${escapeHtml(label)}">${body}</svg>`
  );
}

function n2(x: number): string {
  return String(Math.round(x * 100) / 100);
}

function rect(x: number, y: number, w: number, h: number, cls: string, title?: string): string {
  const t = title !== undefined ? `<title>${escapeHtml(title)}</title>` : "";
  return `<rect class="${cls}" x="${n2(x)}" y="${n2(y)}" width="${n2(Math.max(0, w))}" height="${n2(h)}">${t}</rect>`;
}

function text(x: number, y: number, content: string, cls = "", anchor: "start" | "middle" | "end" = "start"): string {
  const c = cls !== "" ? ` class="${cls}"` : "";
  return `<text${c} x="${n2(x)}" y="${n2(y)}" text-anchor="${anchor}">${escapeHtml(content)}</text>`;
}

function line(x1: number, y1: number, x2: number, y2: number, cls: string): string {
  return `<line class="${cls}" x1="${n2(x1)}" y1="${n2(y1)}" x2="${n2(x2)}" y2="${n2(y2)}"/>`;
}

/** Horizontal bars, one row a model: `segments` stack left to right. */
function barRows(
  rows: readonly { label: string; value: string; segments: { n: number; cls: string; title: string }[] }[],
  max: number,
  ariaLabel: string,
): string {
  const h = rows.length * ROW_H + 6;
  const parts: string[] = [];
  rows.forEach((row, i) => {
    const y = i * ROW_H + 4;
    parts.push(`<g><title>${escapeHtml(`${row.label}: ${row.value}`)}</title>`);
    parts.push(text(0, y + 14, shorten(row.label, 32), "label"));
    parts.push(rect(LABEL_W, y, BAR_W, 18, "track"));
    let x = LABEL_W;
    for (const seg of row.segments) {
      const w = max > 0 ? (seg.n / max) * BAR_W : 0;
      parts.push(rect(x, y, w, 18, seg.cls, seg.title));
      x += w;
    }
    parts.push(text(x + 6, y + 14, row.value, "value"));
    parts.push("</g>");
  });
  return svg(h, ariaLabel, parts.join(""));
}

function originOf(key: string): { label: string; cls: string } {
  return ORIGINS.find((o) => o.key === key) ?? { label: key, cls: "o-other" };
}

function selectionsChart(selections: readonly UsageSelection[]): string {
  if (selections.length === 0) {
    return `<p class="empty">No change of the global model in this period.</p>`;
  }
  const shown = selections.slice(0, MAX_ROWS);
  const max = Math.max(...shown.map((s) => s.count));
  const rows = shown.map((s) => ({
    label: s.model,
    value: plural(s.count, "time"),
    segments: Object.entries(s.byOrigin).map(([origin, n]) => ({
      n,
      cls: originOf(origin).cls,
      title: `${s.model}: ${String(n)} ${originOf(origin).label}`,
    })),
  }));
  const used = new Set(shown.flatMap((s) => Object.keys(s.byOrigin)));
  const legend = [...ORIGINS.filter((o) => used.has(o.key)), ...[...used].filter((k) => !ORIGINS.some((o) => o.key === k)).map((k) => ({ key: k, ...originOf(k) }))]
    .map((o) => `<span class="key"><svg width="10" height="10" aria-hidden="true"><rect class="${o.cls}" width="10" height="10"/></svg> ${escapeHtml(o.label)}</span>`)
    .join("");
  const total = selections.reduce((sum, s) => sum + s.count, 0);
  const more = selections.length > shown.length ? ` (the ${String(shown.length)} most chosen shown)` : "";
  return (
    `<p class="figures" id="selections-summary">${escapeHtml(`${plural(total, "change")} of the global model, to ${plural(selections.length, "model")}${more}`)}</p>` +
    barRows(rows, max, "Selections per model") +
    `<p class="legend">${legend}</p>`
  );
}

function timeChart(times: readonly UsageTime[], globalModel: string | undefined): string {
  if (times.length === 0) {
    return `<p class="empty">No time on a model recorded in this period.</p>`;
  }
  const shown = times.slice(0, MAX_ROWS);
  const max = Math.max(...shown.map((t) => t.seconds));
  const total = times.reduce((sum, t) => sum + t.seconds, 0);
  const rows = shown.map((t) => ({
    label: t.model,
    value: t.model === globalModel ? `${formatDuration(t.seconds)} (now)` : formatDuration(t.seconds),
    segments: [
      {
        n: t.seconds,
        cls: t.model === globalModel ? "time now" : "time",
        title: `${t.model}: ${formatDuration(t.seconds)} (${total > 0 ? formatPercent(t.seconds / total) : "n/a"})`,
      },
    ],
  }));
  const legend = shown.some((t) => t.model === globalModel)
    ? `<p class="legend"><span class="key"><svg width="10" height="10" aria-hidden="true"><rect class="time now" width="10" height="10"/></svg> the global model now</span>` +
      `<span class="key"><svg width="10" height="10" aria-hidden="true"><rect class="time" width="10" height="10"/></svg> before</span></p>`
    : "";
  return (
    `<p class="figures" id="time-summary">${escapeHtml(`${formatDuration(total)} in all, on ${plural(times.length, "model")}`)}</p>` +
    barRows(rows, max, "Time as the global model, per model") +
    legend
  );
}

/** `YYYY-MM-DD` of a Date, in UTC. */
function dayOf(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function dayLabel(day: string): string {
  const [, m, d] = day.split("-");
  return `${String(Number(d))} ${MONTHS[Number(m) - 1] ?? "?"}`;
}

interface Bucket {
  first: string;
  last: string;
  saved: number;
  unchanged: number;
  failed: number;
}

/** Every UTC day from `since` to `until`, with its counts (0 for a day without attempts), grouped `per` days a bar. */
export function dayBuckets(since: string, until: string, byDay: readonly UsageDay[], maxBars = 120): { buckets: Bucket[]; per: number } {
  const start = Date.parse(`${since.slice(0, 10)}T00:00:00Z`);
  const end = Date.parse(`${until.slice(0, 10)}T00:00:00Z`);
  const days: string[] = [];
  if (Number.isFinite(start) && Number.isFinite(end)) {
    for (let t = start; t <= end && days.length < 4000; t += 86_400_000) {
      days.push(dayOf(new Date(t)));
    }
  }
  const counts = new Map(byDay.map((d) => [d.day, d]));
  const per = Math.max(1, Math.ceil(days.length / maxBars));
  const buckets: Bucket[] = [];
  for (let i = 0; i < days.length; i += per) {
    const group = days.slice(i, i + per);
    const b: Bucket = { first: group[0] ?? "", last: group.at(-1) ?? "", saved: 0, unchanged: 0, failed: 0 };
    for (const day of group) {
      const c = counts.get(day);
      if (c !== undefined) {
        b.saved += c.saved;
        b.unchanged += c.unchanged;
        b.failed += c.failed;
      }
    }
    buckets.push(b);
  }
  return { buckets, per };
}

function overTimeChart(u: Usage): string {
  const legend =
    `<p class="legend"><span class="key"><svg width="10" height="10" aria-hidden="true"><rect class="saved" width="10" height="10"/></svg> saved</span>` +
    `<span class="key"><svg width="10" height="10" aria-hidden="true"><rect class="unchanged" width="10" height="10"/></svg> unchanged</span>` +
    `<span class="key"><svg width="10" height="10" aria-hidden="true"><rect class="failed" width="10" height="10"/></svg> failed</span>` +
    `<span class="key"><svg width="10" height="10" aria-hidden="true"><path class="marker" d="M5 10 L0 1 L10 1 Z"/></svg> a day with failures</span></p>`;
  let byDay = u.savesByDay;
  let note = "";
  if (byDay === undefined) {
    // A server older than savesByDay: one bar for the whole period, on its last day.
    byDay = [{ day: u.until.slice(0, 10), saved: u.saves.saved, unchanged: u.saves.unchanged, failed: u.saves.failed }];
    note = `<p class="muted">This tuna-lsp does not count saves per day: the period's total is drawn on its last day.</p>`;
  }
  const { buckets, per } = dayBuckets(u.since, u.until, byDay);
  if (buckets.length === 0) {
    return "";
  }
  const top = 22;
  const plotH = 130;
  const left = 34;
  const right = 8;
  const plotW = WIDTH - left - right;
  const h = top + plotH + 26;
  const peak = Math.max(1, ...buckets.map((b) => b.saved + b.unchanged + b.failed));
  const slot = plotW / buckets.length;
  const barW = Math.max(1, slot * 0.72);
  const scale = plotH / peak;
  const base = top + plotH;
  const parts: string[] = [
    line(left, top, left + plotW, top, "grid"),
    line(left, top + plotH / 2, left + plotW, top + plotH / 2, "grid"),
    line(left, base, left + plotW, base, "axis"),
    text(left - 6, top + 4, String(peak), "tick", "end"),
    text(left - 6, base + 4, "0", "tick", "end"),
  ];
  buckets.forEach((b, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    const when = per === 1 ? b.first : `${b.first} to ${b.last}`;
    const title = `${when}: ${String(b.saved)} saved, ${String(b.unchanged)} unchanged, ${String(b.failed)} failed`;
    let y = base;
    const parts2: string[] = [];
    for (const [n, cls] of [
      [b.saved, "saved"],
      [b.unchanged, "unchanged"],
      [b.failed, "failed"],
    ] as const) {
      if (n > 0) {
        y -= n * scale;
        parts2.push(rect(x, y, barW, n * scale, cls));
      }
    }
    if (b.failed > 0) {
      // The failure mark: a red triangle over the bar, and the count when there is room.
      const cx = x + barW / 2;
      const ty = y - 4;
      parts2.push(`<path class="marker" d="M${n2(cx)} ${n2(ty)} L${n2(cx - 5)} ${n2(ty - 8)} L${n2(cx + 5)} ${n2(ty - 8)} Z"/>`);
      if (slot >= 14) {
        parts2.push(text(cx, ty - 10, String(b.failed), "tick failcount", "middle"));
      }
    }
    if (parts2.length > 0) {
      parts.push(`<g><title>${escapeHtml(title)}</title>${parts2.join("")}</g>`);
    }
  });
  // Dates under the axis: the first, the middle and the last bar.
  const marks = new Set([0, Math.floor((buckets.length - 1) / 2), buckets.length - 1]);
  for (const i of marks) {
    const b = buckets[i];
    if (b === undefined) {
      continue;
    }
    const cx = left + i * slot + slot / 2;
    const anchor = i === 0 ? "start" : i === buckets.length - 1 ? "end" : "middle";
    parts.push(text(anchor === "start" ? left : anchor === "end" ? left + plotW : cx, base + 18, dayLabel(b.first), "tick", anchor));
  }
  const failedDays = buckets.filter((b) => b.failed > 0).length;
  const unit = per === 1 ? "day" : `${String(per)} days`;
  const figures = `${plural(buckets.filter((b) => b.saved + b.unchanged + b.failed > 0).length, "bar")} with saves, one bar per ${unit}; ${String(failedDays)} with failures`;
  return (
    `<p class="figures muted" id="over-time-summary">${escapeHtml(figures)}</p>` +
    svg(h, `Saves per ${unit}, failures marked`, parts.join("")) +
    legend +
    note
  );
}

function latencyChart(u: Usage): string {
  const l = u.saves.latencyMs;
  const summary = latencySummary(u);
  if (l === null || summary === undefined) {
    return `<p class="empty">No saved attempt to time in this period.</p>`;
  }
  const rows = [
    ["p50", l.p50],
    ["p90", l.p90],
    ["p99", l.p99],
    ["max", l.max],
  ] as const;
  const top = 22;
  const labelW = 44;
  const valueW = 80;
  const plotW = WIDTH - labelW - valueW;
  const scaleMax = niceCeil(Math.max(LATENCY_BUDGET_MS * 1.25, l.max * 1.05));
  const px = (ms: number): number => labelW + (Math.min(ms, scaleMax) / scaleMax) * plotW;
  const h = top + rows.length * ROW_H + 22;
  const parts: string[] = [];
  rows.forEach(([name, ms], i) => {
    const y = top + i * ROW_H;
    const cls = ms > LATENCY_BUDGET_MS ? "over" : "under";
    parts.push(`<g><title>${escapeHtml(`${name}: ${formatMs(ms)}`)}</title>`);
    parts.push(text(0, y + 14, name, "label"));
    parts.push(rect(labelW, y, plotW, 18, "track"));
    parts.push(rect(labelW, y, px(ms) - labelW, 18, cls));
    parts.push(text(px(ms) + 6, y + 14, formatMs(ms), "value"));
    parts.push("</g>");
  });
  const bx = px(LATENCY_BUDGET_MS);
  const bottom = top + rows.length * ROW_H;
  parts.push(line(bx, top - 6, bx, bottom, "budget"));
  parts.push(text(bx, top - 9, `budget ${String(LATENCY_BUDGET_MS)} ms`, "budget-label", "middle"));
  parts.push(line(labelW, bottom + 2, labelW + plotW, bottom + 2, "axis"));
  parts.push(text(labelW, bottom + 16, "0", "tick", "start"));
  parts.push(text(labelW + plotW, bottom + 16, `${String(scaleMax)} ms`, "tick", "end"));
  return `<p class="figures" id="latency-summary">${escapeHtml(summary)}</p>` + svg(h, "Save latency against the 100 ms budget", parts.join(""));
}

/** 137 -> 150, 1234 -> 1500: a round end for an axis. */
export function niceCeil(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) {
    return 1;
  }
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (m * p >= x) {
      return Math.round(m * p * 1000) / 1000;
    }
  }
  return 10 * p;
}

function successChart(u: Usage): string {
  const rate = u.saves.successRate;
  if (rate === null) {
    return `<p class="empty">No attempt saved or failed in this period (${plural(u.saves.unchanged, "unchanged set")}).</p>`;
  }
  const top = 24;
  const barH = 22;
  const h = top + barH + 24;
  const met = rate >= SUCCESS_TARGET;
  const x = (r: number): number => r * WIDTH;
  const tx = x(SUCCESS_TARGET);
  const parts = [
    rect(0, top, WIDTH, barH, "track"),
    rect(0, top, x(rate), barH, met ? "under" : "over", `success ${formatPercent(rate)}`),
    line(tx, top - 8, tx, top + barH + 4, "budget"),
    text(tx, top - 11, `target ${targetText()}`, "budget-label", "end"),
    text(0, top + barH + 18, "0%", "tick", "start"),
    text(WIDTH / 2, top + barH + 18, "50%", "tick", "middle"),
    text(WIDTH, top + barH + 18, "100%", "tick", "end"),
  ];
  // The figure on the bar, where it fits; else after it.
  parts.push(rate > 0.25 ? text(8, top + 15, formatPercent(rate), "onbar") : text(x(rate) + 6, top + 15, formatPercent(rate), "value"));
  const verdict = met ? "meets the target" : "below the target";
  return (
    `<p class="figures" id="success-summary">${escapeHtml(
      `${formatPercent(rate)} of ${plural(u.saves.saved + u.saves.failed, "attempt")} saved (unchanged ones aside): ${verdict} of ${targetText()}`,
    )}</p>` + svg(h, `Success rate against the ${targetText()} target`, parts.join(""))
  );
}

function card(label: string, big: string, sub: string, cls = ""): string {
  return (
    `<div class="card${cls !== "" ? ` ${cls}` : ""}"><div class="card-label">${escapeHtml(label)}</div>` +
    `<div class="card-big">${escapeHtml(big)}</div><div class="card-sub">${escapeHtml(sub)}</div></div>`
  );
}

function cards(u: Usage): string {
  const s = u.saves;
  const rate = s.successRate;
  const l = s.latencyMs;
  const changes = u.selections.reduce((sum, x) => sum + x.count, 0);
  return (
    `<div class="cards">` +
    card("Success rate", rate === null ? "n/a" : formatPercent(rate), `target ${targetText()}`, rate === null ? "" : rate >= SUCCESS_TARGET ? "good" : "bad") +
    card("Saves", String(s.attempts), `${String(s.saved)} saved · ${String(s.unchanged)} unchanged · ${String(s.failed)} failed`, s.failed > 0 ? "bad" : "") +
    card("Latency p99", l === null ? "n/a" : formatMs(l.p99), `budget ${String(LATENCY_BUDGET_MS)} ms`, l === null ? "" : l.p99 > LATENCY_BUDGET_MS ? "bad" : "good") +
    card("Model changes", String(changes), plural(u.selections.length, "model")) +
    `</div>`
  );
}

function css(): string {
  return `
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground);
  background: var(--vscode-editor-background); padding: 4px 24px 32px; max-width: 760px; line-height: 1.45; }
h1 { font-size: 1.5em; font-weight: 600; margin: 0.7em 0 0.1em; }
h2 { font-size: 1.1em; font-weight: 600; margin: 1.8em 0 0.4em; padding-bottom: 4px;
  border-bottom: 1px solid var(--vscode-panel-border, var(--vscode-widget-border, transparent)); }
p { margin: 0.3em 0; }
a { color: var(--vscode-textLink-foreground); text-decoration: none; }
a:hover { text-decoration: underline; }
.muted, .period { color: var(--vscode-descriptionForeground); }
nav { margin: 0.5em 0 0.8em; }
nav .current { font-weight: 600; }
nav a, nav .current { margin-right: 0.9em; }
.notice { color: var(--vscode-errorForeground); margin: 0.6em 0; }
.summary { font-size: 1.05em; margin: 0.9em 0 0.3em; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin: 0.8em 0; }
.card { border: 1px solid var(--vscode-panel-border, var(--vscode-widget-border, transparent)); border-radius: 4px;
  padding: 8px 12px; background: var(--vscode-editorWidget-background); }
.card-label { color: var(--vscode-descriptionForeground); font-size: 0.9em; }
.card-big { font-size: 1.7em; font-weight: 600; }
.card.good .card-big { color: var(--vscode-charts-green); }
.card.bad .card-big { color: var(--vscode-charts-red); }
.card-sub { color: var(--vscode-descriptionForeground); font-size: 0.85em; }
.empty { color: var(--vscode-descriptionForeground); font-style: italic; margin: 0.5em 0; }
.chart { display: block; max-width: 100%; height: auto; margin: 0.4em 0; }
.chart text { fill: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: 12px; }
.chart text.tick { fill: var(--vscode-descriptionForeground); font-size: 11px; }
.chart text.failcount { fill: var(--vscode-charts-red); font-weight: 600; }
.chart text.onbar { fill: var(--vscode-editor-background); font-weight: 600; }
.chart text.budget-label { fill: var(--vscode-charts-orange); font-size: 11px; }
.legend { color: var(--vscode-descriptionForeground); font-size: 0.9em; }
.legend .key { margin-right: 1.2em; white-space: nowrap; }
.legend svg { vertical-align: -1px; }
.track { fill: var(--vscode-charts-lines); opacity: 0.18; }
.grid { stroke: var(--vscode-charts-lines); opacity: 0.35; stroke-dasharray: 2 3; }
.axis { stroke: var(--vscode-charts-lines); }
.budget { stroke: var(--vscode-charts-orange); stroke-width: 2; stroke-dasharray: 5 3; }
.saved, .under { fill: var(--vscode-charts-green); }
.unchanged { fill: var(--vscode-charts-blue); opacity: 0.55; }
.failed, .over, .marker { fill: var(--vscode-charts-red); }
.o-client { fill: var(--vscode-charts-blue); }
.o-external { fill: var(--vscode-charts-purple); }
.o-restored { fill: var(--vscode-charts-orange); }
.o-other { fill: var(--vscode-charts-yellow); }
.time { fill: var(--vscode-charts-blue); }
.time.now { fill: var(--vscode-charts-green); }
footer { margin-top: 2em; color: var(--vscode-descriptionForeground); font-size: 0.9em; }
`;
}

/** The Content-Security-Policy of the page: nothing loads and nothing runs; styles are the one element's (and the webview's own). */
export function contentSecurityPolicy(o: Pick<ViewOptions, "nonce" | "cspSource">): string {
  return `default-src 'none'; style-src ${o.cspSource} 'nonce-${o.nonce}'`;
}

/** The whole page for `u`. */
export function renderUsage(u: Usage, o: ViewOptions): string {
  const nav = DAY_CHOICES.map((d) =>
    d === o.days
      ? `<span class="current" aria-current="true">${escapeHtml(daysLabel(d))}</span>`
      : `<a href="${escapeHtml(daysLink(d))}" title="Show the last ${escapeHtml(daysLabel(d))}">${escapeHtml(daysLabel(d))}</a>`,
  ).join("");
  const refresh = `<a href="${escapeHtml(daysLink(o.days))}" title="Ask the server again">Refresh</a>`;
  const period = `Last ${daysLabel(o.days)}: ${u.since.slice(0, 10)} to ${u.until.slice(0, 10)} (UTC)`;
  const scope = o.currentScope !== undefined && o.currentScope !== "global" && o.currentScope !== "default" ? ` (${o.currentScope})` : "";
  const model = o.currentModel !== undefined ? ` · model now: ${o.currentModel}${scope}` : "";
  const empty = u.saves.attempts === 0;
  const failures = Object.entries(u.saves.failedByReason);
  const ow = u.overwrites;

  const saves = empty
    ? `<p class="empty" id="no-saves">No saves yet in the last ${escapeHtml(daysLabel(o.days))}. Choosing a model with TunaCode: Select Model (or for this workspace) records one.</p>`
    : `<h2>Saves over time</h2>${overTimeChart(u)}` +
      `<h2>Save latency</h2>${latencyChart(u)}` +
      `<h2>Success rate</h2>${successChart(u)}` +
      (failures.length > 0
        ? `<p class="figures" id="failures">${escapeHtml(`Failures by reason: ${failures.map(([r, n]) => `${r} ${String(n)}`).join(", ")}`)}</p>`
        : `<p class="figures muted" id="failures">No failed save.</p>`);

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TunaCode Model Usage</title>
<style nonce="${escapeHtml(o.nonce)}">${css()}</style>
</head>
<body>
<h1>TunaCode model usage</h1>
<p class="period" id="period">${escapeHtml(period + model)}</p>
<nav aria-label="Period">${nav}${refresh}</nav>
${o.notice !== undefined ? `<p class="notice" role="alert">${escapeHtml(o.notice)}</p>` : ""}
${empty ? "" : cards(u)}
<p class="summary" id="saves-summary">${escapeHtml(savesSummary(u))}</p>
${saves}
<h2>Selections per model</h2>
${selectionsChart(u.selections)}
<h2>Time on each model</h2>
${timeChart(u.timeOnModel, o.globalModel)}
<footer>
<p id="overwrites">${escapeHtml(`Stale overwrites by a running tunacode: ${String(ow.caught)} caught, ${String(ow.restored)} restored, ${String(ow.kept)} kept.`)}</p>
${u.skipped > 0 ? `<p id="skipped">${escapeHtml(`${plural(u.skipped, "line")} of the history or the save outcomes did not parse and ${u.skipped === 1 ? "was" : "were"} skipped.`)}</p>` : ""}
<p>Kept on this machine only, from the model history and the save outcomes in tunacode's state folder (also: <code>tuna-lsp usage</code>).</p>
</footer>
</body>
</html>
`;
}
