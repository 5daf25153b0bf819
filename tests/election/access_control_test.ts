/**
 * ZK_AUTH: masters authenticate with a digest and create the election's nodes with an ACL (the
 * creator may do everything, everyone else may only read), so other ZooKeeper clients can watch
 * the election but not delete, change or forge its nodes.
 */
import assert from "node:assert/strict";
// @ts-types="@types/node-zookeeper-client"
import zookeeper from "node-zookeeper-client";
import { Buffer } from "node:buffer";
import { leaderOf } from "../../lib/election/decisions.ts";
import { readElection } from "../../lib/election/read_election.ts";
import { connectZk, type ZkClient, ZkError } from "../../lib/zookeeper/client.ts";
import { eventsOf, waitForEvent } from "../harness/events.ts";
import { type Lab, startLab } from "../harness/lab.ts";

const ZK_AUTH = "lab:secret";

function refusedForAuth(error: unknown): boolean {
  assert.ok(error instanceof ZkError, String(error));
  assert.equal(error.code, "NO_AUTH", error.message);
  return true;
}

function connect(lab: Lab, auth?: string): Promise<ZkClient> {
  return connectZk({
    servers: [lab.zk.connectString],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 5000,
    auth,
  });
}

/** Runs `action` with a raw client of the library (for getACL and setData, which masters never use). */
async function withRawClient<T>(
  lab: Lab,
  action: (client: zookeeper.Client) => Promise<T>,
): Promise<T> {
  const client = zookeeper.createClient(lab.zk.connectString, { sessionTimeout: 4000, retries: 0 });
  await new Promise<void>((resolve) => {
    client.once("connected", () => resolve());
    client.connect();
  });
  try {
    return await action(client);
  } finally {
    client.close();
  }
}

Deno.test("with ZK_AUTH, masters elect a leader and fail over as without it", async () => {
  await using lab = await startLab({ masters: 2, env: { ZK_AUTH } });
  const first = await lab.waitForSingleLeader();
  await waitForEvent(lab.worker!, "Performing task: leader_election");
  first.leader.signal("SIGTERM");
  assert.equal((await first.leader.exited).code, 0);
  const second = await lab.waitForSingleLeader();
  assert.notEqual(second.leader, first.leader);
  assert.ok(second.epoch > first.epoch);
});

Deno.test("with ZK_AUTH, an unauthenticated client can read the election but cannot delete the leader's node", async () => {
  await using lab = await startLab({ masters: 2, env: { ZK_AUTH } });
  const { leader, epoch } = await lab.waitForSingleLeader();
  const node = eventsOf(leader, "I am the leader")
    .filter((event) => event.record.node !== undefined).at(-1)!.record.node as string;
  const nodePath = `${lab.electionPath}/${node}`;
  const mark = leader.lines.length;

  const stranger = await connect(lab);
  const impostor = await connect(lab, "lab:wrong-password");
  try {
    // Reading is open: status views and the worker's fence need no credentials.
    assert.equal(leaderOf(await readElection(stranger, lab.electionPath))?.epoch, epoch);
    for (const client of [stranger, impostor]) {
      await assert.rejects(client.remove(nodePath), refusedForAuth);
      // Nor can they add a node that would lead: its sequence would come first...
      await assert.rejects(
        client.create(
          `${lab.electionPath}/master-${crypto.randomUUID()}-0000000000`,
          new TextEncoder().encode('{"name":"ghost","address":"127.0.0.1:1"}'),
          "ephemeral",
        ),
        refusedForAuth,
      );
    }
    // ...or overwrite the leader's node.
    const setDataError = await withRawClient(
      lab,
      (client) =>
        new Promise<unknown>((resolve) =>
          client.setData(nodePath, Buffer.from("junk"), -1, (error) => resolve(error))
        ),
    );
    assert.equal((setDataError as { name?: string })?.name, "NO_AUTH");
    assert.ok(await stranger.exists(nodePath), "the leader's node is still there");
  } finally {
    await stranger.close();
    await impostor.close();
  }
  assert.deepEqual(eventsOf(leader, "I am no longer the leader", mark), []);
  assert.equal((await lab.waitForSingleLeader()).epoch, epoch);

  // The ACL names the masters' identity: world may read, the digest user may do everything.
  const acls = await withRawClient(
    lab,
    (client) =>
      new Promise<zookeeper.ACL[]>((resolve, reject) =>
        client.getACL(nodePath, (error, acls) => error ? reject(error) : resolve(acls))
      ),
  );
  // The library's objects carry `permission`; its type declarations call it `perms`.
  const rules = acls.map((acl) =>
    `${acl.id.scheme}:${acl.id.id.split(":")[0]}=${
      (acl as unknown as { permission: number }).permission
    }`
  ).sort();
  assert.deepEqual(rules, [
    `digest:lab=${zookeeper.Permission.ALL}`,
    `world:anyone=${zookeeper.Permission.READ}`,
  ]);

  // Someone holding the masters' credentials may: the leader then steps down, as it must.
  const operator = await connect(lab, ZK_AUTH);
  try {
    assert.equal(await operator.remove(nodePath), true);
  } finally {
    await operator.close();
  }
  await waitForEvent(leader, "I am no longer the leader", { from: mark });
  assert.ok((await lab.waitForSingleLeader()).epoch > epoch);
});
