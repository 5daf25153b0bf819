/**
 * LeaderLatch's interleavings against a scripted ZooKeeper and a manual clock: replies that come
 * after the read timeout, a session lost in the middle of a check, a ZooKeeper that does not
 * answer a stopping master. (The election with real ZooKeeper is leader_election_test.ts.)
 */
import assert from "node:assert/strict";
import { createLogger } from "../../lib/common/log.ts";
import { encodeMemberInfo } from "../../lib/election/decisions.ts";
import { type LatchRole, LeaderLatch, LEAVE_TIMEOUT_MS } from "../../lib/election/leader_latch.ts";
import { readTimeoutMs } from "../../lib/zookeeper/lease.ts";
import { ManualClock, ScriptedClient, ScriptedZooKeeper, settle } from "./scripted_zk.ts";

const PATH = "/election";
const OTHER_GUID = "0a1b2c3d-0000-4000-8000-00000000000a";

function setup() {
  const clock = new ManualClock();
  const zk = new ScriptedZooKeeper(clock);
  const roles: { role: LatchRole; at: number }[] = [];
  const lines: string[] = [];
  let guids = 0;
  const latch = new LeaderLatch({
    electionPath: PATH,
    member: { name: "master1", address: "m1:50051" },
    logger: createLogger("text", { write: (line) => lines.push(line), now: () => 0 }),
    onChange: (role) => roles.push({ role, at: clock.now() }),
    clock,
    random: () => 0,
    newGuid: () => `0a1b2c3d-0000-4000-8000-${String(++guids).padStart(12, "0")}`,
  });
  return { clock, zk, latch, roles, lines };
}

/** Closes the latch, moving the clock so that its last requests are answered. */
async function closeOn(clock: ManualClock, latch: LeaderLatch): Promise<void> {
  const closing = latch.close();
  await clock.advance(LEAVE_TIMEOUT_MS + 1);
  await closing;
}

Deno.test("LeaderLatch claims leadership only while the reads that chose it still give it a lease", async () => {
  const { clock, zk, latch, roles, lines } = setup();
  const client = zk.session(0x2n);
  const readTimeout = readTimeoutMs(client.sessionTimeoutMs);
  // Every reply takes longer than the read timeout: no read can prove that we lead now.
  zk.replyDelayMs = readTimeout + 100;
  latch.start();
  latch.handleSession({ type: "connected", client, newSession: true });
  for (let i = 0; i < 100; i++) await clock.advance(100);
  assert.deepEqual(roles.filter((r) => r.role.role === "leader"), [], "no claim without a lease");
  assert.equal(lines.filter((line) => line.endsWith("I am the leader")).length, 0);

  // Fast answers again: the next check claims it, with a lease.
  zk.replyDelayMs = 10;
  for (let i = 0; i < 50 && !latch.leadership(); i++) await clock.advance(100);
  const claims = roles.filter((r) => r.role.role === "leader");
  assert.equal(claims.length, 1);
  assert.ok(claims[0].at - client.lastConfirmedAt < readTimeout);
  await closeOn(clock, latch);
});

Deno.test("LeaderLatch reports no role learned in a session that was lost while the check ran", async () => {
  const { clock, zk, latch, roles } = setup();
  // Another master leads, so our check ends by watching it (an `exists`, the last await).
  zk.create(
    `${PATH}/master-${OTHER_GUID}-`,
    encodeMemberInfo({ name: "m0", address: "m0:1" }),
    0x1n,
  );
  const first = zk.session(0x2n);
  const second = zk.session(0x3n);
  zk.replyDelayMs = 10;
  let lostAt = -1;
  const exists = first.exists.bind(first);
  first.exists = (path, watcher) => {
    const reply = exists(path, watcher);
    // The session dies while the reply is on its way, and a new one connects.
    void first.close();
    latch.handleSession({ type: "lost", reason: "ZooKeeper session expired" });
    lostAt = roles.length;
    latch.handleSession({ type: "connected", client: second, newSession: true });
    return reply;
  };
  latch.start();
  latch.handleSession({ type: "connected", client: first, newSession: true });
  for (let i = 0; i < 30; i++) await clock.advance(20);
  assert.ok(lostAt >= 0, "the session was lost during the check");
  const afterLoss = roles.slice(lostAt).filter((r) => r.role.role !== "none");
  assert.ok(afterLoss.length > 0, "the new session takes part");
  for (const { role } of afterLoss) {
    assert.ok(
      role.role !== "none" && role.self.owner === 0x3n,
      `role from the lost session: ${
        JSON.stringify(role, (_, v) => typeof v === "bigint" ? String(v) : v)
      }`,
    );
  }
  await closeOn(clock, latch);
});

Deno.test("LeaderLatch.close resolves within its bound when ZooKeeper does not answer the deletion", async () => {
  const { clock, zk, latch } = setup();
  const client: ScriptedClient = zk.session(0x2n);
  zk.replyDelayMs = 10;
  latch.start();
  latch.handleSession({ type: "connected", client, newSession: true });
  for (let i = 0; i < 20 && !latch.leadership(); i++) await clock.advance(20);
  assert.ok(latch.leadership(), "it leads");
  zk.replyDelayMs = 60_000; // silent from now on
  let closed = false;
  void latch.close().then(() => closed = true);
  await settle();
  assert.equal(latch.leadership(), undefined, "leadership ends at once");
  await clock.advance(LEAVE_TIMEOUT_MS + 1);
  assert.equal(closed, true, `close() still waits after ${LEAVE_TIMEOUT_MS} ms`);
  assert.ok(LEAVE_TIMEOUT_MS <= 500, "well inside the 1.8 s exit deadline");
});
