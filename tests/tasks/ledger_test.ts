/** The worker's memory of performed tasks: at most once per id, bounded, kept across restarts. */
import assert from "node:assert/strict";
import { readJournal, taskKey, TaskLedger } from "../../lib/tasks/ledger.ts";

Deno.test("taskKey keeps one announcement per epoch and one of any other task ever", () => {
  assert.equal(taskKey("leader_election", 7n), "leader_election@7");
  assert.equal(taskKey("job-1", 7n), "job-1");
  assert.equal(taskKey("job-1", 9n), "job-1");
});

Deno.test("TaskLedger returns the first result of a repeated task id", async () => {
  const ledger = await TaskLedger.open({ window: 10 });
  ledger.recordTask("a", 5n, "first gatech");
  assert.equal(ledger.lookup("a", 6n), "first gatech");
  assert.equal(ledger.lookup("b", 5n), undefined);
});

Deno.test("TaskLedger forgets the oldest task ids beyond its window", async () => {
  const ledger = await TaskLedger.open({ window: 2 });
  for (const id of ["a", "b", "c"]) ledger.recordTask(id, 1n, `${id} gatech`);
  assert.equal(ledger.size, 2);
  assert.equal(ledger.lookup("a", 1n), undefined);
  assert.equal(ledger.lookup("c", 1n), "c gatech");
});

Deno.test("TaskLedger counts a task id recorded again as the newest", async () => {
  const ledger = await TaskLedger.open({ window: 2 });
  for (const id of ["a", "b", "a", "c"]) ledger.recordTask(id, 1n, `${id} gatech`);
  assert.equal(ledger.size, 2);
  assert.equal(ledger.lookup("b", 1n), undefined);
  assert.equal(ledger.lookup("a", 1n), "a gatech");
  assert.equal(ledger.lookup("c", 1n), "c gatech");
});

Deno.test("TaskLedger remembers what a plain insertion-ordered window would, over many records", async () => {
  const window = 50;
  const ledger = await TaskLedger.open({ window });
  // The reference: a Map whose first key is the oldest, a re-recorded id moved to the end.
  const model = new Map<string, string>();
  let seed = 1; // xorshift32: a fixed, well-spread sequence
  const random = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  for (let i = 0; i < 20_000; i++) {
    const id = `t${random() % 200}`; // ids repeat, so some are recorded again
    ledger.recordTask(id, 1n, `r${i}`);
    model.delete(id);
    model.set(id, `r${i}`);
    while (model.size > window) model.delete(model.keys().next().value!);
  }
  assert.equal(model.size, window);
  assert.equal(ledger.size, window);
  for (let id = 0; id < 200; id++) assert.equal(ledger.lookup(`t${id}`, 1n), model.get(`t${id}`));
});

Deno.test("TaskLedger reloads its window and highest epoch from the journal after a restart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/journal.jsonl`;
    const first = await TaskLedger.open({ window: 10, journalPath: path });
    first.recordEpoch(5n);
    first.recordTask("a", 5n, "a gatech");
    first.recordEpoch(3n); // not higher: not recorded
    first.close();
    const second = await TaskLedger.open({ window: 10, journalPath: path });
    assert.equal(second.highestEpoch, 5n);
    assert.equal(second.lookup("a", 5n), "a gatech");
    second.close();
    assert.deepEqual((await readJournal(path)).map((entry) => entry.type), ["epoch", "task"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TaskLedger cuts a torn last line so the next record is not lost with it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/journal.jsonl`;
    const whole = JSON.stringify({ type: "task", task: "a", epoch: "1", result: "r", at: "" });
    await Deno.writeTextFile(path, `${whole}\n{"type":"task","task":"b","ep`);
    const ledger = await TaskLedger.open({ window: 10, journalPath: path });
    ledger.recordTask("c", 1n, "c gatech");
    ledger.close();
    const tasks = (await readJournal(path)).map((entry) => entry.type === "task" && entry.task);
    assert.deepEqual(tasks, ["a", "c"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TaskLedger skips journal lines that are JSON but not records, and says which", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/journal.jsonl`;
    const good = JSON.stringify({
      type: "task",
      task: "a",
      epoch: "1",
      result: "a gatech",
      at: "",
    });
    const lines = [
      good,
      JSON.stringify({ type: "task" }), // no epoch: BigInt(undefined) would throw
      "[1,2]",
      "null",
      JSON.stringify({ type: "epoch", epoch: "seven" }),
      JSON.stringify({ type: "what" }),
      JSON.stringify({ type: "epoch", epoch: "9", at: "" }),
    ];
    await Deno.writeTextFile(path, lines.join("\n") + "\n");
    const skipped: [number, string][] = [];
    const ledger = await TaskLedger.open({
      window: 10,
      journalPath: path,
      onSkippedLine: (line, reason) => skipped.push([line, reason]),
    });
    assert.equal(ledger.lookup("a", 1n), "a gatech");
    assert.equal(ledger.highestEpoch, 9n);
    ledger.close();
    assert.deepEqual(skipped.map(([line]) => line), [2, 3, 4, 5, 6]);
    assert.match(skipped[0][1], /"task" must be a string/);
    assert.match(skipped[3][1], /"epoch" must be a decimal string/);
    assert.match(skipped[4][1], /unknown "type": "what"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TaskLedger forgets the highest epoch at a history line: the epochs before it belong to an old ZooKeeper", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/journal.jsonl`;
    const first = await TaskLedger.open({ window: 10, journalPath: path });
    first.recordEpoch(0x300000010n);
    first.recordTask("a", 0x300000010n, "a gatech");
    first.recordHistory({ marker: "m1", lastZxid: 0x300000020n, restarted: false });
    first.recordHistory({ marker: "m2", lastZxid: 7n, restarted: true });
    first.recordEpoch(5n);
    first.close();
    const second = await TaskLedger.open({ window: 10, journalPath: path });
    assert.equal(second.highestEpoch, 5n);
    assert.equal(second.historyMarker, "m2");
    assert.equal(second.lookup("a", 5n), "a gatech", "tasks are still performed at most once");
    second.close();
    assert.deepEqual((await readJournal(path)).map((entry) => entry.type), [
      "epoch",
      "task",
      "history",
      "history",
      "epoch",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
