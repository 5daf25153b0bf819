/**
 * EpochFence on a real ZooKeeper: the deletion of the leader's node tells the fence the new leader
 * without a read, but only while what it read is still exactly how the election is. The fence's
 * reads can be held back (they wait until released), so a test can tell what it learned from a
 * watch event alone.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../lib/common/log.ts";
import { waitFor } from "../../lib/common/wait.ts";
import { encodeMemberInfo, memberNodePrefix } from "../../lib/election/decisions.ts";
import { EpochFence } from "../../lib/fencing/epoch_fence.ts";
import { connectZk, type ZkClient } from "../../lib/zookeeper/client.ts";
import { startZooKeeper, type ZooKeeperServer } from "../harness/zookeeper.ts";

const connect = (zk: ZooKeeperServer) =>
  connectZk({ servers: [zk.connectString], sessionTimeoutMs: 4000, connectTimeoutMs: 5000 });

/**
 * A client whose reads wait while `held` is true: `pending` counts the reads waiting, `answered`
 * those that waited and were then answered.
 */
function holdable(raw: ZkClient) {
  let release = Promise.withResolvers<void>();
  const gate = { held: false, pending: 0, answered: 0 };
  const client = Object.create(raw) as ZkClient;
  const hold = <A extends unknown[], R>(read: (...args: A) => Promise<R>) =>
  async (
    ...args: A
  ): Promise<R> => {
    if (!gate.held) return read.apply(raw, args);
    gate.pending++;
    await release.promise;
    gate.pending--;
    const answer = await read.apply(raw, args);
    gate.answered++;
    return answer;
  };
  client.getChildren = hold(raw.getChildren);
  client.getData = hold(raw.getData);
  client.sync = hold(raw.sync);
  return {
    client,
    gate,
    open() {
      gate.held = false;
      release.resolve();
      release = Promise.withResolvers<void>();
    },
  };
}

/** A master's node under `path`, made by its own session; resolves with the session and epoch. */
async function member(zk: ZooKeeperServer, path: string, name: string) {
  const session = await connect(zk);
  await session.ensurePath(path);
  const node = await session.create(
    `${path}/${memberNodePrefix(crypto.randomUUID())}`,
    encodeMemberInfo({ name, address: "127.0.0.1:1" }),
    "ephemeral-sequential",
  );
  const found = await session.getData(node);
  return { session, node, epoch: found!.stat.czxid };
}

async function fenceOn(zk: ZooKeeperServer, path: string) {
  const raw = await connect(zk);
  const reads = holdable(raw);
  const fence = new EpochFence({
    electionPath: path,
    logger: createLogger("json", { write: () => {} }),
  });
  fence.handleSession({ type: "connected", client: reads.client, newSession: true });
  return { raw, reads, fence };
}

Deno.test("EpochFence learns the new leader from the old leader's deletion, before any read is answered", async () => {
  await using zk = await startZooKeeper();
  const path = `/test-${crypto.randomUUID()}`;
  const first = await member(zk, path, "m1");
  const second = await member(zk, path, "m2");
  const { raw, reads, fence } = await fenceOn(zk, path);
  try {
    await waitFor(() => fence.state.leaderEpoch === first.epoch || undefined, {
      timeoutMs: 10_000,
      message: "the fence knows the first leader",
    });
    reads.gate.held = true;
    await first.session.remove(first.node);
    await waitFor(() => fence.state.leaderEpoch === second.epoch || undefined, {
      timeoutMs: 10_000,
      message: "the fence knows the second leader",
    });
    assert.equal(reads.gate.answered, 0, "no read was answered meanwhile");
    assert.deepEqual(await fence.admit(second.epoch), { kind: "accept" });
    assert.equal(fence.state.highestAccepted, second.epoch);
  } finally {
    reads.open();
    await Promise.all([raw.close(), first.session.close(), second.session.close()]);
  }
});

Deno.test("EpochFence does not learn from a deletion once the election changed since its read", async () => {
  await using zk = await startZooKeeper();
  const path = `/test-${crypto.randomUUID()}`;
  const first = await member(zk, path, "m1");
  const second = await member(zk, path, "m2");
  const { raw, reads, fence } = await fenceOn(zk, path);
  let third: Awaited<ReturnType<typeof member>> | undefined;
  try {
    await waitFor(() => fence.state.leaderEpoch === first.epoch || undefined, {
      timeoutMs: 10_000,
      message: "the fence knows the first leader",
    });
    reads.gate.held = true;
    // A join fires the fence's child watch: its read is held, so its view is no longer exact.
    third = await member(zk, path, "m3");
    await waitFor(() => reads.gate.pending > 0 || undefined, {
      timeoutMs: 10_000,
      message: "the fence reads again after the join",
    });
    // Our own data watch on the node, set after the fence's on the same client, fires after it.
    const seen = Promise.withResolvers<void>();
    await raw.getData(first.node, () => seen.resolve());
    await first.session.remove(first.node);
    await seen.promise;
    assert.equal(fence.state.leaderEpoch, first.epoch, "nothing learned from the deletion");
    reads.open();
    await waitFor(() => fence.state.leaderEpoch === second.epoch || undefined, {
      timeoutMs: 10_000,
      message: "the fence's read names the second leader",
    });
  } finally {
    reads.open();
    await Promise.all([
      raw.close(),
      first.session.close(),
      second.session.close(),
      third?.session.close(),
    ]);
  }
});
