/**
 * The faults the chaos suite injects, one factory per fault. Each fault also undoes itself (a
 * killed process is started again, a cut link healed), so the next round starts from a full
 * cluster; waiting until one leader is back is the round's job (rounds.ts).
 */
import assert from "node:assert/strict";
import { eventsOf, waitForEvent } from "../harness/events.ts";
import { delay } from "../../lib/common/backoff.ts";
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
