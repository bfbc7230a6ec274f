/**
 * Keeps the text of the config documents out of the trace of the server traffic (`tunacode.trace.server`).
 *
 * The server only ever sees the config files (tunacode.json holds API keys in `env`), and a verbose trace would
 * copy their whole text, at open and at every edit, into a log file on disk. Every `text` value of a traced message
 * (TextDocumentItem.text, a change's text, didSave's text) is replaced by its length; a traced payload that cannot
 * be read as JSON is left out whole rather than risk logging it.
 *
 * Pure: strings in, strings out. Must not import vscode.
 */

/** Replaces every string under a `text` key, at any depth, by a note of its length. */
export function redactDocumentText(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(redactDocumentText);
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = key === "text" && typeof v === "string" ? `(${String(v.length)} characters of document text, not logged)` : redactDocumentText(v);
    }
    return out;
  }
  return value;
}

/** The payload prefixes vscode-jsonrpc's text trace writes before pretty-printed JSON. */
const PAYLOAD = /^(Params|Result|Error data): ([\s\S]*)$/;

/**
 * One string the language client writes to its trace channel, made safe: a `Params: {...}` (or Result, Error data)
 * payload and a JSON-format trace line lose their document text; anything else passes unchanged.
 */
export function redactTraceText(text: string): string {
  const payload = PAYLOAD.exec(text);
  if (payload !== null) {
    const [, label = "", body = ""] = payload;
    const redacted = redactJson(body);
    return redacted === undefined
      ? `${label}: (not logged: it could not be checked for document text)`
      : `${label}: ${JSON.stringify(redacted, null, 4)}\n\n`;
  }
  // The JSON trace format writes each message as one JSON object.
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    const redacted = redactJson(trimmed);
    return redacted === undefined ? "(not logged: it could not be checked for document text)" : JSON.stringify(redacted);
  }
  return text;
}

function redactJson(body: string): unknown {
  try {
    return redactDocumentText(JSON.parse(body) as unknown);
  } catch {
    return undefined;
  }
}
