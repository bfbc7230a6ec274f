/**
 * Whether the tunacode terminals this window started follow a model change (PROTOCOL.md section 9, "Follow"):
 * the editor types `/model <model>` into them, tunacode's own way to re-read the file and switch.
 *
 * Typed: a global change made through tuna-lsp (`viaEditor`, from this window or any other) into a terminal whose
 * model differs. Never typed: a change a CLI or a hand edit made (it is not echoed back into any CLI), and session
 * or workspace choices (tunacode's `/model` saves globally, which would turn them into the global choice).
 *
 * Pure: no vscode import; the caller owns the terminals and the notification.
 */
import type { ModelState } from "./lsp_ext";

export type FollowSetting = "ask" | "always" | "never";

export const FOLLOW_SETTINGS: readonly FollowSetting[] = ["ask", "always", "never"];

/** A terminal this window started, and the model it runs as far as the editor knows. */
export interface FollowedTerminal {
  id: number;
  model: string | undefined;
}

export type FollowDecision =
  | { kind: "none"; why: string }
  | { kind: "ask" | "switch"; model: string; terminals: number[] };

/** What a model string may hold to be typed into a terminal: PROTOCOL.md section 2's alphabet, nothing a shell reads. */
const TYPABLE = /^[a-z0-9][a-z0-9._-]{0,63}:[A-Za-z0-9._/:@~+()-]{1,256}$/;

export function followDecision(
  state: ModelState,
  terminals: readonly FollowedTerminal[],
  setting: FollowSetting,
): FollowDecision {
  if (state.scope !== "global") {
    return { kind: "none", why: `the ${state.scope} model is in effect in this window; only global changes are typed` };
  }
  if (state.viaEditor !== true) {
    return { kind: "none", why: "not changed through tuna-lsp (a CLI, a hand edit, or a server that does not say)" };
  }
  if (state.origin !== "client" && state.origin !== "external") {
    return { kind: "none", why: `origin ${state.origin} is not a change` };
  }
  if (!TYPABLE.test(state.model)) {
    return { kind: "none", why: `${state.model} is not a model string that may be typed into a terminal` };
  }
  const behind = terminals.filter((t) => t.model !== state.model).map((t) => t.id);
  if (behind.length === 0) {
    return { kind: "none", why: "no terminal started from this window runs another model" };
  }
  if (setting === "never") {
    return { kind: "none", why: "tunacode.cli.followModelChanges is never" };
  }
  return { kind: setting === "always" ? "switch" : "ask", model: state.model, terminals: behind };
}

/** The text typed into a followed terminal (sent with Enter). */
export function modelCommand(model: string): string {
  return `/model ${model}`;
}

/** A setting value read from the user's settings, as a FollowSetting; anything else is the default, ask. */
export function followSetting(value: unknown): FollowSetting {
  return FOLLOW_SETTINGS.find((s) => s === value) ?? "ask";
}
