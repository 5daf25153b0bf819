/**
 * Unit tests of the model ZooKeeper itself (zk_model.ts, zk_server.ts, zk_client.ts): the
 * simulation is only as good as its model, so its ZooKeeper promises are checked one by one.
 */
import assert from "node:assert/strict";
import { Prng } from "./prng.ts";
import { SimProcess, SimScheduler } from "./scheduler.ts";
import { ModelZkClient } from "./zk_client.ts";
import { BASE_ZXID, ModelZooKeeper } from "./zk_model.ts";
import type { WatchEvent } from "../../lib/zookeeper/client.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

function setup(options: { maxSessionTimeoutMs?: number } = {}) {
  const scheduler = new SimScheduler(new Prng(1));
  const model = new ModelZooKeeper(scheduler, new Prng(2), {
    servers: 3,
    tickMs: 200,
    minSessionTimeoutMs: 400,
    maxSessionTimeoutMs: options.maxSessionTimeoutMs ?? 40_000,
  }, new SimProcess("zookeeper"));
  /** A connected client in a process of its own. */
  const client = async (name: string, sessionTimeoutMs = 2000) => {
    const process = new SimProcess(name);
    const zk = new ModelZkClient(model, process, scheduler.clockFor(process), { sessionTimeoutMs });
    zk.start();
    await until(() => zk.sessionId !== 0n);
    return { zk, process };
  };
  /** Runs the simulation while `promise` settles (at most `ms` simulated ms), then returns it. */
  const settle = async <T>(promise: Promise<T>, ms = 5000): Promise<T> => {
    let done = false;
    promise.then(() => (done = true), () => (done = true));
    await scheduler.run(scheduler.now + ms, () => {}, () => done);
    assert.ok(done, "the operation settled");
    return promise;
  };
  const until = async (condition: () => boolean, ms = 5000) => {
    await scheduler.run(scheduler.now + ms, () => {}, condition);
    assert.ok(condition(), "the condition came true");
  };
  const wait = (ms: number) => scheduler.run(scheduler.now + ms, () => {});
  const serverOf = (zk: ModelZkClient) =>
    model.servers.find((s) => [...s.connections].some((c) => c.sessionId === zk.sessionId))!;
  return { scheduler, model, client, settle, until, wait, serverOf };
}

Deno.test("the model grants the asked session timeout clamped to the server's maximum", async () => {
  const { client } = setup({ maxSessionTimeoutMs: 2000 });
  const { zk } = await client("a", 6000);
  assert.equal(zk.sessionTimeoutMs, 2000);
});

Deno.test("the model's sequential nodes get growing sequences and czxids from the first zxid", async () => {
  const { client, settle } = setup();
  const { zk } = await client("a");
  await settle(zk.ensurePath("/e"));
  const first = await settle(zk.create("/e/n-", bytes("1"), "ephemeral-sequential"));
  const second = await settle(zk.create("/e/n-", bytes("2"), "ephemeral-sequential"));
  assert.deepEqual([first, second], ["/e/n-0000000000", "/e/n-0000000001"]);
  const [a, b] = [await settle(zk.exists(first)), await settle(zk.exists(second))];
  assert.ok(a!.czxid > BASE_ZXID && b!.czxid > a!.czxid);
  assert.equal(a!.ephemeralOwner, zk.sessionId);
});

Deno.test("a silent session expires after its timeout and its ephemeral nodes go", async () => {
  const { client, settle, model, wait, until } = setup();
  const a = await client("a", 1000);
  const b = await client("b");
  const path = await settle(a.zk.create("/n", bytes("x"), "ephemeral"));
  const states: string[] = [];
  a.zk.onState((state) => states.push(state));
  model.cut.add(a.process);
  await wait(900);
  assert.ok(await settle(b.zk.exists(path)), "still there before the timeout");
  await until(() => model.sessions.get(a.zk.sessionId)?.state === "expired", 1000);
  assert.equal(await settle(b.zk.exists(path)), undefined);
  model.cut.delete(a.process);
  a.zk.dropConnection(); // as the lab's heartbeat does after silence
  await until(() => states.includes("expired"));
  await assert.rejects(settle(a.zk.exists("/")), { code: "SESSION_EXPIRED" });
});

