import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, it } from "node:test";

import { childWorkDir } from "../../src/work_dir";

describe("childWorkDir", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "work-dir-"));
  const workspace = path.join(root, "repo");
  const tmp = path.join(root, "tmp");
  fs.mkdirSync(workspace);
  fs.mkdirSync(tmp);
  after(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("is the extension's storage folder, created private when missing", () => {
    const storage = path.join(root, "globalStorage", "tunacode.tunacode");
    assert.equal(childWorkDir(storage, [workspace], tmp), storage);
    const st = fs.statSync(storage);
    assert.ok(st.isDirectory());
    assert.equal(st.mode & 0o777, 0o700);
  });

  it("is the temporary folder when the storage folder cannot be made", () => {
    const file = path.join(root, "a-file");
    fs.writeFileSync(file, "");
    assert.equal(childWorkDir(path.join(file, "storage"), [workspace], tmp), tmp);
    assert.equal(childWorkDir(undefined, [workspace], tmp), tmp);
    assert.equal(childWorkDir("relative/storage", [workspace], tmp), tmp);
  });

  it("is never a workspace folder nor inside one", () => {
    assert.equal(childWorkDir(workspace, [workspace], tmp), tmp);
    assert.equal(childWorkDir(path.join(workspace, "sub"), [workspace], tmp), tmp);
    assert.ok(!fs.existsSync(path.join(workspace, "sub")), "nothing is created in the workspace");
    // A workspace opened at the temporary folder's parent: the filesystem root, which holds no repository's files.
    assert.equal(childWorkDir(undefined, [root], tmp), "/");
    // A sibling whose name starts like the workspace's is not inside it.
    const sibling = `${workspace}-storage`;
    assert.equal(childWorkDir(sibling, [workspace], tmp), sibling);
  });
});
