/**
 * One simulated run, decided entirely by its seed: a model ZooKeeper of three servers, two or three
 * real masters, one real worker (with or without a journal), a client submitting tasks, and a
 * seeded plan of faults; the checker judges every step. Returns the violations (none: passed) and,
 * when asked, the trace.
 */
import { Checker } from "./checker.ts";
import { type Family, planFaults, type PlannedFault } from "./faults.ts";
import { SimClient } from "./client_node.ts";
import { SimMaster } from "./master_node.ts";
import { Prng } from "./prng.ts";
import { RpcNetwork } from "./rpc_hop.ts";
import { SimProcess, SimScheduler } from "./scheduler.ts";
import { Trace } from "./trace.ts";
import type { World } from "./world.ts";
import { SimWorker } from "./worker_node.ts";
import { ModelZooKeeper } from "./zk_model.ts";

/** How long after the quiet point plus the session timeout a leader must be serving. */
export const LIVENESS_BOUND_MS = 12_000;
const FAULTS_FROM_MS = 1500;
const FAULTS_TO_MS = 15_000;

/** Options of {@linkcode runSeed}. */
export interface SeedOptions {
  readonly seed: number;
  readonly families: readonly Family[];
  readonly trace?: boolean;
  /** A directory for the worker's journal file (worlds with a journal need it). */
  readonly journalDir: string;
}

/** What a run found. */
export interface SeedResult {
  readonly seed: number;
  readonly violations: readonly string[];
  readonly trace: readonly string[];
  readonly steps: number;
  readonly simulatedMs: number;
  /** From the quiet point to a serving leader; undefined if never. */
  readonly recoveryMs?: number;
  readonly summary: string;
}

/** See the module comment. */
export async function runSeed(options: SeedOptions): Promise<SeedResult> {
  const random = new Prng(options.seed);
  const scheduler = new SimScheduler(random.fork());
  const capped = options.families.includes("capped-timeout") && random.chance(0.3);
  const askedMs = capped ? 6000 : random.pick([1500, 2000, 3000]);
  const model = new ModelZooKeeper(scheduler, random.fork(), {
    servers: 3,
    tickMs: 200,
    minSessionTimeoutMs: 400,
    maxSessionTimeoutMs: capped ? 2000 : 40_000,
  }, new SimProcess("zookeeper"));
  const grantedMs = model.grant(askedMs);
  const trace = new Trace(options.trace ?? false, () => scheduler.now);
  const electionPath = "/election";
  const checker = new Checker(
    () => scheduler.now,
    electionPath,
    grantedMs,
    (history, owner) =>
      history === model.history
        ? (model.sessions.get(owner)?.state ?? "unknown")
        : "lost with the data",
  );
  checker.onLeaderChange = (history, leader) =>
    trace.add("zk", leader ? `ground truth: ${leader.name} leads` : "ground truth: no leader", {
      epoch: leader?.epoch,
      history,
    });
  model.onCommit((txn, tree, history) => {
    checker.onCommit(txn, tree, history);
    if (txn.session?.kind === "close" && model.sessions.get(txn.session.id)?.state === "expired") {
      trace.add("zk", `session 0x${txn.session.id.toString(16)} expired`, {
        deleted: txn.ops.map((op) => op.path.split("/").pop()).join(",") || undefined,
      });
    }
  });
  model.onDataLoss((history) => checker.onDataLoss(history, model.tree));
  const world: World = {
    scheduler,
    model,
    rpc: new RpcNetwork(scheduler, random.fork()),
    checker,
    trace,
    random: random.fork(),
    settings: {
      sessionTimeoutMs: askedMs,
      electionPath,
      workerTimeoutMs: 1000,
      workerAddress: "worker:50050",
    },
  };
  const journalPath = random.chance(0.5)
    ? `${options.journalDir}/journal-${options.seed}.jsonl`
    : undefined;
  const masterCount = 2 + random.int(2);
  const masters: SimMaster[] = [];
  const incarnations = new Map<string, number>();
  const startMaster = (name: string) => {
    const incarnation = (incarnations.get(name) ?? 0) + 1;
    incarnations.set(name, incarnation);
    const master = new SimMaster(world, name, incarnation);
    const index = masters.findIndex((m) => m.name === name);
    if (index >= 0) masters[index] = master;
    else masters.push(master);
    trace.add(name, "started", { incarnation });
    master.start();
  };
  let memory = 1;
  let worker = new SimWorker(world, memory, journalPath);
  const faults = planFaults(random, options.families, {
    fromMs: FAULTS_FROM_MS,
    toMs: FAULTS_TO_MS,
    sessionTimeoutMs: grantedMs,
  });
  const summary =
    `masters=${masterCount} session=${askedMs}${capped ? `(granted ${grantedMs})` : ""}` +
    ` journal=${journalPath ? "yes" : "no"} faults=[${faults.map(describe).join(", ")}]`;
  trace.add("sim", `seed ${options.seed}: ${summary}`);

  try {
    await worker.start();
    for (let i = 1; i <= masterCount; i++) {
      scheduler.after(random.between(0, 50), () => startMaster(`master${i}`));
    }
    const client = new SimClient(
      world,
      () => masters.filter((m) => m.process.alive).map((m) => m.address),
    );
    client.start();

    const ctx = {
      world,
      masters,
      startMaster,
      currentMaster: (name: string) => masters.find((m) => m.name === name),
      worker: () => worker,
      restartWorker: async (keepJournal: boolean) => {
        if (!keepJournal) {
          memory++;
          if (journalPath) await Deno.remove(journalPath).catch(() => {});
        } else if (!journalPath) memory++;
        worker = new SimWorker(world, memory, journalPath);
        trace.add("worker", "started", { memory });
        await worker.start();
      },
    };
    for (const fault of faults) scheduler.at(fault.at, () => applyFault(ctx, fault));
    const quiet = faults.reduce(
      (latest, f) => Math.max(latest, f.at + f.durationMs),
      FAULTS_FROM_MS,
    );
    checker.quietSince = quiet;
    const end = quiet + grantedMs + LIVENESS_BOUND_MS;
    const observed = () =>
      masters.filter((m) => m.process.alive).map((m) => ({
        name: m.name,
        history: m.history,
        peek: () => m.latch.peekLeadership(),
      }));
    await scheduler.run(end, () => {
      const current = observed();
      checker.checkStep(current, model.history);
      checker.checkLiveness(current, model.history);
    }, () =>
      checker.violations.length > 0 ||
      (checker.livenessMetAt !== undefined && scheduler.now > checker.livenessMetAt + 500));
    if (checker.livenessMetAt === undefined && checker.violations.length === 0) {
      checker.violations.push(
        `liveness: no leader had a task performed within ${grantedMs} + ${LIVENESS_BOUND_MS} ms after the last fault healed at ${
          quiet.toFixed(1)
        } ms`,
      );
    }
    return {
      seed: options.seed,
      violations: checker.violations,
      trace: trace.lines,
      steps: scheduler.steps,
      simulatedMs: scheduler.now,
      recoveryMs: checker.livenessMetAt === undefined ? undefined : checker.livenessMetAt - quiet,
      summary,
    };
  } finally {
    worker.crash();
    for (const master of masters) master.crash();
    if (journalPath) await Deno.remove(journalPath).catch(() => {});
  }
}

