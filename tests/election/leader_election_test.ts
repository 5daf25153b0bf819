/** The election with real ZooKeeper and real processes: one leader, announced, never two. */
import assert from "node:assert/strict";
import { connectZk, type ZkError } from "../../lib/zookeeper/client.ts";
import { eventsOf, lastRole, waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";

Deno.test("two masters elect exactly one leader, which announces itself to the worker with its epoch", async () => {
  await using lab = await startLab({ masters: 2 });
  const { leader, epoch } = await lab.waitForSingleLeader();
  const follower = lab.masters.find((master) => master !== leader)!;
  await waitForEvent(follower, "I am the follower", { where: (r) => r.leader === leader.name });
  const announced = await waitForEvent(lab.worker!, "Performing task: leader_election");
  const accepted = eventsOf(lab.worker!, "Accepted a new leader epoch");
  assert.equal(accepted.length, 1);
  assert.equal(BigInt(accepted[0].record.epoch), epoch);
  assert.ok(accepted[0].index < announced.index);
  assert.equal(lastRole(follower), "follower");
  // The periodic lines are the original lab's, word for word.
  await waitForEvent(leader, "I am the leader", { where: (r) => r.epoch === undefined });
  await waitForEvent(follower, "I am the follower", { where: (r) => r.leader === undefined });
});

Deno.test("masters log in the original lab's Go format by default", async () => {
  await using lab = await startLab({ masters: 1, env: { LOG_FORMAT: "text" }, worker: false });
  const [master] = lab.masters;
  await master.waitForLine(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d I am the leader$/);
});

Deno.test("deleting the election path under running masters elects exactly one leader again with a higher epoch", async () => {
  await using lab = await startLab({ masters: 2 });
  const before = await lab.waitForSingleLeader();
  const client = await connectZk({
    servers: [lab.zk.connectString],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 5000,
  });
  try {
    // As zkCli's deleteall: the children, then the path. A master whose node goes first may join
    // again before the path goes (ZooKeeper answers NOT_EMPTY), so delete again what is there.
    for (let attempt = 1;; attempt++) {
      for (const child of await client.getChildren(lab.electionPath)) {
        await client.remove(`${lab.electionPath}/${child}`);
      }
      try {
        await client.remove(lab.electionPath);
        break;
      } catch (error) {
        if ((error as ZkError).code !== "NOT_EMPTY" || attempt === 10) throw error;
      }
    }
  } finally {
    await client.close();
  }
  const marks = lab.masters.map((m) => m.lines.length);
  await Promise.all(
    lab.masters.map((m, i) => waitForEvent(m, "Joined the election", { from: marks[i] })),
  );
  const after = await lab.waitForSingleLeader();
  assert.ok(after.epoch > before.epoch, `new epoch ${after.epoch} must exceed ${before.epoch}`);
});

Deno.test("a leader whose node is deleted by another program steps down and rejoins as follower", async () => {
  await using lab = await startLab({ masters: 2 });
  const { leader, epoch } = await lab.waitForSingleLeader();
  const node = eventsOf(leader, "I am the leader").findLast((e) => e.record.node)!.record
    .node as string;
  const mark = leader.lines.length;
  const client = await connectZk({
    servers: [lab.zk.connectString],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 5000,
  });
  try {
    assert.equal(await client.remove(`${lab.electionPath}/${node}`), true);
  } finally {
    await client.close();
  }
  await waitForEvent(leader, "I am no longer the leader", { from: mark });
  await waitForEvent(leader, "I am the follower", {
    from: mark,
    where: (r) => r.leader !== undefined,
  });
  const after = await lab.waitForSingleLeader();
  assert.notEqual(after.leader, leader);
  assert.ok(after.epoch > epoch);
});

Deno.test("nodes under the election path that are not masters' are ignored, never followed", async () => {
  await using lab = await startLab({ masters: 0 });
  const junk = await connectZk({
    servers: [lab.zk.connectString],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 5000,
  });
  try {
    await junk.ensurePath(lab.electionPath);
    const bytes = (text: string) => new TextEncoder().encode(text);
    // Lower sequences than any master's: each would lead if it counted.
    await junk.create(`${lab.electionPath}/lock-`, bytes("not a master"), "ephemeral-sequential");
    const guid = crypto.randomUUID();
    await junk.create(
      `${lab.electionPath}/master-${guid}-`,
      bytes("\u0000garbage\u00ff"),
      "ephemeral-sequential",
    );
    await junk.create(
      `${lab.electionPath}/master-${crypto.randomUUID()}-`,
      bytes('{"name":"ghost","address":"ghost:1"}'),
      "persistent",
    );
    await lab.startMaster();
    await lab.startMaster();
    const { leader } = await lab.waitForSingleLeader();
    assert.equal(leader.name, "master1");
    await waitForEvent(lab.masters[1], "I am the follower", {
      where: (r) => r.leader === "master1",
    });
  } finally {
    await junk.close();
  }
});
