/** Shutdown is bounded: a master facing a ZooKeeper that answers nothing still exits 0 in time. */
import assert from "node:assert/strict";
import { SHUTDOWN_DEADLINE_MS } from "../../lib/nodes/process_runner.ts";
import { startLab } from "../harness/lab.ts";

Deno.test("a leader facing a silent ZooKeeper exits 0 within the shutdown deadline after SIGTERM", async () => {
  // A long session timeout: the requests of a leaving master would wait that long for an answer.
  await using lab = await startLab({ masters: 1, sessionTimeoutMs: 6000 });
  const { leader } = await lab.waitForSingleLeader();
  await lab.zk.pause();
  try {
    const stoppedAt = performance.now();
    leader.signal("SIGTERM");
    const status = await leader.exited;
    const tookMs = performance.now() - stoppedAt;
    assert.equal(status.code, 0, `exit code ${status.code} after ${Math.round(tookMs)} ms`);
    assert.ok(tookMs < SHUTDOWN_DEADLINE_MS + 500, `took ${Math.round(tookMs)} ms`);
  } finally {
    lab.zk.resume();
  }
});
