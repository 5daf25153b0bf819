/** The chaos checker on plain data: it must catch every broken invariant it claims to check. */
import assert from "node:assert/strict";
import { checkRound, highestEpoch, lastEpoch, parseJournal } from "./checker.ts";
import type { TaskOutcome } from "./load.ts";

const at = "2024-05-01T08:32:32.000Z";
const epochLine = (epoch: number) => JSON.stringify({ type: "epoch", epoch: String(epoch), at });
const taskLine = (task: string, epoch: number) =>
  JSON.stringify({ type: "task", task, epoch: String(epoch), result: `m ${task} gatech`, at });
const answered = (id: string): TaskOutcome => ({
  id,
  message: `m ${id}`,
  submittedAt: 0,
  sentAt: 0,
  settledAt: 1,
  answer: `m ${id} gatech`,
});

function check(lines: string[], outcomes: TaskOutcome[] = []) {
  const journal = parseJournal(lines.join("\n") + "\n");
  assert.deepEqual(journal.violations, []);
  return checkRound(journal.lines, outcomes);
}

Deno.test("checkRound passes a journal of failovers with every task under the latest epoch", () => {
  const report = check(
    [
      epochLine(5),
      taskLine("leader_election", 5),
      taskLine("a", 5),
      epochLine(9),
      taskLine("leader_election", 9),
      taskLine("b", 9),
      taskLine("plain", 0),
    ],
    [answered("a"), answered("b")],
  );
  assert.deepEqual(report, {
    violations: [],
    duplicated: [],
    lost: [],
    submitted: 2,
    completed: 2,
  });
});

Deno.test("checkRound reports an epoch accepted after a higher one", () => {
  const report = check([epochLine(9), epochLine(5)]);
  assert.deepEqual(report.violations, ["journal line 2: epoch 5 accepted after epoch 9"]);
});

Deno.test("checkRound reports a task performed with an epoch older than the accepted one", () => {
  const report = check([epochLine(5), epochLine(9), taskLine("late", 5)]);
  assert.deepEqual(report.violations, [
    "journal line 3: task late performed with epoch 5 while the accepted epoch was 9",
  ]);
});

Deno.test("checkRound reports a task performed with an epoch never accepted", () => {
  const report = check([taskLine("early", 5)]);
  assert.equal(report.violations.length, 1);
});

Deno.test("checkRound reports a task id performed twice, and an announcement twice in one epoch", () => {
  const report = check([
    epochLine(5),
    taskLine("leader_election", 5),
    taskLine("a", 5),
    taskLine("leader_election", 5),
    epochLine(9),
    taskLine("a", 9),
  ]);
  assert.deepEqual(report.duplicated, ["leader_election@5", "a"]);
});

Deno.test("checkRound counts a task without its right answer as lost", () => {
  const failed: TaskOutcome = { ...answered("x"), answer: undefined, error: "no answer" };
  const wrong: TaskOutcome = { ...answered("y"), answer: "something else" };
  const report = check([epochLine(5), taskLine("y", 5)], [failed, wrong]);
  assert.equal(report.completed, 0);
  assert.deepEqual(report.lost, ["x: no answer", 'y: answered "something else", not m y gatech']);
});

Deno.test("checkRound reports an answered task that the worker never recorded", () => {
  const report = check([epochLine(5)], [answered("ghost")]);
  assert.deepEqual(report.violations, [
    "task ghost was answered but the worker's journal has no record",
  ]);
});

Deno.test("parseJournal reports lines that are not records instead of skipping them", () => {
  const { lines, violations } = parseJournal(
    `${epochLine(5)}\n{"type":"task","task":"a"\n{"type":"epoch","epoch":7,"at":"x"}\n`,
  );
  assert.equal(lines.length, 1);
  assert.equal(violations.length, 2);
  assert.match(violations[0], /^journal line 2 /);
});

Deno.test("highestEpoch is the largest accepted epoch, 0n for none", () => {
  assert.equal(highestEpoch(parseJournal(`${epochLine(5)}\n${epochLine(12)}\n`).lines), 12n);
  assert.equal(highestEpoch([]), 0n);
});

Deno.test("parseJournal reads the worker's record of a restarted ZooKeeper history", () => {
  const history = JSON.stringify({ type: "history", zxid: "3", at });
  const { lines, violations } = parseJournal(`${epochLine(90)}\n${history}\n${epochLine(4)}\n`);
  assert.deepEqual(violations, []);
  assert.deepEqual(lines.map((line) => line.type), ["epoch", "history", "epoch"]);
  assert.equal(lastEpoch(lines), 4n);
  assert.equal(lastEpoch(lines.slice(0, 2)), 0n);
});