Deno.test("a watch event reaches the client before the reply to any later read", async () => {
  const { client, settle, until, serverOf } = setup();
  const a = await client("a");
  const b = await client("b");
  await settle(a.zk.create("/x", bytes("x"), "persistent"));
  const seen: string[] = [];
  await settle(b.zk.getData("/x", (event: WatchEvent) => seen.push(event.type)));
  void a.zk.remove("/x");
  // B's server has applied the deletion (its event is on the way): a read sent now is answered
  // after it, so the client has the event by the time it has the answer.
  await until(() => !serverOf(b.zk).tree.nodes.has("/x"));
  const stat = await settle(b.zk.exists("/x"));
  seen.push(`read: ${stat ? "there" : "gone"}`);
  assert.deepEqual(seen, ["NODE_DELETED", "read: gone"]);
});

Deno.test("a client on a lagging server reads the old state until it syncs", async () => {
  const { client, settle, serverOf, wait, model } = setup();
  const a = await client("a");
  const b = await client("b");
  serverOf(b.zk).lagMs = 1000;
  const creating = a.zk.create("/late", bytes("x"), "persistent");
  await wait(100); // committed by the ensemble's leader by now
  assert.equal(model.tree.nodes.has("/late"), true);
  assert.equal(await settle(b.zk.exists("/late")), undefined, "the lagging server's old state");
  await settle(b.zk.sync(), 10_000);
  await settle(creating);
  assert.ok(await settle(b.zk.exists("/late")), "after sync");
});

Deno.test("after data loss the old client is refused forever and a fresh one gets in", async () => {
  const { client, settle, model, wait } = setup();
  const a = await client("a");
  for (let i = 0; i < 5; i++) await settle(a.zk.create(`/n${i}`, bytes("x"), "persistent"));
  const states: string[] = [];
  a.zk.onState((state) => states.push(state));
  model.loseData();
  await wait(3000);
  assert.deepEqual(states, ["disconnected"], "refused: never connected again, never expired");
  assert.ok(a.zk.refusedHandshakes >= 3, `refused again and again: ${a.zk.refusedHandshakes}`);
  const fresh = await client("b");
  const path = await settle(fresh.zk.create("/again", bytes("x"), "persistent"));
  const stat = await settle(fresh.zk.exists(path));
  assert.ok(stat!.czxid <= BASE_ZXID + 3n, `zxids start again: ${stat!.czxid}`);
});

Deno.test("a reconnected client's watch fires for a change it missed while cut off", async () => {
  const { client, settle, model, until, wait } = setup();
  const a = await client("a");
  const b = await client("b", 10_000);
  await settle(a.zk.create("/w", bytes("x"), "persistent"));
  const seen: string[] = [];
  await settle(b.zk.exists("/w", (event) => seen.push(event.type)));
  model.cut.add(b.process);
  await settle(a.zk.remove("/w"));
  await wait(100);
  assert.deepEqual(seen, []);
  model.cut.delete(b.process);
  b.zk.dropConnection();
  await until(() => seen.length > 0);
  assert.deepEqual(seen, ["NODE_DELETED"]);
});

Deno.test("a lost reply fails the request with CONNECTION_LOSS although the server did it", async () => {
  const { client, settle, model } = setup();
  const a = await client("a");
  model.loseNextReply.add(a.process);
  await assert.rejects(settle(a.zk.create("/lost", bytes("x"), "persistent")), {
    code: "CONNECTION_LOSS",
  });
  // The create happened although its reply was lost (sync: the new server may not have it yet).
  await settle(a.zk.sync());
  assert.ok(await settle(a.zk.exists("/lost")));
});
