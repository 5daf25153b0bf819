/**
 * When log lines are written (lib/common/line_buffer.ts), with a fake clock, fake timers and a
 * fake end of turn, so that no assertion depends on how fast the machine is.
 */
import assert from "node:assert/strict";
import { GATHER_MS, LineBuffer } from "../../lib/common/line_buffer.ts";

/** A LineBuffer whose writes, clock, timers and turn ends the test drives. */
function harness() {
  const writes: string[] = [];
  const turnEnds: (() => void)[] = [];
  const timers: { run: () => void; ms: number; cancelled: boolean }[] = [];
  let now = 1000;
  const buffer = new LineBuffer({
    write: (text) => writes.push(text),
    now: () => now,
    atTurnEnd: (run) => turnEnds.push(run),
    setTimer: (run, ms) => {
      const timer = { run, ms, cancelled: false };
      timers.push(timer);
      return () => timer.cancelled = true;
    },
  });
  return {
    buffer,
    writes,
    timers,
    advance: (ms: number) => now += ms,
    /** Ends the turn: runs what was scheduled for its end. */
    endTurn: () => turnEnds.splice(0).forEach((run) => run()),
    /** Fires the timers that are due and not cancelled. */
    fireTimers: () => timers.splice(0).filter((t) => !t.cancelled).forEach((t) => t.run()),
  };
}

Deno.test("LineBuffer writes the lines of a turn in one write at the end of the turn", () => {
  const { buffer, writes, endTurn } = harness();
  buffer.push("a");
  buffer.push("b", { frequent: true });
  buffer.push("c");
  assert.deepEqual(writes, []);
  endTurn();
  assert.deepEqual(writes, ["a\nb\nc\n"]);
});

Deno.test("LineBuffer writes a frequent line at the end of its turn after a quiet spell", () => {
  const { buffer, writes, timers, endTurn } = harness();
  buffer.push("Performing task: 1", { frequent: true });
  endTurn();
  assert.deepEqual(writes, ["Performing task: 1\n"]);
  assert.equal(timers.length, 0);
});

Deno.test("LineBuffer gathers frequent lines that follow a write into one write within GATHER_MS", () => {
  const { buffer, writes, timers, advance, endTurn, fireTimers } = harness();
  buffer.push("Performing task: 1", { frequent: true });
  endTurn();
  advance(2);
  buffer.push("Performing task: 2", { frequent: true });
  endTurn();
  advance(3);
  buffer.push("Performing task: 3", { frequent: true });
  endTurn();
  assert.deepEqual(writes, ["Performing task: 1\n"], "the later ones wait");
  assert.deepEqual(
    timers.map((t) => t.ms),
    [GATHER_MS - 2],
    "one timer, due GATHER_MS after the write",
  );
  fireTimers();
  assert.deepEqual(writes, ["Performing task: 1\n", "Performing task: 2\nPerforming task: 3\n"]);
});

Deno.test("LineBuffer sends waiting frequent lines with the next other line, in order", () => {
  const { buffer, writes, timers, advance, endTurn } = harness();
  buffer.push("Performing task: 1", { frequent: true });
  endTurn();
  advance(1);
  buffer.push("Performing task: 2", { frequent: true });
  endTurn();
  buffer.push("Accepted a new leader epoch");
  buffer.push("Performing task: leader_election", { frequent: true });
  endTurn();
  assert.deepEqual(writes, [
    "Performing task: 1\n",
    "Performing task: 2\nAccepted a new leader epoch\nPerforming task: leader_election\n",
  ]);
  assert.equal(timers[0].cancelled, true, "the write made the timer needless");
});

Deno.test("LineBuffer flush writes every waiting line at once", () => {
  const { buffer, writes, advance, endTurn } = harness();
  buffer.push("a", { frequent: true });
  endTurn();
  advance(1);
  buffer.push("b", { frequent: true });
  buffer.push("c");
  buffer.flush();
  assert.deepEqual(writes, ["a\n", "b\nc\n"]);
  endTurn();
  buffer.flush();
  assert.deepEqual(writes, ["a\n", "b\nc\n"], "nothing is written twice, no empty write");
});
