/**
 * Issue 24, item 8: a .vsix built for others never carries a path of the machine that built it. Builds both
 * packages the way `make package` does (`npm run package` at the repository root, the bundled one, and
 * `npm run package:plain`), then reads the bundled dist/extension.js and every file of each .vsix, binaries
 * included, for the repository's absolute path (as given and resolved) and the build's temporary folders.
 *
 * Rebuilds vscode-extension/dist and both .vsix files in place (as `npm run test:e2e` does). Needs a Python 3.11+
 * with pip ($PYTHON, default python3) and unzip.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";

const EXT_DIR = path.resolve(__dirname, "..", "..", "..");
const REPO_ROOT = path.dirname(EXT_DIR);
const BUNDLED_VSIX = path.join(EXT_DIR, `tunacode-${process.env.VSCODE_TARGET ?? "linux-x64"}.vsix`);
const PLAIN_VSIX = path.join(EXT_DIR, "tunacode.vsix");
const BUILD = { timeout: 600_000 };

/** Runs an npm script at the repository root, as the Makefile does; its output is kept for a failure. */
function npmAtRoot(script: string, env: NodeJS.ProcessEnv): void {
  try {
    execFileSync("npm", ["run", script], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"], timeout: BUILD.timeout });
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`npm run ${script} failed:\n${String(e.stdout ?? "")}\n${String(e.stderr ?? "")}`, { cause: error });
  }
}

/** Every file under `dir`, by path relative to it. */
function walk(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = path.join(rel, entry.name);
    if (entry.isDirectory()) {
      out.push(...walk(dir, r));
    } else if (entry.isFile()) {
      out.push(r);
    }
  }
  return out;
}

/** The strings that name the build machine's own folders: a package that holds any of them leaks its layout. */
function buildPaths(): string[] {
  const paths = new Set<string>();
  for (const p of [REPO_ROOT, EXT_DIR]) {
    paths.add(p);
    paths.add(fs.realpathSync(p));
  }
  // bundle-server.sh builds the server's wheel in a `mktemp -d` folder; pip records where it came from.
  paths.add(`${os.tmpdir()}/tmp.`);
  paths.add("/tmp/tmp.");
  return [...paths];
}

/** What in `files` (relative to `root`) names a build path, as "file: what" lines. */
function leaks(root: string, files: string[]): string[] {
  const bad: string[] = [];
  const needles = buildPaths();
  for (const rel of files) {
    const text = fs.readFileSync(path.join(root, rel)).toString("latin1");
    for (const needle of needles) {
      const at = text.indexOf(needle);
      if (at !== -1) {
        bad.push(`${rel}: ${JSON.stringify(text.slice(Math.max(0, at - 40), at + needle.length + 40))}`);
      }
    }
  }
  return bad;
}

function unpack(vsix: string, into: string): string[] {
  fs.mkdirSync(into, { recursive: true });
  execFileSync("unzip", ["-q", "-o", vsix, "-d", into], { stdio: ["ignore", "pipe", "pipe"] });
  return walk(into);
}

describe("a .vsix built as `make package` builds it", () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "vsix-paths-"));
  after(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  // The Makefile's environment: `npm ci && PYTHON=$(PYTHON) npm run package`, nothing else set.
  const makeEnv: NodeJS.ProcessEnv = { ...process.env, PYTHON: process.env.PYTHON ?? "python3" };
  delete makeEnv.TUNACODE_BUILD_CLONE;

  before(() => {
    // The plain .vsix first (it removes bundled/libs), then the one `make package` builds. The plain one is built
    // with TUNACODE_BUILD_CLONE left exported in the builder's shell: a package never takes it either.
    npmAtRoot("package:plain", { ...makeEnv, TUNACODE_BUILD_CLONE: REPO_ROOT });
    fs.copyFileSync(PLAIN_VSIX, path.join(scratch, "plain.vsix"));
    npmAtRoot("package", makeEnv);
  }, BUILD);

  it("bundles no path of the build machine into dist/extension.js", () => {
    const bundle = path.join(EXT_DIR, "dist", "extension.js");
    assert.deepEqual(leaks(path.dirname(bundle), [path.basename(bundle)]), []);
    // Nor anything from the developer's own home (a clone under it, a tool's cache).
    const home = os.homedir();
    if (home.length > 1) {
      assert.ok(!fs.readFileSync(bundle, "utf8").includes(`${home}/`), `dist/extension.js names ${home}`);
    }
  });

  it("carries no path of the build machine in any file of the bundled .vsix", () => {
    const dir = path.join(scratch, "bundled");
    const files = unpack(BUNDLED_VSIX, dir);
    assert.ok(files.some((f) => f.endsWith(path.join("bundled", "libs", "tuna_lsp", "__init__.py"))), "the server is not in the .vsix");
    assert.deepEqual(leaks(dir, files), []);
  });

  it("carries no path of the build machine in any file of the plain .vsix", () => {
    const dir = path.join(scratch, "plain");
    const files = unpack(path.join(scratch, "plain.vsix"), dir);
    assert.ok(files.includes(path.join("extension", "dist", "extension.js")));
    assert.deepEqual(leaks(dir, files), []);
  });
});
