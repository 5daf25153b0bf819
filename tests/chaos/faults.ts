/**
 * The faults the chaos suite injects, one factory per fault. Each fault also undoes itself (a
 * killed process is started again, a cut link healed), so the next round starts from a full
 * cluster; waiting until one leader is back is the round's job (rounds.ts).
 */
import assert from "node:assert/strict";
import { eventsOf, waitForEvent } from "../harness/events.ts";
import { delay } from "../../lib/common/backoff.ts";
import { waitFor } from "../../lib/common/wait.ts";
import type { ZooKeeperEnsemble, ZooKeeperServer } from "../harness/zookeeper.ts";
import type { Topology } from "./netns.ts";
import type { Fault } from "./rounds.ts";

/** Stops the leader with `signal`, times the failover, and starts it again as a follower. */
export function killLeader(signal: "SIGTERM" | "SIGKILL"): Fault {
  return async ({ cluster, failover }) => {
    const { leader, epoch } = await cluster.waitForOneLeader();
    const since = performance.now();
    cluster.signal(leader, signal);
    await failover(since, epoch);
    await leader.exited;
    await cluster.startMaster(leader.name);
  };
}

/** Kills the leader `times` times in a row, each as soon as the next leader is accepted. */
export function killLeadersInARow(times: number): Fault {
  return async ({ cluster, failover }) => {
    const killed = [];
    for (let kill = 0; kill < times; kill++) {
      const { leader, epoch } = await cluster.waitForOneLeader();
      const since = performance.now();
      cluster.signal(leader, "SIGKILL");
      await failover(since, epoch);
      killed.push(leader);
    }
    for (const master of killed) {
      await master.exited;
      await cluster.startMaster(master.name);
    }
  };
}

/**
 * Pauses the leader (SIGSTOP) until the worker has accepted a successor's epoch, which takes the
 * paused leader's session expiring, then resumes it: it must step down and follow, never lead
 * with its old epoch again.
 */
export function pauseLeader(): Fault {
  return async ({ cluster, failover }) => {
    const { leader, epoch } = await cluster.waitForOneLeader();
    const mark = leader.lines.length;
    const since = performance.now();
    cluster.signal(leader, "SIGSTOP");
    try {
      await failover(since, epoch);
    } finally {
      cluster.signal(leader, "SIGCONT");
    }
    await waitForEvent(leader, "I am no longer the leader", { from: mark });
    await waitForEvent(leader, "I am the follower", {
      from: mark,
      where: (record) => record.leader !== undefined,
      timeoutMs: 20_000,
    });
    const claims = eventsOf(leader, "I am the leader", mark)
      .filter((event) => event.record.epoch !== undefined);
    assert.deepEqual(claims, [], "the resumed leader claimed leadership again");
  };
}

/** Stops the standalone ZooKeeper, keeps it down for `downtimesMs[round - 1]`, starts it again. */
export function restartZooKeeper(zk: ZooKeeperServer, downtimesMs: readonly number[]): Fault {
  return async ({ cluster, round, note }) => {
    const before = await cluster.waitForOneLeader();
    const downtimeMs = downtimesMs[(round - 1) % downtimesMs.length];
    await zk.stop();
    await delay(downtimeMs);
    await zk.start();
    const after = await cluster.waitForOneLeader();
    note(
      `down ${downtimeMs} ms; ` +
        (after.epoch === before.epoch
          ? `${after.leader.name} kept leading with its epoch`
          : `${before.leader.name} -> ${after.leader.name}, a new epoch`),
    );
  };
}

/**
 * Kills one server of the ensemble (the ensemble's leader in odd rounds, a follower in even ones),
 * waits until the election is served again by the other two, then restarts it.
 */
