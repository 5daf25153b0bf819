/**
 * EpochFence against a scripted ZooKeeper (tests/election/scripted_zk.ts): what a lagging server or
 * a restarted history tells it, in orders that real processes cannot produce on demand.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../lib/common/log.ts";
import { encodeMemberInfo } from "../../lib/election/decisions.ts";
import { EpochFence } from "../../lib/fencing/epoch_fence.ts";
import { ManualClock, ScriptedZooKeeper } from "../election/scripted_zk.ts";

const PATH = "/election";
const GUID_OLD = "0a1b2c3d-0000-4000-8000-00000000000a";
const GUID_NEW = "0a1b2c3d-0000-4000-8000-00000000000b";

function fenceWith(clock: ManualClock, highestAccepted: bigint) {
  const lines: string[] = [];
  const fence = new EpochFence({
    electionPath: PATH,
    logger: createLogger("text", { write: (line) => lines.push(line), now: () => 0 }),
    highestAccepted,
    clock,
  });
  return { fence, lines };
}

/** Moves the clock until `promise` settles (the fence's reads are answered on the clock). */
async function settled<T>(clock: ManualClock, promise: Promise<T>): Promise<T> {
  let done = false;
  promise.finally(() => done = true).catch(() => {});
  for (let i = 0; i < 200 && !done; i++) await clock.advance(10);
  return promise;
}

function addLeader(zk: ScriptedZooKeeper, guid: string, name: string, owner: bigint): bigint {
  const path = zk.create(
    `${PATH}/master-${guid}-`,
    encodeMemberInfo({ name, address: `${name}:1` }),
    owner,
  );
  return zk.nodes.get(path)!.czxid;
}

Deno.test("EpochFence keeps the newer leader epoch when a new session reads an older one from a lagging server", async () => {
  const clock = new ManualClock();
  // The ensemble's view: the old leader's node is gone, a new leader leads.
  const current = new ScriptedZooKeeper(clock);
  current.zxid = 500n;
  const oldEpoch = 400n;
  const newEpoch = addLeader(current, GUID_NEW, "m2", 0x2n);
  // A server that lags behind: it still shows the old leader.
  const lagging = new ScriptedZooKeeper(clock);
  lagging.zxid = oldEpoch - 1n;
  assert.equal(addLeader(lagging, GUID_OLD, "m1", 0x1n), oldEpoch);
  lagging.zxid = newEpoch + 10n; // it has caught up by the time it answers a sync

  const { fence } = fenceWith(clock, oldEpoch); // the journal says we accepted the old leader
  fence.handleSession({ type: "connected", client: current.session(0x10n), newSession: true });
  await clock.advance(10);
  assert.equal(fence.state.leaderEpoch, newEpoch);

  // Same history (it has the marker the fence made), but behind on the election.
  lagging.nodes.set(`${PATH}-history`, current.nodes.get(`${PATH}-history`)!);
  fence.handleSession({ type: "lost", reason: "ZooKeeper session expired" });
  fence.handleSession({ type: "connected", client: lagging.session(0x11n), newSession: true });
  await clock.advance(10);
  assert.equal(fence.state.leaderEpoch, newEpoch, "the known leader epoch did not move back");
  const verdict = await settled(clock, fence.admit(oldEpoch));
  assert.equal(verdict.kind, "reject", "the old leader's epoch is refused");
});

Deno.test("EpochFence forgets the old history's epochs when ZooKeeper's zxids are below them after a sync, and still refuses the old leader", async () => {
  const clock = new ManualClock();
  const fresh = new ScriptedZooKeeper(clock); // a new ensemble: zxids start again
  fresh.zxid = 3n;
  const newEpoch = addLeader(fresh, GUID_NEW, "m2", 0x2n);
  const oldEpoch = 0x100000042n;
  const restarts: bigint[] = [];
  const lines: string[] = [];
  const fence = new EpochFence({
    electionPath: PATH,
    logger: createLogger("text", { write: (line) => lines.push(line), now: () => 0 }),
    highestAccepted: oldEpoch,
    onHistory: (news) => news.restarted && restarts.push(news.lastZxid),
    clock,
  });
  fence.handleSession({ type: "connected", client: fresh.session(0x10n), newSession: true });
  assert.deepEqual(await settled(clock, fence.admit(newEpoch)), { kind: "accept" });
  assert.deepEqual(restarts, [fresh.zxid]);
  assert.equal(lines.filter((line) => line.includes("ZooKeeper's history restarted")).length, 1);
  assert.equal((await settled(clock, fence.admit(oldEpoch))).kind, "reject");
});

Deno.test("EpochFence tells a new ensemble by its history marker even when its zxids have passed the old epochs", async () => {
  const clock = new ManualClock();
  const fresh = new ScriptedZooKeeper(clock);
  fresh.zxid = 0x100000004n;
  const newEpoch = addLeader(fresh, GUID_NEW, "m2", 0x2n); // 0x100000005
  fresh.zxid = 0x100000010n; // busy since: beyond every old epoch
  const oldEpoch = 0x100000006n;
  const news: boolean[] = [];
  const fence = new EpochFence({
    electionPath: PATH,
    logger: createLogger("text", { write: () => {}, now: () => 0 }),
    highestAccepted: oldEpoch,
    historyMarker: "the-old-ensemble",
    onHistory: (history) => news.push(history.restarted),
    clock,
  });
  fence.handleSession({ type: "connected", client: fresh.session(0x10n), newSession: true });
  assert.deepEqual(await settled(clock, fence.admit(newEpoch)), { kind: "accept" });
  assert.deepEqual(news, [true]);
  assert.equal((await settled(clock, fence.admit(oldEpoch))).kind, "reject");
});

Deno.test("EpochFence keeps its epochs when it finds the history marker it knew", async () => {
  const clock = new ManualClock();
  const zk = new ScriptedZooKeeper(clock);
  zk.zxid = 600n;
  zk.create(`${PATH}-history`, new TextEncoder().encode("same"), 0n, false);
  const news: boolean[] = [];
  const fence = new EpochFence({
    electionPath: PATH,
    logger: createLogger("text", { write: () => {}, now: () => 0 }),
    highestAccepted: 500n,
    historyMarker: "same",
    onHistory: (history) => news.push(history.restarted),
    clock,
  });
  fence.handleSession({ type: "connected", client: zk.session(0x10n), newSession: true });
  assert.equal(
    (await settled(clock, fence.admit(400n))).kind,
    "reject",
    "an old epoch stays stale",
  );
  assert.deepEqual(news, []);
  assert.equal(fence.state.highestAccepted, 500n);
});
