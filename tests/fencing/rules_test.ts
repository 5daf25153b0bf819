/**
 * Unit tests of `lib/fencing/rules.ts`: which leader epochs the worker serves, refuses or must verify.
 */
import assert from "node:assert/strict";
import {
  afterAccept,
  afterLearn,
  type FenceState,
  historyRestarted,
  judgeEpoch,
  judgeVerified,
  NO_EPOCH,
} from "../../lib/fencing/rules.ts";

const NOTHING_KNOWN: FenceState = { highestAccepted: 0n, leaderEpoch: 0n };
/** The worker has served epoch 10 but has since learnt of a leader with epoch 5 (a lagging view). */
const ACCEPTED_ABOVE_LEADER: FenceState = { highestAccepted: 10n, leaderEpoch: 5n };
/** The worker has served epoch 5 and has learnt of a newer leader with epoch 10. */
const LEADER_ABOVE_ACCEPTED: FenceState = { highestAccepted: 5n, leaderEpoch: 10n };

// --- judgeEpoch ---------------------------------------------------------------------------------

Deno.test("judgeEpoch accepts a request without an epoch (0n)", () => {
  assert.equal(NO_EPOCH, 0n);
  assert.deepEqual(judgeEpoch(0n, NOTHING_KNOWN), { kind: "accept" });
  assert.deepEqual(judgeEpoch(0n, ACCEPTED_ABOVE_LEADER), { kind: "accept" });
  assert.deepEqual(judgeEpoch(0n, LEADER_ABOVE_ACCEPTED), { kind: "accept" });
});

Deno.test("judgeEpoch rejects an epoch below the highest accepted", () => {
  assert.deepEqual(judgeEpoch(7n, ACCEPTED_ABOVE_LEADER), {
    kind: "reject",
    reason: "stale leader epoch 7: the current leader's epoch is 5 and the highest accepted is 10",
  });
});

Deno.test("judgeEpoch rejects the known leader's epoch once a higher one was accepted", () => {
  assert.deepEqual(judgeEpoch(5n, ACCEPTED_ABOVE_LEADER), {
    kind: "reject",
    reason: "stale leader epoch 5: the current leader's epoch is 5 and the highest accepted is 10",
  });
});

Deno.test("judgeEpoch rejects an epoch below the current leader's", () => {
  assert.deepEqual(judgeEpoch(7n, LEADER_ABOVE_ACCEPTED), {
    kind: "reject",
    reason: "stale leader epoch 7: the current leader's epoch is 10 and the highest accepted is 5",
  });
});

Deno.test("judgeEpoch rejects the highest accepted epoch once a newer leader is known", () => {
  assert.deepEqual(judgeEpoch(5n, LEADER_ABOVE_ACCEPTED), {
    kind: "reject",
    reason: "stale leader epoch 5: the current leader's epoch is 10 and the highest accepted is 5",
  });
});

Deno.test("judgeEpoch accepts the current leader's epoch", () => {
  assert.deepEqual(judgeEpoch(10n, LEADER_ABOVE_ACCEPTED), { kind: "accept" });
});

Deno.test("judgeEpoch accepts the current leader's epoch before anything was accepted", () => {
  assert.deepEqual(judgeEpoch(10n, { highestAccepted: 0n, leaderEpoch: 10n }), { kind: "accept" });
});

Deno.test("judgeEpoch accepts the highest accepted epoch", () => {
  assert.deepEqual(judgeEpoch(10n, ACCEPTED_ABOVE_LEADER), { kind: "accept" });
});

Deno.test("judgeEpoch asks for verification of an epoch above everything known", () => {
  assert.deepEqual(judgeEpoch(11n, ACCEPTED_ABOVE_LEADER), { kind: "verify" });
  assert.deepEqual(judgeEpoch(11n, LEADER_ABOVE_ACCEPTED), { kind: "verify" });
});

Deno.test("judgeEpoch asks for verification of any epoch when nothing is known", () => {
  assert.deepEqual(judgeEpoch(1n, NOTHING_KNOWN), { kind: "verify" });
  assert.deepEqual(judgeEpoch(0xffffffffffffffffn, NOTHING_KNOWN), { kind: "verify" });
});

// --- judgeVerified ------------------------------------------------------------------------------

Deno.test("judgeVerified accepts the epoch ZooKeeper names as the leader's", () => {
  assert.deepEqual(judgeVerified(11n, 11n), { kind: "accept" });
});

Deno.test("judgeVerified rejects an epoch when ZooKeeper says there is no leader", () => {
  assert.deepEqual(judgeVerified(11n, 0n), {
    kind: "reject",
    reason: "leader epoch 11 is not the current leader's: ZooKeeper says there is no leader",
  });
});

Deno.test("judgeVerified rejects an epoch that is not the leader's, naming both epochs", () => {
  assert.deepEqual(judgeVerified(11n, 12n), {
    kind: "reject",
    reason: "leader epoch 11 is not the current leader's: ZooKeeper says it is 12",
  });
});

// --- afterAccept --------------------------------------------------------------------------------

Deno.test("afterAccept raises the highest accepted epoch and keeps the leader's", () => {
  assert.deepEqual(afterAccept(11n, LEADER_ABOVE_ACCEPTED), {
    highestAccepted: 11n,
    leaderEpoch: 10n,
  });
});

Deno.test("afterAccept never lowers the highest accepted epoch", () => {
  assert.deepEqual(afterAccept(5n, ACCEPTED_ABOVE_LEADER), ACCEPTED_ABOVE_LEADER);
  assert.deepEqual(afterAccept(0n, ACCEPTED_ABOVE_LEADER), ACCEPTED_ABOVE_LEADER);
});

Deno.test("afterAccept keeps the state for the same epoch", () => {
  assert.deepEqual(afterAccept(10n, ACCEPTED_ABOVE_LEADER), ACCEPTED_ABOVE_LEADER);
});

Deno.test("afterAccept does not change the state it is given", () => {
  const state = { highestAccepted: 1n, leaderEpoch: 1n };
  afterAccept(2n, state);
  assert.deepEqual(state, { highestAccepted: 1n, leaderEpoch: 1n });
});

Deno.test("afterLearn never moves the known leader epoch backwards", () => {
  const state = { highestAccepted: 5n, leaderEpoch: 9n };
  assert.deepEqual(afterLearn(7n, state), state);
  assert.deepEqual(afterLearn(0n, state), state);
  assert.deepEqual(afterLearn(11n, state), { highestAccepted: 5n, leaderEpoch: 11n });
});

Deno.test("historyRestarted when the newest zxid after a sync is below an epoch the fence knows", () => {
  assert.equal(historyRestarted(4n, { highestAccepted: 9n, leaderEpoch: 0n }), true);
  assert.equal(historyRestarted(4n, { highestAccepted: 0n, leaderEpoch: 9n }), true);
  assert.equal(historyRestarted(9n, { highestAccepted: 9n, leaderEpoch: 3n }), false);
  assert.equal(historyRestarted(0n, { highestAccepted: 0n, leaderEpoch: 0n }), false);
});
