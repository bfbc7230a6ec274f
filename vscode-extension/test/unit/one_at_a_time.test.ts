import * as assert from "node:assert/strict";
import { describe, it } from "node:test";

import { OneAtATime } from "../../src/one_at_a_time";

/** A job whose runs finish only when the test says so. */
function gatedJob(): { job: () => Promise<void>; started: number; release: () => void; active: number; maxActive: number } {
  const state = {
    started: 0,
    active: 0,
    maxActive: 0,
    gates: [] as (() => void)[],
    job: async (): Promise<void> => {
      state.started++;
      state.active++;
      state.maxActive = Math.max(state.maxActive, state.active);
      await new Promise<void>((resolve) => state.gates.push(resolve));
      state.active--;
    },
    release: (): void => {
      state.gates.shift()?.();
    },
  };
  return state;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await Promise.resolve();
  }
}

describe("OneAtATime", () => {
  it("runs once for a single call", async () => {
    const g = gatedJob();
    const serial = new OneAtATime(g.job);
    const done = serial.run();
    await settle();
    g.release();
    await done;
    assert.equal(g.started, 1);
    assert.equal(serial.running, false);
  });

  it("never runs two at once, and folds any number of calls made meanwhile into one more run", async () => {
    const g = gatedJob();
    const serial = new OneAtATime(g.job);
    const first = serial.run();
    await settle();
    const later = [serial.run(), serial.run(), serial.run()];
    await settle();
    assert.equal(g.started, 1);
    g.release();
    await settle();
    assert.equal(g.started, 2, "one queued run after the first");
    g.release();
    await Promise.all([first, ...later]);
    assert.equal(g.started, 2);
    assert.equal(g.maxActive, 1);
  });

  it("stops queueing once cancelled", async () => {
    const g = gatedJob();
    let cancelled = false;
    const serial = new OneAtATime(g.job, () => cancelled);
    const first = serial.run();
    await settle();
    void serial.run();
    cancelled = true;
    g.release();
    await first;
    assert.equal(g.started, 1);
  });

  it("starts afresh after a run finished", async () => {
    const g = gatedJob();
    const serial = new OneAtATime(g.job);
    const a = serial.run();
    await settle();
    g.release();
    await a;
    const b = serial.run();
    await settle();
    g.release();
    await b;
    assert.equal(g.started, 2);
  });
});
