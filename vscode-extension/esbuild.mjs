// Bundles the extension into one CommonJS file, dist/extension.js (the vscode module stays external:
// the editor provides it). `--production` minifies; `--watch` rebuilds on change; `--dev` (and `--watch`) records the
// clone it is built from (below).
import * as fs from "node:fs";
import * as path from "node:path";
import * as esbuild from "esbuild";

const production = process.argv.includes("--production");
const watch = process.argv.includes("--watch");
/** A development build: `npm run compile`, `npm run watch`, `npm run package:dev` (never `make package`). */
const dev = watch || process.argv.includes("--dev");

/** Prints errors in the form the $esbuild-watch problem matcher understands. */
const problemReporter = {
  name: "problem-reporter",
  setup(build) {
    build.onStart(() => console.log("[watch] build started"));
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) {
          console.error(`    ${location.file}:${location.line}:${location.column}:`);
        }
      }
      console.log("[watch] build finished");
    });
  },
};

/**
 * The clone a development build comes from, so that the extension can run the server of that clone's `.venv` (in
 * trusted windows only) and look in no other folder. Only a development build (`--dev`, `--watch`) records one: a
 * build for others (`--production` alone, what `make package` and `npm run package` run) never carries a path of
 * the machine that built it, whatever the environment says. In a development build TUNACODE_BUILD_CLONE overrides
 * the clone found (empty: none).
 */
const buildClone = (() => {
  if (!dev) {
    if (process.env.TUNACODE_BUILD_CLONE) {
      console.warn("esbuild: TUNACODE_BUILD_CLONE is ignored: only a development build (--dev, --watch) records a clone");
    }
    return "";
  }
  if (process.env.TUNACODE_BUILD_CLONE !== undefined) {
    return process.env.TUNACODE_BUILD_CLONE;
  }
  const root = path.resolve(import.meta.dirname, "..");
  const isClone = fs.existsSync(path.join(root, "pyproject.toml")) && fs.existsSync(path.join(root, "server", "tuna_lsp"));
  return isClone ? root : "";
})();

const ctx = await esbuild.context({
  entryPoints: ["src/extension.ts"],
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  outfile: "dist/extension.js",
  external: ["vscode"],
  define: { TUNACODE_BUILD_CLONE: JSON.stringify(buildClone) },
  logLevel: "warning",
  plugins: watch ? [problemReporter] : [],
});

if (watch) {
  await ctx.watch();
} else {
  await ctx.rebuild();
  await ctx.dispose();
}
