import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import type { Usage } from "../../src/lsp_ext";
import {
  contentSecurityPolicy,
  dayBuckets,
  daysArg,
  daysLink,
  formatDuration,
  latencySummary,
  niceCeil,
  renderUsage,
  savesSummary,
} from "../../src/usage_view";

const OPTS = { nonce: "bm9uY2Utb2YtdGVzdA==", cspSource: "https://webview.example", days: 30 };

function usage(over: Partial<Usage> = {}): Usage {
  return {
    since: "2026-02-08T12:00:00.000Z",
    until: "2026-03-10T12:00:00.000Z",
    saves: {
      attempts: 4,
      saved: 1,
      unchanged: 1,
      failed: 2,
      failedByReason: { "invalid-config": 1, "lock-timeout": 1 },
      successRate: 0.333333,
      latencyMs: { p50: 12.34, p90: 40, p99: 140.5, max: 140.5 },
    },
    savesByDay: [
      { day: "2026-03-08", saved: 1, unchanged: 0, failed: 1 },
      { day: "2026-03-10", saved: 0, unchanged: 1, failed: 1 },
    ],
    selections: [
      { model: "openai:gpt-4.1-mini", count: 3, byOrigin: { client: 2, external: 1 } },
      { model: "anthropic:claude-sonnet-4-20250514", count: 1, byOrigin: { restored: 1 } },
    ],
    timeOnModel: [
      { model: "openai:gpt-4.1-mini", seconds: 93_784 },
      { model: "anthropic:claude-sonnet-4-20250514", seconds: 65 },
    ],
    overwrites: { caught: 1, restored: 1, kept: 0 },
    skipped: 0,
    ...over,
  };
}

const EMPTY: Usage = {
  since: "2026-02-08T12:00:00.000Z",
  until: "2026-03-10T12:00:00.000Z",
  saves: { attempts: 0, saved: 0, unchanged: 0, failed: 0, failedByReason: {}, successRate: null, latencyMs: null },
  savesByDay: [],
  selections: [],
  timeOnModel: [],
  overwrites: { caught: 0, restored: 0, kept: 0 },
  skipped: 0,
};

/** The text of the element with `id` (tags stripped, entities of the escaper undone). */
function byId(html: string, id: string): string | undefined {
  const m = new RegExp(`<p[^>]* id="${id}"[^>]*>([\\s\\S]*?)</p>`).exec(html);
  return m?.[1]
    ?.replace(/<[^>]+>/g, "")
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
}

