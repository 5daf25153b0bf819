/**
 * ZooKeeper loses its data (a new ensemble, a wiped dataDir, a restored backup) under running
 * processes: the server refuses their sessions (they have seen higher zxids than it has), so each
 * process must give its session up and open a new one, the masters elect a leader again, and the
 * worker's fence must notice that ZooKeeper's history restarted: accept the new ensemble's leader
 * (whose epoch is lower than the old ones) and still refuse the old ensemble's stale leader.
 */
import assert from "node:assert/strict";
import { grpc } from "../../lib/grpc/grpc.ts";
import { readJournal } from "../../lib/tasks/ledger.ts";
import { connectZk } from "../../lib/zookeeper/client.ts";
import { eventsOf, waitForEvent } from "../harness/events.ts";
import { type Lab, startLab } from "../harness/lab.ts";
import { startZooKeeper, type ZooKeeperServer } from "../harness/zookeeper.ts";

const RESTARTED = "ZooKeeper's history restarted (new or restored ensemble): " +
  "forgetting the old leader epochs; the new ensemble's leader will be accepted once ZooKeeper confirms it";

/** Writes to ZooKeeper until its zxids are well above what a fresh ensemble reaches soon. */
async function ageHistory(zk: ZooKeeperServer, writes: number): Promise<void> {
  const client = await connectZk({
    servers: [zk.connectString],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 5000,
  });
  try {
    for (let i = 0; i < writes; i++) {
      await client.create("/aging", new Uint8Array(), "persistent");
      await client.remove("/aging");
    }
  } finally {
    await client.close();
  }
}

/** Stops ZooKeeper, empties its data directory and starts it again on the same port. */
async function wipe(zk: ZooKeeperServer): Promise<void> {
  await zk.stop();
  await Deno.remove(zk.dataDir, { recursive: true });
  await Deno.mkdir(zk.dataDir);
  await zk.start();
}

function refusedAsStale(error: grpc.ServiceError): boolean {
  assert.equal(error.code, grpc.status.FAILED_PRECONDITION, error.details);
  return true;
}

/** The whole story, with or without the worker's journal. */
async function survivesDataLoss(
  journalPath?: string,
): Promise<{ lab: Lab; oldEpoch: bigint; newEpoch: bigint }> {
  const zk = await startZooKeeper();
  await ageHistory(zk, 150);
  const lab = await startLab({
    zk,
    masters: 2,
    env: journalPath ? { WORKER_JOURNAL: journalPath } : {},
  });
  const { epoch: oldEpoch } = await lab.waitForSingleLeader();
  const marks = [...lab.masters, lab.worker!].map((p) => p.lines.length);
  await wipe(zk);
  for (const [i, process] of [...lab.masters, lab.worker!].entries()) {
    await waitForEvent(process, "ZooKeeper did not take our session back; opening a new one", {
      from: marks[i],
      timeoutMs: 20_000,
    });
  }
  const { epoch: newEpoch } = await lab.waitForSingleLeader(20_000);
  assert.ok(newEpoch < oldEpoch, `the new ensemble's epoch ${newEpoch} is below ${oldEpoch}`);
  const worker = lab.worker!;
  assert.equal(eventsOf(worker, RESTARTED).length, 1, "the worker says so once");
  await waitForEvent(worker, "Performing task: leader_election", { from: marks[2] });

  // The old ensemble's leader is still refused, and its task is not performed.
  await assert.rejects(
    lab.performTask({ task_id: "stale", message: "x", epoch: String(oldEpoch) }),
    refusedAsStale,
  );
  assert.equal(eventsOf(worker, "Performing task: stale").length, 0);
  // The new leader's epoch is served.
  const reply = await lab.performTask({ task_id: "new", message: "y", epoch: String(newEpoch) });
  assert.equal(reply.message, "y gatech");
  for (const master of lab.masters) {
    assert.equal(
      master.hasExited,
      false,
      `${master.name}: ${master.lines.slice(-5).map((l) => l.text).join("\n")}`,
    );
  }
  return { lab, oldEpoch, newEpoch };
}

Deno.test("after ZooKeeper lost its data, the masters elect a leader again and the worker accepts it and still refuses the old ensemble's leader", async () => {
  const { lab } = await survivesDataLoss();
  await using _ = lab;
  await lab.zk.close();
});

Deno.test("with WORKER_JOURNAL, the history restart is journaled, so a restarted worker accepts the new ensemble's leader and refuses the old one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const journal = `${dir}/journal.jsonl`;
    const { lab, oldEpoch, newEpoch } = await survivesDataLoss(journal);
    await using _ = lab;
    try {
      const entries = await readJournal(journal);
      assert.ok(entries.some((entry) => entry.type === "history"), "the journal records it");
      await lab.worker!.stop();
      await lab.startWorker();
      // The journal's old epochs would refuse this as stale if the restart were not in it.
      const reply = await lab.performTask({
        task_id: "after",
        message: "z",
        epoch: String(newEpoch),
      });
      assert.equal(reply.message, "z gatech");
      await assert.rejects(
        lab.performTask({ task_id: "stale2", message: "x", epoch: String(oldEpoch) }),
        refusedAsStale,
      );
      assert.equal(eventsOf(lab.worker!, RESTARTED).length, 0, "nothing restarted this time");
      for (const master of lab.masters) assert.equal(master.hasExited, false, master.name);
    } finally {
      await lab.zk.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
