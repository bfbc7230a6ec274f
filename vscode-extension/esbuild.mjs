// Bundles the extension into one CommonJS file, dist/extension.js (the vscode module stays external:
// the editor provides it). `--production` minifies; `--watch` rebuilds on change.
import * as fs from "node:fs";
import * as path from "node:path";
import * as esbuild from "esbuild";

const production = process.argv.includes("--production");
const watch = process.argv.includes("--watch");

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
 * The clone this build comes from, so that the extension can run the server of that clone's `.venv` and look in no
 * other folder. TUNACODE_BUILD_CLONE overrides it; set it empty for a build that must not know any clone (the
 * end-to-end tests, a .vsix for others).
 */
const buildClone = (() => {
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
