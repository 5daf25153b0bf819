/**
 * The session timeout ZooKeeper grants, not the one asked for: a server caps it with
 * `maxSessionTimeout` (our own Compose ZooKeeper does, at 40 s), and the lease, the read timeout and
 * the heartbeat must follow the granted one, or a leader paused past its real session wakes up
 * believing it still leads.
 */
import assert from "node:assert/strict";
import { eventsOf, lastRole, waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";
import { startZooKeeper } from "../harness/zookeeper.ts";

const GRANTED_MS = 1000;
const ASKED_MS = 6000;

Deno.test("a leader paused past the session timeout ZooKeeper granted, shorter than it asked for, never acts as leader after SIGCONT", async () => {
  await using zk = await startZooKeeper({ maxSessionTimeoutMs: GRANTED_MS });
  await using lab = await startLab({ zk, masters: 2, sessionTimeoutMs: ASKED_MS });
  for (const process of [...lab.masters, lab.worker!]) {
    const connected = eventsOf(process, "Connected to ZooKeeper")[0].record;
    assert.equal(
      connected.sessionTimeoutMs,
      GRANTED_MS,
      `${process.name} names the granted timeout`,
    );
    assert.equal(connected.asked, ASKED_MS, `${process.name} names the timeout it asked for`);
  }
  const { leader: paused, epoch: oldEpoch } = await lab.waitForSingleLeader();
  const successor = lab.masters.find((master) => master !== paused)!;
  paused.signal("SIGSTOP");
  const leading = await waitForEvent(successor, "I am the leader", {
    where: (r) => r.epoch !== undefined,
    timeoutMs: GRANTED_MS + 8000,
  });
  assert.ok(BigInt(leading.record.epoch) > oldEpoch);
  // Wake it well within the lease it would believe in if it followed the timeout it asked for.
  const resumedAt = paused.lines.length;
  paused.signal("SIGCONT");
  await waitForEvent(paused, "I am the follower", {
    from: resumedAt,
    where: (r) => r.leader === successor.name,
    timeoutMs: 15_000,
  });
  // One more status period after rejoining, to give a wrong "I am the leader" time to show.
  const rejoined = paused.lines.length;
  await waitForEvent(paused, "I am the follower", {
    from: rejoined,
    where: (r) => r.leader === undefined,
  });
  assert.deepEqual(
    eventsOf(paused, "I am the leader", resumedAt).map((e) => e.record),
    [],
    "no leader line after SIGCONT",
  );
  assert.equal(lastRole(paused), "follower");
  assert.equal(lastRole(successor), "leader");
});
