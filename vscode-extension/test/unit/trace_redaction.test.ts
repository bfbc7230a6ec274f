import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";

import * as rpc from "vscode-jsonrpc/node";

import { redactDocumentText, redactTraceText } from "../../src/trace_redaction";

const SECRET = "sk-ant-trace-must-not-see-this";
const CONFIG_TEXT = `{\n    "default_model": "openai:gpt-4.1",\n    "env": {"ANTHROPIC_API_KEY": "${SECRET}"}\n}\n`;

/**
 * Sends `send` through a real vscode-jsonrpc connection traced at `level` in `format`, with a tracer that writes
 * what the language client writes (its logTrace / logObjectTrace), through redactTraceText. Returns the trace.
 */
async function traceOf(
  level: rpc.Trace,
  format: rpc.TraceFormat,
  send: (c: rpc.MessageConnection) => Promise<void>,
): Promise<string> {
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  const client = rpc.createMessageConnection(new rpc.StreamMessageReader(fromServer), new rpc.StreamMessageWriter(toServer));
  const server = rpc.createMessageConnection(new rpc.StreamMessageReader(toServer), new rpc.StreamMessageWriter(fromServer));
  const seen = new Promise<void>((resolve) => {
    server.onNotification(() => {
      resolve();
    });
  });
  server.listen();
  client.listen();
  const lines: string[] = [];
  const tracer: rpc.Tracer = {
    log: (message: unknown, data?: string) => {
      if (typeof message === "string") {
        lines.push(redactTraceText(`[Trace - 10:00:00] ${message}`));
        if (data !== undefined) {
          lines.push(redactTraceText(data));
        }
      } else {
        lines.push("[LSP   - 10:00:00] ", redactTraceText(JSON.stringify(message)));
      }
    },
  };
  await client.trace(level, tracer, { sendNotification: false, traceFormat: format });
  await send(client);
  await seen;
  client.dispose();
  server.dispose();
  return lines.join("\n");
}

const didOpen = (c: rpc.MessageConnection): Promise<void> =>
  c.sendNotification("textDocument/didOpen", {
    textDocument: { uri: "file:///home/u/.config/tunacode.json", languageId: "json", version: 1, text: CONFIG_TEXT },
  });
const didChange = (c: rpc.MessageConnection): Promise<void> =>
  c.sendNotification("textDocument/didChange", {
    textDocument: { uri: "file:///home/u/.config/tunacode.json", version: 2 },
    contentChanges: [{ text: CONFIG_TEXT }, { range: { start: { line: 2, character: 0 }, end: { line: 2, character: 1 } }, text: SECRET }],
  });

describe("the trace of the server traffic", () => {
  for (const [name, format] of [["text", rpc.TraceFormat.Text], ["json", rpc.TraceFormat.JSON]] as const) {
    for (const [event, send] of [["didOpen", didOpen], ["didChange", didChange]] as const) {
      it(`holds no document text of a ${event} at the verbose level (${name} format)`, async () => {
        const trace = await traceOf(rpc.Trace.Verbose, format, send);
        assert.match(trace, new RegExp(`textDocument/${event}`));
        assert.match(trace, /tunacode\.json/, "the rest of the message is still traced");
        assert.doesNotMatch(trace, new RegExp(SECRET));
        assert.doesNotMatch(trace, /default_model/);
        assert.match(trace, /characters of document text, not logged/);
      });
    }
  }
});

describe("redactTraceText", () => {
  it("leaves trace headers and empty payloads alone", () => {
    assert.equal(redactTraceText("[Trace - 10:00:00] Sending notification 'initialized'."), "[Trace - 10:00:00] Sending notification 'initialized'.");
    assert.equal(redactTraceText("No parameters provided.\n\n"), "No parameters provided.\n\n");
  });

  it("drops a payload it cannot read rather than log it", () => {
    const out = redactTraceText(`Params: {"text": "${SECRET}"`);
    assert.doesNotMatch(out, new RegExp(SECRET));
    assert.match(out, /^Params: \(not logged/);
    assert.doesNotMatch(redactTraceText(`{"text": "${SECRET}"`), new RegExp(SECRET));
  });

  it("keeps every other key and value", () => {
    assert.deepEqual(redactDocumentText({ a: [{ text: "xy", newText: "z" }], text: 3 }), {
      a: [{ text: "(2 characters of document text, not logged)", newText: "z" }],
      text: 3,
    });
  });
});

describe("package.json", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "..", "package.json"), "utf8")) as {
    contributes: { configuration: { properties: Record<string, { scope?: string }> } };
  };
  it("makes every setting that runs a program, moves the config or traces traffic machine-scoped", () => {
    const props = pkg.contributes.configuration.properties;
    for (const key of ["tunacode.server.command", "tunacode.configPath", "tunacode.cli.command", "tunacode.trace.server"]) {
      assert.equal(props[key]?.scope, "machine", `${key} must be machine-scoped: a repository's settings must not set it`);
    }
  });
});
