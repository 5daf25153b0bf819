/**
 * The successor leads on its predecessor's deletion, without reading the election first, and steps
 * down if the read that follows disagrees. Real ZooKeeper, real LeaderLatch objects in this process.
 */
import assert from "node:assert/strict";
import { encodeMemberInfo } from "../../lib/election/decisions.ts";
import { type LatchRole, LeaderLatch } from "../../lib/election/leader_latch.ts";
import { createLogger } from "../../lib/common/log.ts";
import { connectZk, type ZkClient } from "../../lib/zookeeper/client.ts";
import zookeeper from "node-zookeeper-client";
import { waitFor } from "../../lib/common/wait.ts";
import { startZooKeeper, type ZooKeeperServer } from "../harness/zookeeper.ts";

interface Member {
  readonly latch: LeaderLatch;
  readonly client: ZkClient;
  readonly roles: LatchRole[];
  /** The getChildren calls made so far. */
  listings: number;
}

async function member(zk: ZooKeeperServer, electionPath: string, name: string): Promise<Member> {
  const raw = await connectZk({
    servers: [zk.connectString],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 5000,
  });
  const roles: LatchRole[] = [];
  const client = Object.create(raw) as ZkClient;
  const result: Member = { latch: undefined!, client: raw, roles, listings: 0 };
  client.getChildren = (path, watcher) => {
    result.listings++;
    return raw.getChildren(path, watcher);
  };
  const latch = new LeaderLatch({
    electionPath,
    member: { name, address: "127.0.0.1:1" },
    logger: createLogger("json", { write: () => {} }),
    onChange: (role) => roles.push(role),
  });
  latch.start();
  latch.handleSession({ type: "connected", client, newSession: true });
  return Object.assign(result, { latch });
}

const last = (m: Member) => m.roles.at(-1)?.role;

/** `first` leading and `second` following it on a new path; disposing closes both. */
async function leaderAndFollower(zk: ZooKeeperServer) {
  const path = `/test-${crypto.randomUUID()}`;
  const members: Member[] = [];
  const close = async () => {
    await Promise.all(members.map((m) => m.latch.close()));
    await Promise.all(members.map((m) => m.client.close()));
  };
  try {
    const first = await member(zk, path, "first");
    members.push(first);
    await waitFor(() => last(first) === "leader" || undefined, {
      timeoutMs: 10_000,
      message: "first leads",
    });
    const second = await member(zk, path, "second");
    members.push(second);
    const following = await waitFor(() => {
      const role = second.roles.at(-1);
      return role?.role === "follower" ? role : undefined;
    }, { timeoutMs: 10_000, message: "second follows" });
    return { path, first, second, following, [Symbol.asyncDispose]: close };
  } catch (error) {
    await close();
    throw error;
  }
}

Deno.test("a follower whose predecessor led takes over on its deletion before reading the election", async () => {
  await using zk = await startZooKeeper();
  await using pair = await leaderAndFollower(zk);
  const { first, second } = pair;
  let listingsAtTakeOver = -1;
  const before = second.listings;
  second.roles.push = function (...roles: LatchRole[]) {
    if (roles[0].role === "leader") listingsAtTakeOver = second.listings;
    return Array.prototype.push.apply(this, roles);
  };
  await first.latch.close();
  await waitFor(() => last(second) === "leader" || undefined, {
    timeoutMs: 10_000,
    message: "second leads",
  });
  assert.equal(listingsAtTakeOver, before, "it led before listing the election");
  // The confirming read follows, and agrees: no change of role.
  await waitFor(() => second.listings > before || undefined, {
    timeoutMs: 10_000,
    message: "a confirming read",
  });
  assert.deepEqual(second.roles.slice(-1).map((r) => r.role), ["leader"]);
  assert.equal(second.latch.leadership()?.name, "second");
});

Deno.test("a follower that took over steps down when the confirming read shows a lower node", async () => {
  await using zk = await startZooKeeper();
  await using pair = await leaderAndFollower(zk);
  const { path, first, second } = pair;
  const stranger = await connectZk({
    servers: [zk.connectString],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 5000,
  });
  try {
    // A node named like a master's with a lower sequence than any, which no watch reports to the
    // follower (it watches only its predecessor): made by a program that chooses the name.
    const lower = `master-${crypto.randomUUID()}-0000000000`;
    await stranger.create(
      `${path}/${lower}`,
      encodeMemberInfo({ name: "stranger", address: "127.0.0.1:2" }),
      "ephemeral",
    );
    const mark = second.roles.length;
    await first.latch.close();
    await waitFor(() => second.roles.slice(mark).some((r) => r.role === "follower") || undefined, {
      timeoutMs: 10_000,
      message: "second steps down",
    });
    const seen = second.roles.slice(mark);
    assert.deepEqual(seen.map((r) => r.role), ["leader", "follower"]);
    const follower = seen[1] as Extract<LatchRole, { role: "follower" }>;
    assert.equal(follower.leader.node, lower);
    assert.equal(second.latch.leadership(), undefined);
  } finally {
    await stranger.close();
  }
});

/** Deletes `paths` in one transaction (a multi), as an operator's tool may, with the raw library. */
async function deleteTogether(zk: ZooKeeperServer, paths: readonly string[]): Promise<void> {
  const client = zookeeper.createClient(zk.connectString, { sessionTimeout: 4000 });
  const connected = new Promise<void>((resolve) => client.once("connected", () => resolve()));
  client.connect();
  try {
    await connected;
    const transaction = paths.reduce((t, path) => t.remove(path), client.transaction());
    await new Promise<void>((resolve, reject) =>
      transaction.commit((error) => error ? reject(error) : resolve())
    );
  } finally {
    client.close();
  }
}

Deno.test("a follower whose node goes in the same transaction as its predecessor's steps down at once and joins again", async () => {
  await using zk = await startZooKeeper();
  await using pair = await leaderAndFollower(zk);
  const { path, second, following } = pair;
  const mark = second.roles.length;
  const oldNode = following.self.node;
  // The predecessor's deletion comes first in the transaction, so its event comes first.
  await deleteTogether(zk, [following.predecessor.node, oldNode].map((n) => `${path}/${n}`));
  await waitFor(() => {
    const role = second.roles.at(-1);
    return role && role.role !== "none" && role.self.node !== oldNode ? true : undefined;
  }, { timeoutMs: 10_000, message: "second joins again with a new node" });
  // ZooKeeper may send the two events in separate packets: if second took over between them
  // (the node was already gone; see #takeOver), the very next change is the step-down.
  const after = second.roles.slice(mark);
  const stale = after.findIndex((r) => r.role === "leader" && r.self.node === oldNode);
  if (stale >= 0) {
    assert.equal(after[stale + 1]?.role, "none", "it stepped down at the next event");
  }
  assert.equal(
    after.filter((r) => r.role === "leader" && r.self.node === oldNode).length <= 1,
    true,
  );
});
