/** Failover with real signals: a clean stop, a crash, and a pause that outlives the session. */
import assert from "node:assert/strict";
import { grpc } from "../../lib/grpc/grpc.ts";
import { eventsOf, lastRole, parseRecord, waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";

const SESSION_TIMEOUT_MS = 1000;
/** What a master says about its own role (transitions and status lines alike). */
const ROLE_MESSAGES = new Set([
  "I am the leader",
  "I am the follower",
  "I am no longer the leader",
  "Left the election for now",
]);

Deno.test("failover after SIGTERM: the follower leads and its leader_election reaches the worker within 2 s", async () => {
  await using lab = await startLab({ masters: 2, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  const { leader, epoch } = await lab.waitForSingleLeader();
  const follower = lab.masters.find((master) => master !== leader)!;
  await waitForEvent(follower, "I am the follower", { where: (r) => r.leader === leader.name });
  // Its first task as leader goes on the link it keeps open (grpc/worker_link.ts).
  await waitForEvent(follower, "Linked to the worker: tasks go as messages of one open call");
  const workerMark = lab.worker!.lines.length;
  const followerMark = follower.lines.length;
  const stoppedAt = performance.now();
  leader.signal("SIGTERM");
  const accepted = await waitForEvent(lab.worker!, "Accepted a new leader epoch", {
    from: workerMark,
    timeoutMs: 2000,
  });
  assert.ok(BigInt(accepted.record.epoch) > epoch);
  await waitForEvent(lab.worker!, "Performing task: leader_election", {
    from: workerMark,
    timeoutMs: 2000,
  });
  // The two processes' lines are read apart, so the follower's own may come in a moment later.
  const leading = await waitForEvent(follower, "I am the leader", {
    from: followerMark,
    where: (r) => r.epoch !== undefined,
  });
  assert.equal(BigInt(leading.record.epoch), BigInt(accepted.record.epoch));
  assert.ok(accepted.at - stoppedAt < 2000, `took ${accepted.at - stoppedAt} ms`);
  const status = await leader.exited;
  assert.equal(status.code, 0);
  assert.ok(performance.now() - stoppedAt < 2000, "the stopped master exits within 2 s");
});

Deno.test("failover after SIGKILL: the follower leads within the session timeout plus a margin", async () => {
  await using lab = await startLab({ masters: 2, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  const { leader } = await lab.waitForSingleLeader();
  const follower = lab.masters.find((master) => master !== leader)!;
  await waitForEvent(follower, "I am the follower", { where: (r) => r.leader === leader.name });
  const mark = follower.lines.length;
  const killedAt = performance.now();
  leader.signal("SIGKILL");
  const leading = await waitForEvent(follower, "I am the leader", {
    from: mark,
    where: (r) => r.epoch !== undefined,
    timeoutMs: SESSION_TIMEOUT_MS + 2000,
  });
  // The session timeout, plus ZooKeeper's expiry tick and the notification: a second is ample.
  assert.ok(leading.at - killedAt < SESSION_TIMEOUT_MS + 1000, `took ${leading.at - killedAt} ms`);
  await lab.waitForSingleLeader();
});

Deno.test("a leader paused past its session timeout never acts as leader again after SIGCONT", async () => {
  await using lab = await startLab({ masters: 2, sessionTimeoutMs: SESSION_TIMEOUT_MS });
  const { leader: paused, epoch: oldEpoch } = await lab.waitForSingleLeader();
  paused.signal("SIGSTOP");
  const successor = lab.masters.find((master) => master !== paused)!;
  const leading = await waitForEvent(successor, "I am the leader", {
    where: (r) => r.epoch !== undefined,
    timeoutMs: SESSION_TIMEOUT_MS + 5000,
  });
  const newEpoch = BigInt(leading.record.epoch);
  assert.notEqual(successor, paused);
  assert.ok(newEpoch > oldEpoch);
  await waitForEvent(lab.worker!, "Accepted a new leader epoch", {
    where: (r) => BigInt(r.epoch) === newEpoch,
  });

  const resumedAt = paused.lines.length;
  paused.signal("SIGCONT");
  const stepDown = await waitForEvent(paused, "I am no longer the leader", { from: resumedAt });
  await waitForEvent(paused, "I am the follower", {
    from: resumedAt,
    where: (r) => r.leader === successor.name,
  });
  // One more status period after rejoining, to give a wrong "I am the leader" time to show.
  const rejoined = paused.lines.length;
  await waitForEvent(paused, "I am the follower", {
    from: rejoined,
    where: (r) => r.leader === undefined,
  });
  assert.deepEqual(
    eventsOf(paused, "I am the leader", resumedAt),
    [],
    "no leader line after SIGCONT",
  );
  // Stepping down is the first thing it says about its role after SIGCONT, and it says it once.
  const roleLines = paused.lines.slice(resumedAt).map((line, offset) => ({
    index: resumedAt + offset,
    msg: parseRecord(line.text)?.msg,
  })).filter(({ msg }) => msg !== undefined && ROLE_MESSAGES.has(msg));
  assert.deepEqual(roleLines[0], { index: stepDown.index, msg: "I am no longer the leader" });
  assert.equal(eventsOf(paused, "I am no longer the leader", resumedAt).length, 1);
  assert.equal(lastRole(paused), "follower");

  // Anything it might send with its old epoch is refused and not performed.
  const performed = eventsOf(lab.worker!, "Performing task: stale").length;
  await assert.rejects(
    lab.performTask({ task_id: "stale", message: "from the past", epoch: String(oldEpoch) }),
    (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.FAILED_PRECONDITION);
      assert.match(error.details, new RegExp(`${oldEpoch}.*${newEpoch}`));
      return true;
    },
  );
  assert.equal(eventsOf(lab.worker!, "Performing task: stale").length, performed);
});
