/**
 * The checker's judging against ZooKeeper's history of leader epochs, on plain data: each rule
 * must catch what it claims to, and never blame a leader for the observer's lag.
 */
import assert from "node:assert/strict";
import { checkRound, type JournalLine } from "./checker.ts";
import { leadershipWindow, type Reading } from "./epoch_windows.ts";
import { checkAgainstHistory, type HistoryEvidence } from "./history_checker.ts";

/** A reading sent at `at` and answered 2 ms later, showing `epochs` (in election order). */
const reading = (at: number, epochs: number[], history = 0): Reading => ({
  history,
  sentAt: at,
  answeredAt: at + 2,
  members: epochs.map((epoch) => ({ name: `m${epoch}`, epoch: BigInt(epoch) })),
});

/** Epoch 5 leads from before 100 until it is gone, seen at 300; epoch 9 leads after that. */
const READINGS = [reading(100, [5]), reading(200, [5, 9]), reading(300, [9]), reading(400, [9])];
const STARTS = [{ history: 0, at: 0 }];

const task = (line: number, at: number, epoch: number, name = `t${line}`): JournalLine => ({
  line,
  at,
  type: "task",
  task: name,
  epoch: BigInt(epoch),
  result: "r",
});

function judge(evidence: Partial<HistoryEvidence>): string[] {
  return checkAgainstHistory({
    readings: READINGS,
    starts: STARTS,
    journal: [],
    outcomes: [],
    claims: [],
    refusals: [],
    ...evidence,
  });
}

Deno.test("leadershipWindow spans from the last reading that excluded an epoch to the first that no longer showed it", () => {
  assert.deepEqual(leadershipWindow(READINGS, STARTS, 0, 5n), { notBefore: 0, notAfter: 302 });
  // 9 was there beside 5 at the reading sent at 200: it cannot have led before then.
  assert.deepEqual(leadershipWindow(READINGS, STARTS, 0, 9n), {
    notBefore: 200,
    notAfter: Infinity,
  });
  assert.equal(leadershipWindow(READINGS, STARTS, 0, 7n), undefined);
});

Deno.test("leadershipWindow ends an epoch's window when its history ends", () => {
  const starts = [{ history: 0, at: 0 }, { history: 1, at: 350 }];
  assert.equal(leadershipWindow(READINGS, starts, 0, 9n)?.notAfter, 350);
});

Deno.test("checkAgainstHistory passes claims, tasks and refusals inside their epochs' windows", () => {
  assert.deepEqual(
    judge({
      journal: [task(1, 150, 5), task(2, 250, 9), task(3, 500, 0)],
      claims: [{ master: "m5", epoch: 5n, at: 290 }, { master: "m9", epoch: 9n, at: 310 }],
      // Sent while 5 still led: refused later by the fence, as it should be, but no lease broken.
      refusals: [{ master: "m5", task: "x", epoch: 5n, sentAt: 290 }],
      outcomes: [{ id: "t2", message: "m", submittedAt: 0, settledAt: 1, sentAt: 240 }],
    }),
    [],
  );
});

Deno.test("checkAgainstHistory reports a leader claim after its node was gone", () => {
  const violations = judge({ claims: [{ master: "m5", epoch: 5n, at: 303 }] });
  assert.equal(violations.length, 1);
  assert.match(
    violations[0],
    /^m5 said "I am the leader" with epoch 5 at .*, but its node was gone/,
  );
});

Deno.test("checkAgainstHistory reports a leader claim before a lower node was gone", () => {
  const violations = judge({ claims: [{ master: "m9", epoch: 9n, at: 199 }] });
  assert.match(violations[0], /before that epoch could lead/);
});

Deno.test("checkAgainstHistory reports a call forwarded with an epoch whose node was gone when it was sent", () => {
  const violations = judge({ refusals: [{ master: "m5", task: "x", epoch: 5n, sentAt: 303 }] });
  assert.match(
    violations[0],
    /^m5 forwarded task x with epoch 5 after .*: it acted without a valid lease$/,
  );
});

Deno.test("checkAgainstHistory reports tasks performed under an epoch that cannot have led then", () => {
  const violations = judge({
    journal: [task(1, 150, 9), task(2, 350, 5, "late"), task(3, 150, 7)],
    outcomes: [{ id: "late", message: "m", submittedAt: 0, settledAt: 1, sentAt: 320 }],
  });
  assert.equal(violations.length, 3);
  assert.match(violations[0], /^journal line 1: task t1 performed under epoch 9 at .*, before/);
  assert.match(violations[1], /^journal line 2: .* before the task was submitted at /);
  assert.match(violations[2], /^journal line 3: .* which ZooKeeper's election never showed$/);
});

Deno.test("checkRound judges the order of epochs within each ZooKeeper history the worker recorded", () => {
  const epoch = (line: number, at: number, value: number): JournalLine => ({
    line,
    at,
    type: "epoch",
    epoch: BigInt(value),
  });
  const restarted: JournalLine = { line: 3, at: 1000, type: "history" };
  const before = [epoch(1, 10, 90), task(2, 20, 90)];
  const after = [epoch(4, 1100, 4), task(5, 1200, 4, "leader_election")];
  const announced = task(6, 1300, 90, "leader_election");
  assert.deepEqual(checkRound([...before, restarted, ...after], []).violations, []);
  // Without the restart, a lower epoch after a higher one is a violation.
  assert.equal(checkRound([...before, ...after], []).violations.length, 2);
  // An announcement repeated in the same history is a duplicate; in a new history it is not.
  const again = { ...announced, epoch: 4n };
  assert.deepEqual(checkRound([...before, restarted, ...after, again], []).duplicated, [
    "history 1: leader_election@4",
  ]);
});