describe("usage_view", () => {
  it("states the figures as text", () => {
    const html = renderUsage(usage(), OPTS);
    assert.equal(
      byId(html, "saves-summary"),
      "4 attempts, 1 saved, 1 unchanged, 2 failed · success 33.33% (target 99.9%)",
    );
    assert.equal(
      byId(html, "latency-summary"),
      "p50 12.3 ms, p90 40.0 ms, p99 140.5 ms, max 140.5 ms (budget 100 ms: p99, max over the budget)",
    );
    assert.equal(byId(html, "failures"), "Failures by reason: invalid-config 1, lock-timeout 1");
    assert.match(byId(html, "success-summary") ?? "", /^33\.33% of 3 attempts saved .*below the target of 99\.9%$/);
    assert.equal(byId(html, "selections-summary"), "4 changes of the global model, to 2 models");
    assert.equal(byId(html, "time-summary"), "1d 2h 4m in all, on 2 models");
    assert.equal(byId(html, "overwrites"), "Stale overwrites by a running tunacode: 1 caught, 1 restored, 0 kept.");
    assert.equal(byId(html, "period"), "Last 30 days: 2026-02-08 to 2026-03-10 (UTC)");
    // The values on the bars.
    for (const figure of ["3 times", "1 time", "1d 2h 3m", "1m 5s", "12.3 ms", "140.5 ms", "budget 100 ms", "target 99.9%"]) {
      assert.ok(html.includes(`>${figure}</text>`), `no bar says ${figure}`);
    }
  });

  it("has a strict Content-Security-Policy: no script, the style by its nonce", () => {
    const html = renderUsage(usage(), OPTS);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    assert.ok(csp !== undefined, "no CSP meta");
    const policy = csp.replace(/&#39;/g, "'");
    assert.equal(policy, contentSecurityPolicy(OPTS));
    assert.equal(policy, "default-src 'none'; style-src https://webview.example 'nonce-bm9uY2Utb2YtdGVzdA=='");
    assert.doesNotMatch(policy, /script-src|unsafe-inline|unsafe-eval/);
    // The CSP meta comes before anything it governs.
    assert.ok(html.indexOf("Content-Security-Policy") < html.indexOf("<style"));
    const styles = html.match(/<style[^>]*>/g) ?? [];
    assert.deepEqual(styles, ['<style nonce="bm9uY2Utb2YtdGVzdA==">']);
    assert.doesNotMatch(html, /<script|\sstyle="|\son[a-z]+="/i, "a script, a style attribute or an event handler");
  });

  it("loads nothing: no http(s) URL, no image, no remote font; links are the showUsage command only", () => {
    for (const html of [renderUsage(usage(), OPTS), renderUsage(EMPTY, OPTS)]) {
      const body = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, "");
      assert.doesNotMatch(body, /https?:/i);
      assert.doesNotMatch(body, /<img|<link|<iframe|@import|url\(/i);
      for (const [, href] of html.matchAll(/href="([^"]*)"/g)) {
        assert.match(href ?? "", /^command:tunacode\.showUsage\?/);
      }
    }
  });

  it("draws with the theme's colours", () => {
    const html = renderUsage(usage(), OPTS);
    for (const v of [
      "--vscode-foreground",
      "--vscode-editor-background",
      "--vscode-font-family",
      "--vscode-charts-blue",
      "--vscode-charts-green",
      "--vscode-charts-red",
      "--vscode-charts-orange",
      "--vscode-charts-purple",
    ]) {
      assert.ok(html.includes(`var(${v})`), `${v} unused`);
    }
    // No colour of its own: every colour is a theme variable.
    const css = /<style[^>]*>([\s\S]*?)<\/style>/.exec(html)?.[1] ?? "";
    assert.doesNotMatch(css, /#[0-9a-f]{3,8}\b|rgb\(|hsl\(/i);
    assert.doesNotMatch(html, /\sfill="|\sstroke="/, "a colour attribute outside the style sheet");
  });

  it("draws the charts: selections and time per model, saves per day with failures marked, latency, success", () => {
    const html = renderUsage(usage(), OPTS);
    for (const label of [
      "Selections per model",
      "Time as the global model, per model",
      "Saves per day, failures marked",
      "Save latency against the 100 ms budget",
      "Success rate against the 99.9% target",
    ]) {
      assert.ok(html.includes(`aria-label="${label}"`), `no chart ${label}`);
    }
    // Two days with failures: two marks over their bars, with their counts in the tooltips.
    const overTime = /<svg class="chart"[^>]*aria-label="Saves per day, failures marked">[\s\S]*?<\/svg>/.exec(html)?.[0] ?? "";
    assert.equal((overTime.match(/<path class="marker"/g) ?? []).length, 2);
    assert.ok(html.includes("<title>2026-03-08: 1 saved, 0 unchanged, 1 failed</title>"));
    // p99 and max are over the budget, p50 and p90 under it.
    assert.equal((html.match(/<rect class="over"/g) ?? []).length, 3); // p99, max, and the success rate below target
    assert.equal((html.match(/<rect class="under"/g) ?? []).length, 2);
    // Origins of the selections, stacked, with a legend.
    assert.ok(html.includes('<rect class="o-client"'));
    assert.ok(html.includes('<rect class="o-external"'));
    assert.ok(html.includes("by the CLI or a hand edit"));
  });

  it("renders an empty usage as a 'no saves yet' state", () => {
    const html = renderUsage(EMPTY, OPTS);
    assert.match(byId(html, "no-saves") ?? "", /^No saves yet in the last 30 days\./);
    assert.equal(byId(html, "saves-summary"), "0 attempts, 0 saved, 0 unchanged, 0 failed · success n/a (target 99.9%)");
    assert.doesNotMatch(html, /<svg class="chart"/);
    assert.match(html, /No change of the global model in this period/);
    assert.match(html, /No time on a model recorded in this period/);
  });

  it("escapes what came from outside: model names, reasons, origins, the notice", () => {
    const evil = "<script>alert(1)</script>";
    const html = renderUsage(
      usage({
        selections: [{ model: `x:${evil}`, count: 1, byOrigin: { [`"><img src=x>`]: 1 } }],
        timeOnModel: [{ model: `y:${evil}`, seconds: 10 }],
        saves: { ...usage().saves, failedByReason: { [evil]: 2 } },
      }),
      { ...OPTS, notice: evil, currentModel: evil },
    );
    assert.doesNotMatch(html, /<script|<img/);
    assert.ok(html.includes("&#60;script&#62;"));
  });

  it("names this window's model, and marks the global model in the time chart", () => {
    const html = renderUsage(usage(), { ...OPTS, currentModel: "anthropic:claude-sonnet-4-20250514", currentScope: "session", globalModel: "openai:gpt-4.1-mini" });
    assert.equal(byId(html, "period"), "Last 30 days: 2026-02-08 to 2026-03-10 (UTC) · model now: anthropic:claude-sonnet-4-20250514 (session)");
    assert.equal((html.match(/<rect class="time now"/g) ?? []).length, 2); // its bar and the legend's
    assert.match(html, /the global model now/);
    assert.ok(html.includes(">1d 2h 3m (now)</text>"));
    const global = renderUsage(usage(), { ...OPTS, currentModel: "openai:gpt-4.1-mini", currentScope: "global" });
    assert.match(byId(global, "period") ?? "", /model now: openai:gpt-4\.1-mini$/);
    assert.doesNotMatch(global, /class="time now"/);
  });

  it("marks the chosen period and links the others", () => {
    const html = renderUsage(usage(), { ...OPTS, days: 7 });
    assert.match(html, /<span class="current" aria-current="true">7 days<\/span>/);
    assert.ok(html.includes(`href="${daysLink(30)}"`));
    assert.ok(html.includes(`href="${daysLink(365)}"`));
    assert.equal(decodeURIComponent(daysLink(90).split("?")[1] ?? ""), '[{"days":90}]');
  });

  it("draws saves over time from the totals when the server has no savesByDay", () => {
    const u = usage();
    delete u.savesByDay;
    const html = renderUsage(u, OPTS);
    assert.match(html, /does not count saves per day/);
    assert.ok(html.includes("<title>2026-03-10: 1 saved, 1 unchanged, 2 failed</title>"));
  });

  it("has a day for every day of the period, grouped when there are too many for bars", () => {
    const { buckets, per } = dayBuckets("2026-02-08T12:00:00.000Z", "2026-03-10T12:00:00.000Z", usage().savesByDay ?? []);
    assert.equal(per, 1);
    assert.equal(buckets.length, 31);
    assert.equal(buckets[0]?.first, "2026-02-08");
    assert.equal(buckets.at(-1)?.first, "2026-03-10");
    assert.deepEqual(buckets.find((b) => b.first === "2026-03-08"), { first: "2026-03-08", last: "2026-03-08", saved: 1, unchanged: 0, failed: 1 });
    const year = dayBuckets("2025-03-10T00:00:00.000Z", "2026-03-10T00:00:00.000Z", [{ day: "2026-01-01", saved: 2, unchanged: 0, failed: 1 }]);
    assert.equal(year.per, 4);
    assert.ok(year.buckets.length <= 120);
    assert.equal(year.buckets.reduce((n, b) => n + b.saved + b.failed, 0), 3);
  });

  it("formats like tuna-lsp usage, and reads the days of a command link", () => {
    assert.equal(formatDuration(93_784), "1d 2h 3m");
    assert.equal(formatDuration(3_725), "1h 2m");
    assert.equal(formatDuration(65), "1m 5s");
    assert.equal(savesSummary({ ...EMPTY, saves: { ...EMPTY.saves, attempts: 1, saved: 1, successRate: 1 } }), "1 attempt, 1 saved, 0 unchanged, 0 failed · success 100.00% (target 99.9%)");
    assert.equal(latencySummary(EMPTY), undefined);
    assert.equal(niceCeil(137), 150);
    assert.equal(niceCeil(125), 150);
    assert.equal(niceCeil(1234), 1500);
    assert.equal(daysArg({ days: 7 }), 7);
    assert.equal(daysArg(undefined), 30);
    assert.equal(daysArg({ days: 0 }, 90), 90);
    assert.equal(daysArg({ days: 1.5 }), 30);
    assert.equal(daysArg({ days: "7" }), 30);
    assert.equal(daysArg({ days: 3651 }), 30);
  });
});