export function killEnsembleServer(ensemble: ZooKeeperEnsemble): Fault {
  return async ({ cluster, round, note }) => {
    const zkLeader = await ensemble.leaderIndex();
    const victim = round % 2 === 1 ? zkLeader : (zkLeader + 1) % ensemble.servers.length;
    await ensemble.servers[victim].kill();
    await cluster.waitForOneLeader();
    await ensemble.servers[victim].start();
    await ensemble.leaderIndex();
    note(
      `killed zoo${victim + 1}, ` +
        (victim === zkLeader ? "the ensemble's leader" : "a follower of the ensemble"),
    );
  };
}

/** Stops the worker with `signals[round - 1]` and starts it again on its port and journal. */
export function restartWorker(signals: readonly ("SIGTERM" | "SIGKILL")[]): Fault {
  return async ({ cluster, round, note }) => {
    const signal = signals[(round - 1) % signals.length];
    const worker = cluster.worker;
    cluster.signal(worker, signal);
    await worker.exited;
    await cluster.startWorker();
    note(`worker stopped with ${signal}`);
  };
}

/**
 * Cuts the leader off ZooKeeper for `cutsMs[round - 1]` ms, or, for a cut of 0, until the
 * worker has accepted a successor's epoch; then heals the link. After a cut that long the old
 * leader must step down and follow.
 */
export function partitionLeader(topology: Topology, cutsMs: readonly number[]): Fault {
  return async ({ cluster, round, failover, note }) => {
    const { leader, epoch } = await cluster.waitForOneLeader();
    const cutMs = cutsMs[(round - 1) % cutsMs.length];
    const mark = leader.lines.length;
    const since = performance.now();
    await topology.cut(leader.name);
    try {
      if (cutMs === 0) await failover(since, epoch);
      else await delay(cutMs);
    } finally {
      await topology.heal(leader.name);
    }
    if (cutMs === 0) {
      await waitForEvent(leader, "I am the follower", {
        from: mark,
        where: (record) => record.leader !== undefined,
        timeoutMs: 20_000,
      });
      const claims = eventsOf(leader, "I am the leader", mark)
        .filter((event) => event.record.epoch === String(epoch));
      assert.deepEqual(claims, [], "the cut-off leader claimed its old epoch again");
      note(`${leader.name} cut off until its successor was accepted`);
      return;
    }
    const after = await cluster.waitForOneLeader();
    note(
      `${leader.name} cut off for ${cutMs} ms: ` +
        (after.epoch === epoch
          ? "it kept leading with its epoch"
          : `${after.leader.name} took over`),
    );
  };
}

/**
 * ZooKeeper loses its data, as a new ensemble does (a wiped `dataDir`, `docker-compose down -v`,
 * an `emptyDir` volume, a restored backup): the server is stopped, its data deleted and started
 * again empty, so its zxids start again from the bottom and it refuses every client that has seen
 * a higher one. The masters must get back in with new sessions, one of them must lead, and the
 * worker must accept the new ensemble's (lower) epoch and still refuse the old one's.
 */
export function loseZooKeeperData(zk: ZooKeeperServer): Fault {
  return async ({ cluster, failover, note }) => {
    const before = await cluster.waitForOneLeader();
    const mark = cluster.worker.lines.length;
    await zk.stop();
    for await (const entry of Deno.readDir(zk.dataDir)) {
      if (entry.name !== "myid") {
        await Deno.remove(`${zk.dataDir}/${entry.name}`, { recursive: true });
      }
    }
    cluster.history.restart();
    const since = performance.now();
    await zk.start();
    await failover(since, 0n, { fromLine: mark });
    const after = await cluster.waitForOneLeader(40_000);
    note(
      `${before.leader.name} led with epoch ${before.epoch}; after the wipe ` +
        `${after.leader.name} leads with epoch ${after.epoch}`,
    );
  };
}

/**
 * The leader's link to the worker turns slow (every byte it sends is held for `delayMs`), and
 * `leadMs` later the leader is paused past its session: the calls it forwarded in between reach
 * the worker only after the successor has been accepted, so nothing but the worker's fence stands
 * between them and a task performed under a superseded epoch. The leader is resumed once the held
 * calls have arrived, and must step down as in {@linkcode pauseLeader}.
 */
