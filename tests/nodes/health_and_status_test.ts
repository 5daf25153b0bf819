/**
 * What the processes report while they are not part of a working election: the master's status
 * line and the worker's health.
 */
import assert from "node:assert/strict";
import { checkHealth } from "../../lib/grpc/grpc.ts";
import { eventsOf, waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";
import { waitFor } from "../../lib/common/wait.ts";

Deno.test("a master in no election says so in its status line, not that it follows", async () => {
  await using lab = await startLab({ masters: 0, worker: false });
  await lab.zk.stop();
  const pending = lab.startMaster();
  pending.catch(() => {}); // awaited below; a failure before that must not go unhandled
  const master = lab.masters[0];
  const line = await waitForEvent(master, "I am not in the election right now", {
    timeoutMs: 15_000,
  });
  assert.equal(typeof line.record.reason, "string");
  assert.deepEqual(eventsOf(master, "I am the follower"), [], "not a follower without ZooKeeper");
  await lab.zk.start();
  await pending;
  // In the election again: the original lab's line, word for word.
  await waitForEvent(master, "I am the leader", {
    where: (r) => r.epoch === undefined,
    timeoutMs: 15_000,
  });
});

Deno.test("the worker reports NOT_SERVING while it cannot verify epochs with ZooKeeper, and SERVING again after", async () => {
  await using lab = await startLab({ masters: 0 });
  const health = () => checkHealth(lab.workerAddress, { timeoutMs: 2000 });
  const serving = (message: string) =>
    waitFor(async () => (await health()) === "SERVING" ? true : undefined, {
      timeoutMs: 15_000,
      message,
    });
  // SERVING once its first history check with ZooKeeper is done, a moment after it connects.
  await serving("the worker to serve once its history check is done");
  const mark = lab.worker!.lines.length;
  await lab.zk.stop();
  await waitForEvent(lab.worker!, "Disconnected from ZooKeeper", { from: mark });
  assert.equal(await health(), "NOT_SERVING");
  await lab.zk.start();
  await serving("the worker to serve again");
});
