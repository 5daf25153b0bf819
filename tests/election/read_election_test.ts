/**
 * readElection with the names of the previous read, on a real ZooKeeper: the known nodes are read
 * in the listing's round trip, new ones after it, and nothing is taken from memory.
 */
import assert from "node:assert/strict";
// @ts-types="@types/node-zookeeper-client"
import zookeeper from "node-zookeeper-client";
import { Buffer } from "node:buffer";
import { encodeMemberInfo, memberNodePrefix } from "../../lib/election/decisions.ts";
import { ElectionNames, readElection } from "../../lib/election/read_election.ts";
import { connectZk, type ZkClient } from "../../lib/zookeeper/client.ts";
import { startZooKeeper, type ZooKeeperServer } from "../harness/zookeeper.ts";

/** `client`, recording when each getData is sent and when each listing is answered. */
function recording(client: ZkClient): { client: ZkClient; events: string[] } {
  const events: string[] = [];
  const recorded = Object.create(client) as ZkClient;
  recorded.getData = (path, watcher) => {
    events.push(`read ${path.split("/").at(-1)}`);
    return client.getData(path, watcher);
  };
  recorded.getChildren = async (path, watcher) => {
    const children = await client.getChildren(path, watcher);
    events.push("listed");
    return children;
  };
  return { client: recorded, events };
}

function connect(zk: ZooKeeperServer): Promise<ZkClient> {
  return connectZk({ servers: [zk.connectString], sessionTimeoutMs: 4000, connectTimeoutMs: 5000 });
}

async function join(client: ZkClient, path: string, guid = crypto.randomUUID()) {
  const created = await client.create(
    `${path}/${memberNodePrefix(guid)}`,
    encodeMemberInfo({ name: "m", address: "127.0.0.1:1" }),
    "ephemeral-sequential",
  );
  return created.slice(path.length + 1);
}

/** setData with the library itself: masters never write over a node, so the adapter cannot. */
async function writeOver(zk: ZooKeeperServer, path: string, data: string): Promise<void> {
  const client = zookeeper.createClient(zk.connectString, { sessionTimeout: 4000, retries: 0 });
  try {
    await new Promise<void>((resolve) => {
      client.once("connected", () => resolve());
      client.connect();
    });
    await new Promise<void>((resolve, reject) =>
      client.setData(path, Buffer.from(data), -1, (error) => error ? reject(error) : resolve())
    );
  } finally {
    client.close();
  }
}

Deno.test("readElection with known names reads them with the listing and only new nodes after it", async () => {
  await using zk = await startZooKeeper();
  const raw = await connect(zk);
  try {
    const { client, events } = recording(raw);
    const path = `/test-${crypto.randomUUID()}`;
    await raw.ensurePath(path);
    const first = await join(raw, path);
    const second = await join(raw, path);
    const known = new ElectionNames();
    await readElection(client, path, { known });
    assert.deepEqual(events.slice(0, 1), ["listed"], "nothing is known before the first read");
    assert.deepEqual(events.slice(1).sort(), [`read ${first}`, `read ${second}`].sort());
    const third = await join(raw, path);
    await raw.remove(`${path}/${first}`);
    events.length = 0;
    const order = await readElection(client, path, { known });
    assert.deepEqual(order.map((c) => c.node), [second, third]);
    // The known ones (the one that left too) go out before the listing is answered.
    const listed = events.indexOf("listed");
    assert.deepEqual(events.slice(0, listed).sort(), [`read ${first}`, `read ${second}`].sort());
    assert.deepEqual(events.slice(listed + 1), [`read ${third}`]);
    assert.deepEqual([...known.names].sort(), [second, third].sort());
  } finally {
    await raw.close();
  }
});

Deno.test("readElection with known names sees junk written over a known node", async () => {
  await using zk = await startZooKeeper();
  const client = await connect(zk);
  try {
    const path = `/test-${crypto.randomUUID()}`;
    await client.ensurePath(path);
    const first = await join(client, path);
    const second = await join(client, path);
    const known = new ElectionNames();
    assert.equal((await readElection(client, path, { known }))[0].node, first);
    await writeOver(zk, `${path}/${first}`, "\u0000junk");
    const order = await readElection(client, path, { known });
    assert.deepEqual(order.map((c) => c.node), [second]);
  } finally {
    await client.close();
  }
});

Deno.test("readElection with known names reads a repeated name afresh after the path was made again", async () => {
  await using zk = await startZooKeeper();
  const client = await connect(zk);
  try {
    const path = `/test-${crypto.randomUUID()}`;
    const guid = crypto.randomUUID();
    await client.ensurePath(path);
    const node = await join(client, path, guid);
    const known = new ElectionNames();
    const [old] = await readElection(client, path, { known });
    await client.remove(`${path}/${node}`);
    await client.remove(path);
    await client.ensurePath(path);
    // Sequence numbers restart with the path: the very same name again, a different node.
    assert.equal(await join(client, path, guid), node);
    const [renewed] = await readElection(client, path, { known });
    assert.equal(renewed.node, old.node);
    assert.ok(renewed.epoch > old.epoch, `epoch ${renewed.epoch} after ${old.epoch}`);
  } finally {
    await client.close();
  }
});