export function slowLinkThenPause(delayMs: number, leadMs: number): Fault {
  return async ({ cluster, failover, note }) => {
    const { leader, epoch } = await cluster.waitForOneLeader();
    const link = cluster.links.get(leader.name);
    if (!link) throw new Error(`${leader.name} has no slow link: start the cluster with slowLinks`);
    const mark = leader.lines.length;
    const workerMark = cluster.worker.lines.length;
    link.setDelay(delayMs);
    await delay(leadMs);
    const since = performance.now();
    cluster.signal(leader, "SIGSTOP");
    try {
      await failover(since, epoch);
      await link.idle(); // every held call has reached the worker and met its fence
    } finally {
      link.setDelay(0);
      cluster.signal(leader, "SIGCONT");
    }
    await waitForEvent(leader, "I am the follower", {
      from: mark,
      where: (record) => record.leader !== undefined,
      timeoutMs: 20_000,
    });
    const claims = eventsOf(leader, "I am the leader", mark)
      .filter((event) => event.record.epoch !== undefined);
    assert.deepEqual(claims, [], "the resumed leader claimed leadership again");
    const fenced = eventsOf(cluster.worker, "Refused a task from a stale leader", workerMark);
    note(`${fenced.length} of ${leader.name}'s delayed calls refused by the worker's fence`);
  };
}

/**
 * A new leader's own announcement is the call held on the slow link: the leader's successor
 * (next in ZooKeeper's order) has its link to the worker slowed by `delayMs`, the leader is
 * stopped with SIGTERM, and the successor is paused the moment it says it leads, its
 * `leader_election` (and any task it forwarded) held on the link. A third master takes over once
 * the paused one's session expires, and the held calls reach the worker after that: the fence
 * must refuse them. Needs three masters; the stopped one is started again.
 */
export function slowAnnouncementThenPause(delayMs: number): Fault {
  return async ({ cluster, failover, note }) => {
    const { leader, epoch } = await cluster.waitForOneLeader();
    const order = cluster.history.readings.at(-1)?.members ?? [];
    const successor = cluster.masters.find((master) => master.name === order[1]?.name);
    const link = successor && cluster.links.get(successor.name);
    if (!successor || !link || order.length < 3) {
      throw new Error(`Needs three masters with slow links; ZooKeeper shows ${order.length}`);
    }
    const mark = successor.lines.length;
    const workerMark = cluster.worker.lines.length;
    link.setDelay(delayMs);
    const since = performance.now();
    cluster.signal(leader, "SIGTERM");
    try {
      const leading = await waitForEvent(successor, "I am the leader", {
        from: mark,
        where: (record) => record.epoch !== undefined,
      });
      // Its announcement is on the link (the first call a new leader makes), then it pauses.
      await waitFor(() => link.held > 0 || undefined, {
        timeoutMs: 5000,
        intervalMs: 2,
        message: `${successor.name}'s announcement held on its link`,
      });
      cluster.signal(successor, "SIGSTOP");
      await failover(since, BigInt(leading.record.epoch)); // the third master's epoch
      await link.idle();
    } finally {
      link.setDelay(0);
      cluster.signal(successor, "SIGCONT");
    }
    await leader.exited;
    await cluster.startMaster(leader.name);
    await waitForEvent(successor, "I am the follower", {
      from: mark,
      where: (record) => record.leader !== undefined,
      timeoutMs: 20_000,
    });
    const fenced = eventsOf(cluster.worker, "Refused a task from a stale leader", workerMark);
    note(
      `${successor.name} paused as it took over from ${leader.name} (epoch ${epoch}); ` +
        `${fenced.length} of its held calls refused by the worker's fence`,
    );
  };
}

/** Runs `odd` in odd rounds and `even` in even ones. */
export function alternate(odd: Fault, even: Fault): Fault {
  return (context) => (context.round % 2 === 1 ? odd : even)(context);
}
