/** The worker's fence, called directly: stale epochs are refused, also by a restarted worker. */
import assert from "node:assert/strict";
import { readElection } from "../../lib/election/read_election.ts";
import { grpc } from "../../lib/grpc/grpc.ts";
import { connectZk } from "../../lib/zookeeper/client.ts";
import { eventsOf, waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";

function refusedWith(code: grpc.status, pattern?: RegExp) {
  return (error: grpc.ServiceError) => {
    assert.equal(
      error.code,
      code,
      `expected ${grpc.status[code]}, got ${grpc.status[error.code]}: ${error.details}`,
    );
    if (pattern) assert.match(error.details, pattern);
    return true;
  };
}

Deno.test("the worker answers the original RPC check with Hello, worker! gatech", async () => {
  await using lab = await startLab({ masters: 0 });
  const mark = lab.worker!.lines.length;
  const reply = await lab.performTask({ task_id: "1", message: "Hello, worker!" });
  assert.equal(reply.message, "Hello, worker! gatech");
  await waitForEvent(lab.worker!, "Performing task: 1", { from: mark });
});

Deno.test("the worker refuses an epoch older than the current leader's, also right after it restarts", async () => {
  await using lab = await startLab({ masters: 2 });
  const first = await lab.waitForSingleLeader();
  first.leader.signal("SIGTERM");
  await first.leader.exited;
  const second = await lab.waitForSingleLeader();
  assert.ok(second.epoch > first.epoch);

  const stale = () =>
    assert.rejects(
      lab.performTask({ task_id: "stale", message: "old", epoch: String(first.epoch) }),
      refusedWith(grpc.status.FAILED_PRECONDITION, new RegExp(`${first.epoch}.*${second.epoch}`)),
    );
  await stale();

  // A restarted worker has forgotten what it accepted; ZooKeeper still tells it who leads.
  await lab.worker!.stop();
  await lab.startWorker();
  await stale();
  assert.equal(eventsOf(lab.worker!, "Performing task: stale").length, 0);

  const current = await lab.performTask({
    task_id: "current",
    message: "hi",
    epoch: String(second.epoch),
  });
  assert.equal(current.message, "hi gatech");
  const plain = await lab.performTask({ task_id: "plain", message: "Hello, worker!" });
  assert.equal(plain.message, "Hello, worker! gatech");
});

Deno.test("a forged epoch higher than the leader's is refused and does not lock the leader out", async () => {
  await using lab = await startLab({ masters: 2 });
  const { epoch } = await lab.waitForSingleLeader();
  const forged = epoch + 1_000_000n;
  await assert.rejects(
    lab.performTask({ task_id: "forged", message: "x", epoch: String(forged) }),
    refusedWith(
      grpc.status.FAILED_PRECONDITION,
      new RegExp(`${forged}.*not the current leader's.*${epoch}`),
    ),
  );
  const reply = await lab.performTask({ task_id: "real", message: "y", epoch: String(epoch) });
  assert.equal(reply.message, "y gatech");
});

Deno.test("a follower's epoch is refused by the worker", async () => {
  await using lab = await startLab({ masters: 2 });
  const { epoch } = await lab.waitForSingleLeader();
  const client = await connectZk({
    servers: [lab.zk.connectString],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 5000,
  });
  let followerEpoch: bigint;
  try {
    const order = await readElection(client, lab.electionPath);
    assert.equal(order.length, 2);
    assert.equal(order[0].epoch, epoch);
    followerEpoch = order[1].epoch;
  } finally {
    await client.close();
  }
  assert.ok(followerEpoch > epoch);
  await assert.rejects(
    lab.performTask({ task_id: "f", message: "x", epoch: String(followerEpoch) }),
    refusedWith(
      grpc.status.FAILED_PRECONDITION,
      new RegExp(`${followerEpoch} is not the current leader's.*${epoch}`),
    ),
  );
  assert.equal(eventsOf(lab.worker!, "Performing task: f").length, 0);
});
