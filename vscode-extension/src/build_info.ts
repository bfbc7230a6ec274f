/**
 * What esbuild recorded when it built the extension (esbuild.mjs `define`). Undefined when the code runs unbundled
 * (the unit tests compile it with tsc).
 */
declare const TUNACODE_BUILD_CLONE: string | undefined;

/** The clone of the repository the extension was built from; its `.venv` may hold the server. */
export const buildClone: string | undefined =
  typeof TUNACODE_BUILD_CLONE === "string" && TUNACODE_BUILD_CLONE !== "" ? TUNACODE_BUILD_CLONE : undefined;
