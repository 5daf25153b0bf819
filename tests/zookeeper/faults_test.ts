/** ZooKeeper itself failing: restarted under running masters, or not there at start-up. */
import assert from "node:assert/strict";
import { eventsOf, waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";

Deno.test("a brief ZooKeeper restart crashes nobody and leaves exactly one leader", async () => {
  await using lab = await startLab({ masters: 2, sessionTimeoutMs: 4000 });
  await lab.waitForSingleLeader();
  const marks = lab.masters.map((m) => m.lines.length);
  await lab.zk.stop();
  await Promise.all(
    lab.masters.map((m, i) => waitForEvent(m, "Disconnected from ZooKeeper", { from: marks[i] })),
  );
  await lab.zk.start();
  await Promise.all(
    lab.masters.map((m, i) =>
      waitForEvent(m, "Reconnected to ZooKeeper", { from: marks[i], timeoutMs: 15_000 })
    ),
  );
  await lab.waitForSingleLeader(15_000);
  for (const process of [...lab.masters, lab.worker!]) {
    assert.equal(process.hasExited, false, `${process.name} exited`);
  }
});

Deno.test("a master started while ZooKeeper is down retries with backoff and joins when it appears", async () => {
  await using lab = await startLab({ masters: 0, worker: false });
  await lab.zk.stop();
  const pending = lab.startMaster();
  const master = lab.masters[0];
  await waitForEvent(master, "Cannot connect to ZooKeeper", {
    where: (r) => r.attempt === 2,
    timeoutMs: 15_000,
  });
  const attempts = eventsOf(master, "Cannot connect to ZooKeeper");
  assert.deepEqual(attempts.map((e) => e.record.attempt), attempts.map((_, i) => i + 1));
  await lab.zk.start();
  await pending;
  await waitForEvent(master, "I am the leader", {
    where: (r) => r.epoch !== undefined,
    timeoutMs: 15_000,
  });
});

Deno.test("a leader whose worker is down keeps retrying and announces itself when the worker starts", async () => {
  await using lab = await startLab({ masters: 1, worker: false });
  const [master] = lab.masters;
  await waitForEvent(master, "Cannot reach the worker", {
    where: (r) => r.attempt === 2,
    timeoutMs: 15_000,
  });
  await lab.startWorker();
  await waitForEvent(master, "The worker accepted our leadership", { timeoutMs: 15_000 });
  await lab.waitForSingleLeader();
});
