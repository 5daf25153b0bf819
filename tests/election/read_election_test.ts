/** readElection with a cache, on a real ZooKeeper: one listing per change, and never a stale node. */
import assert from "node:assert/strict";
import { encodeMemberInfo, memberNodePrefix } from "../../lib/election/decisions.ts";
import { ElectionCache, readElection } from "../../lib/election/read_election.ts";
import { connectZk, type ZkClient } from "../../lib/zookeeper/client.ts";
import { startZooKeeper } from "../harness/zookeeper.ts";

/** `client` with a count of its getData calls. */
function counting(client: ZkClient): { client: ZkClient; reads: () => number } {
  let reads = 0;
  const counted = Object.create(client) as ZkClient;
  counted.getData = (path, watcher) => {
    reads++;
    return client.getData(path, watcher);
  };
  return { client: counted, reads: () => reads };
}

async function join(client: ZkClient, path: string, guid = crypto.randomUUID()) {
  const created = await client.create(
    `${path}/${memberNodePrefix(guid)}`,
    encodeMemberInfo({ name: "m", address: "127.0.0.1:1" }),
    "ephemeral-sequential",
  );
  return created.slice(path.length + 1);
}

Deno.test("readElection with a cache reads the data of new nodes only, and forgets nodes that left", async () => {
  await using zk = await startZooKeeper();
  const raw = await connectZk({
    servers: [zk.connectString],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 5000,
  });
  try {
    const { client, reads } = counting(raw);
    const path = `/test-${crypto.randomUUID()}`;
    await raw.ensurePath(path);
    const first = await join(raw, path);
    const second = await join(raw, path);
    const cache = new ElectionCache();
    const before = await readElection(client, path, { cache });
    assert.deepEqual(before.map((c) => c.node), [first, second]);
    assert.equal(reads(), 2);
    const third = await join(raw, path);
    await raw.remove(`${path}/${first}`);
    const after = await readElection(client, path, { cache });
    assert.deepEqual(after.map((c) => c.node), [second, third]);
    assert.equal(reads(), 3, "only the new node is read");
    assert.deepEqual(after[0], before[1], "a known node's facts come from the cache");
  } finally {
    await raw.close();
  }
});

Deno.test("readElection with a cache reads a repeated name afresh after the path was made again", async () => {
  await using zk = await startZooKeeper();
  const client = await connectZk({
    servers: [zk.connectString],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 5000,
  });
  try {
    const path = `/test-${crypto.randomUUID()}`;
    const guid = crypto.randomUUID();
    await client.ensurePath(path);
    const node = await join(client, path, guid);
    const cache = new ElectionCache();
    const [old] = await readElection(client, path, { cache });
    await client.remove(`${path}/${node}`);
    await client.remove(path);
    await client.ensurePath(path);
    // Sequence numbers restart with the path: the very same name again, a different node.
    assert.equal(await join(client, path, guid), node);
    const [renewed] = await readElection(client, path, { cache });
    assert.equal(renewed.node, old.node);
    assert.ok(renewed.epoch > old.epoch, `epoch ${renewed.epoch} after ${old.epoch}`);
  } finally {
    await client.close();
  }
});