function describe(fault: PlannedFault): string {
  const duration = fault.durationMs > 0 ? ` for ${Math.round(fault.durationMs)} ms` : "";
  return `${fault.family}@${Math.round(fault.at)}${duration}`;
}

interface FaultContext {
  readonly world: World;
  readonly masters: SimMaster[];
  startMaster(name: string): void;
  /** The incarnation of the master called `name` that runs now (or ran last). */
  currentMaster(name: string): SimMaster | undefined;
  worker(): SimWorker;
  restartWorker(keepJournal: boolean): Promise<void>;
}

/** Applies one fault now (and schedules its healing). */
function applyFault(ctx: FaultContext, fault: PlannedFault): void | Promise<void> {
  const { world, masters } = ctx;
  const { scheduler, model, rpc, trace } = world;
  const alive = masters.filter((m) => m.process.alive);
  const processes = [...alive.map((m) => ({ name: m.name, process: m.process, kit: m.kit })), {
    name: "worker",
    process: ctx.worker().process,
    kit: ctx.worker().kit,
  }];
  // Half the faults aim at the leader, where a mistake costs most.
  const leader = fault.variant % 2 === 0 ? alive.find((m) => m.latch.peekLeadership()) : undefined;
  const victim = leader
    ? { name: leader.name, process: leader.process, kit: leader.kit }
    : processes[fault.target % processes.length];
  const master = leader ?? (alive.length > 0 ? alive[fault.target % alive.length] : undefined);
  const heal = (what: string, undo: () => void | Promise<void>) =>
    scheduler.after(fault.durationMs, () => {
      trace.add("fault", `healed: ${what}`);
      return undo();
    });
  const path = world.settings.electionPath;
  switch (fault.family) {
    case "disconnect":
      trace.add("fault", `drop ${victim.name}'s ZooKeeper connection`);
      return victim.kit.clients.at(-1)?.dropConnection();
    case "partition":
      trace.add("fault", `cut ${victim.name} off ZooKeeper`, { ms: Math.round(fault.durationMs) });
      model.cut.add(victim.process);
      return void heal(
        `${victim.name} reaches ZooKeeper`,
        () => void model.cut.delete(victim.process),
      );
    case "rpc-partition": {
      if (!master) return;
      const key = `${master.name}>${world.settings.workerAddress}`;
      trace.add("fault", `cut ${master.name} off the worker`, { ms: Math.round(fault.durationMs) });
      rpc.cut.add(key);
      return void heal(`${master.name} reaches the worker`, () => void rpc.cut.delete(key));
    }
    case "isolated-leader": {
      // The leader's host loses ZooKeeper and its link to the worker turns slow: what it sends
      // before its lease runs out arrives after its successor took over.
      const current = alive.find((m) => m.latch.peekLeadership());
      if (!current) return;
      const slowMs = 300 + (fault.variant % 2000);
      trace.add("fault", `${current.name} loses ZooKeeper; its gRPC link is slow`, {
        slowMs,
        ms: Math.round(fault.durationMs),
      });
      model.cut.add(current.process);
      rpc.slow.set(current.name, slowMs);
      return void heal(`${current.name}'s network is back`, () => {
        model.cut.delete(current.process);
        rpc.slow.delete(current.name);
      });
    }
    case "rpc-loss":
      trace.add("fault", "gRPC loses 30% of messages", { ms: Math.round(fault.durationMs) });
      rpc.lossRate = 0.3;
      return void heal("gRPC loses nothing", () => void (rpc.lossRate = 0));
    case "pause":
      trace.add("fault", `pause ${victim.name}`, { ms: Math.round(fault.durationMs) });
      victim.process.pausedUntil = scheduler.now + fault.durationMs;
      return;
    case "pause-mid-check": {
      // The leader stops cleanly and its successor is paused right after the event that makes
      // it check, so the reads of that check are answered only after the pause.
      const current = alive.find((m) => m.latch.peekLeadership());
      const successor = alive.find((m) => {
        const role = m.latch.role;
        return role.role === "follower" &&
          role.predecessor.node === current?.latch.peekLeadership()?.node;
      });
      if (!current || !successor) return;
      trace.add(
        "fault",
        `${current.name} stops cleanly; ${successor.name} pauses at its next watch event`,
        {
          ms: Math.round(fault.durationMs),
        },
      );
      model.pauseAfterEvent.set(successor.process, {
        ms: fault.durationMs,
        skip: fault.variant % 3,
      });
      void current.stop();
      return void heal(`${current.name} restarts`, () => {
        if (ctx.currentMaster(current.name) === current) ctx.startMaster(current.name);
      });
    }
    case "delete-node": {
      const children = [...(model.tree.nodes.get(path)?.children ?? [])].sort((a, b) =>
        a.slice(-10).localeCompare(b.slice(-10))
      );
      if (children.length === 0) return;
      const node = fault.variant % 2 === 0
        ? children[0]
        : children[fault.variant % children.length];
      trace.add("fault", `someone deletes ${path}/${node}`);
      return model.adminDelete([`${path}/${node}`]);
    }
    case "wipe-path": {
      const children = [...(model.tree.nodes.get(path)?.children ?? [])].map((c) => `${path}/${c}`);
      trace.add("fault", `someone deletes ${path} and everything under it`);
      return model.adminDelete([...children, path]);
    }
    case "junk": {
      const kinds = [
        ["junk-node", new TextEncoder().encode("hello")],
        [
          "master-00000000-0000-4000-8000-000000000000-0000000000",
          new TextEncoder().encode(`{"name":"x","address":"x:1"}`),
        ],
        [
          "master-11111111-1111-4111-8111-111111111111-0000000001",
          new TextEncoder().encode("not json"),
        ],
        ["lock-0000000000", new Uint8Array()],
      ] as const;
      const [name, data] = kinds[fault.variant % kinds.length];
      trace.add("fault", `someone creates ${path}/${name}`);
      return model.adminCreate(`${path}/${name}`, data, 0n);
    }
    case "lag": {
      const server = model.servers[fault.target % model.servers.length];
      server.lagMs = 100 + (fault.variant % 1400);
      trace.add("fault", `${server.address} lags`, {
        lagMs: server.lagMs,
        ms: Math.round(fault.durationMs),
      });
      return void heal(`${server.address} keeps up`, () => void (server.lagMs = 0));
    }
    case "server-restart": {
      const server = model.servers[fault.target % model.servers.length];
      trace.add("fault", `${server.address} restarts (its clients reconnect elsewhere)`);
      return server.dropClients();
    }
    case "lost-reply":
      trace.add("fault", `${victim.name}'s next ZooKeeper reply is lost`);
      model.loseNextReply.add(victim.process);
      return;
    case "data-loss":
      trace.add("fault", "ZooKeeper loses its data (a new, empty ensemble)");
      return model.loseData();
    case "worker-restart":
    case "worker-restart-no-journal": {
      const keep = fault.family === "worker-restart";
      trace.add("fault", `worker crashes; restarts ${keep ? "with" : "without"} its journal`, {
        inMs: Math.round(fault.durationMs),
      });
      ctx.worker().crash();
      return void heal("worker restarts", () => ctx.restartWorker(keep));
    }
    case "master-stop":
    case "master-crash": {
      if (!master) return;
      const clean = fault.family === "master-stop";
      trace.add(
        "fault",
        `${master.name} ${clean ? "stops cleanly (SIGTERM)" : "crashes (SIGKILL)"}`,
        {
          restartInMs: Math.round(fault.durationMs),
        },
      );
      if (clean) void master.stop();
      else master.crash();
      return void heal(`${master.name} restarts`, () => {
        // Only this incarnation's restart: an earlier fault's heal may have started a newer one.
        if (ctx.currentMaster(master.name) !== master) return;
        if (!master.process.alive || clean) ctx.startMaster(master.name);
      });
    }
    case "capped-timeout":
      return;
  }
}
