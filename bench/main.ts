/**
 * `deno task bench [--quick] [--only=...] [--out=<file>]`: failover latency, RPC throughput and
 * resource use of the lab, on local processes with a real ZooKeeper, measured side by side in one
 * run (issue 5). Prints tables to stdout (progress to stderr) and writes the same figures as JSON to
 * bench/results/latest.json; a quick or partial run writes bench/results/partial.json.tmp instead.
 */
import { type Baseline, prepareBaseline } from "./baseline.ts";
import { connectWatcher, type FailoverRound, runFailovers } from "./failover.ts";
import { foreignPercent, readCpu } from "./foreign_load.ts";
import { measureIdle } from "./idle.ts";
import { loadAverage, machineFacts } from "./machine.ts";
import { howMeasured, parsePlan, type Plan } from "./plan.ts";
import { renderReport } from "./report.ts";
import { type BenchResults, failoverFigures, judgeTargets, type Section } from "./results.ts";
import { PeerRounds } from "./peers/peer_rounds.ts";
import { type PreparedPeer, preparePeers } from "./peers/prepare.ts";
import { runRpcBench } from "./rpc.ts";
import { runScaling } from "./scaling.ts";
import { runStartups } from "./startup.ts";
import { round, summarize } from "./stats.ts";
import { eventsOf } from "../tests/harness/events.ts";
import { type Lab, startLab } from "../tests/harness/lab.ts";
import { cleanupAll } from "../tests/harness/process.ts";
import { delay } from "../lib/common/backoff.ts";
import { certificateEnv, makeLabCertificates } from "../lib/lab/certificates.ts";
import { freePort } from "../lib/common/ports.ts";
import { spawnLab } from "../tests/harness/process.ts";
import { startZooKeeper, type ZooKeeperServer } from "../tests/harness/zookeeper.ts";

/** ZooKeeper's tick in the bench (the harness's default): sessions expire on tick boundaries. */
const TICK_MS = 200;
/** The lab's default session timeout, and the short one of the second crash series. */
const DEFAULT_SESSION_TIMEOUT_MS = 4000;
const SHORT_SESSION_TIMEOUT_MS = 1000;

/** Set once the bench is interrupted: what fails after that is the interruption's doing. */
let interrupting = false;

function progress(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** Runs `measure`; a failure is recorded in the results instead of ending the run. */
async function section<T>(name: string, results: BenchResults, measure: () => Promise<T>) {
  progress(`${name}...`);
  const before = await readCpu();
  let outcome: Section<T>;
  try {
    outcome = await measure();
  } catch (error) {
    if (!interrupting) progress(`${name} failed: ${error instanceof Error ? error.stack : error}`);
    outcome = { error: error instanceof Error ? error.message.split("\n")[0] : String(error) };
  }
  const foreignCpuPercent = foreignPercent(before, await readCpu());
  results.sectionLoad[name] = { foreignCpuPercent, loadAverage: loadAverage() };
  if (foreignCpuPercent > 10) {
    progress(
      `${name}: other work used ${Math.round(foreignCpuPercent)} % of the machine meanwhile`,
    );
  }
  return outcome;
}

function describeRound(label: string, round: FailoverRound, index: number, warmup: boolean) {
  const steps = Object.entries(round).map(([key, value]) => `${key}=${value.toFixed(1)}`);
  return `${label} round ${index + 1}${warmup ? " (warm-up)" : ""}: ${steps.join(" ")}`;
}

/**
 * Failover rounds on `lab`; crash figures are reported minus the session timeout. With `peers`,
 * a round of each peer follows each of ours, and their figures go into `results.peers`.
 */
async function failoverSection(
  lab: Lab,
  zk: ZooKeeperServer,
  plan: Plan,
  kind: "clean" | "crash",
  sessionTimeoutMs: number,
  peers?: { prepared: PreparedPeer[]; results: BenchResults },
) {
  const watcher = await connectWatcher(zk.connectString);
  const counts = kind === "clean" ? plan.clean : plan.crash;
  const warmup: FailoverRound[] = [];
  const peerRounds = peers
    ? await PeerRounds.start(peers.prepared, {
      zk: watcher,
      connectString: zk.connectString,
      sessionTimeoutMs,
      say: progress,
    })
    : undefined;
  try {
    const rounds = await runFailovers(lab, watcher, {
      signal: kind === "clean" ? "SIGTERM" : "SIGKILL",
      rounds: counts.rounds,
      warmupRounds: counts.warmupRounds,
      settleMs: plan.clean.settleMs,
      sessionTimeoutMs,
      onRound: (r, i, w) => {
        if (w) warmup.push(r);
        progress(describeRound(`${kind} ${sessionTimeoutMs}`, r, i, w));
      },
      afterRound: (i, w) => peerRounds?.round(i, w, plan.clean.settleMs) ?? Promise.resolve(),
    });
    return failoverFigures(rounds, {
      sessionTimeoutMs,
      offsetMs: kind === "clean" ? 0 : sessionTimeoutMs,
      warmup,
    });
  } finally {
    const peerResults = await peerRounds?.close();
    if (peers && peerResults) peers.results.peers = peerResults;
    await watcher.close();
  }
}

async function startupSection(zk: ZooKeeperServer, plan: Plan) {
  const rounds = await runStartups(zk, {
    ...plan.startup,
    sessionTimeoutMs: DEFAULT_SESSION_TIMEOUT_MS,
    onRound: (r, i, w) =>
      progress(`start-up round ${i + 1}${w ? " (warm-up)" : ""}: ${JSON.stringify(r, rounder)}`),
  });
  const pick = (key: keyof (typeof rounds)[number]) => summarize(rounds.map((r) => r[key]));
  return {
    warmupRounds: plan.startup.warmupRounds,
    summary: {
      workerServing: pick("workerServingMs"),
      decided: pick("decidedMs"),
      accepted: pick("acceptedMs"),
    },
    rounds,
  };
}

async function idleSection(lab: Lab, plan: Plan) {
  await delay(plan.idleSettleMs);
  const { leader } = await lab.waitForSingleLeader();
  const follower = lab.masters.find((m) => !m.hasExited && m !== leader)!;
  const processes = await measureIdle({ leader, follower, worker: lab.worker! }, plan.idleWindowMs);
  return { windowMs: plan.idleWindowMs, processes };
}

/**
 * A second worker on the lab's election, serving over mutual TLS with certificates made for this
 * run; the RPC section's TLS cases call it. Resolves with its address and a function to stop it.
 */
async function startTlsWorker(lab: Lab) {
  const certificatesDir = await Deno.makeTempDir({ prefix: "zk-lab-bench-certs-" });
  await makeLabCertificates(certificatesDir);
  const port = freePort();
  const worker = spawnLab("worker.ts", {
    name: "worker-tls",
    env: lab.env({
      ...certificateEnv(certificatesDir, "worker"),
      WORKER_HOST: "127.0.0.1",
      WORKER_PORT: String(port),
    }),
  });
  await worker.waitForLine((line) => line.includes("Connected to ZooKeeper"), {
    timeoutMs: 20_000,
  });
  return {
    certificatesDir,
    workerAddress: `127.0.0.1:${port}`,
    async stop() {
      await worker.stop();
      await Deno.remove(certificatesDir, { recursive: true });
    },
  };
}

async function rpcSection(lab: Lab, baseline: Baseline, plan: Plan) {
  const { leader, epoch } = await lab.waitForSingleLeader();
  const leaderAddress = eventsOf(leader, "I am the leader").findLast((e) => e.record.address)!
    .record.address as string;
  const tlsWorker = await startTlsWorker(lab);
  // The TLS worker is this section's own: stopped however the section ends.
  try {
    const cases = await runRpcBench({
      baseline,
      workerAddress: lab.workerAddress,
      leaderAddress,
      epoch,
      tls: tlsWorker,
      ...plan.rpc,
      onRun: (c, mode, r) =>
        progress(
          `rpc ${c} ${mode}: ${round(r.callsPerSecond, 0)} calls/s, p50 ${round(r.p50Ms, 2)} ms, ` +
            `p99 ${round(r.p99Ms, 2)} ms, errors ${r.errors}${
              r.firstError ? ` (${r.firstError})` : ""
            }`,
        ),
    });
    return { ...plan.rpc, cases };
  } finally {
    await tlsWorker.stop();
  }
}

/** Runs the sections the plan names; see the module comment. */
export async function runBench(plan: Plan): Promise<BenchResults> {
  const startedAt = performance.now();
  progress("preparing the Node baseline (npm ci, once per lock file)...");
  const baseline = await prepareBaseline();
  progress("preparing the peers (kazoo, Curator)...");
  const prepared = plan.only.has("clean") || plan.only.has("scaling")
    ? await preparePeers(progress)
    : [];
  progress("starting ZooKeeper...");
  const zk = await startZooKeeper({ tickTimeMs: TICK_MS });
  let lab: Lab | undefined;
  const newLab = async (sessionTimeoutMs: number) => {
    await lab?.close();
    lab = await startLab({ zk, sessionTimeoutMs, statusIntervalMs: 5000 });
    return lab;
  };
  // Interrupted: leave no process behind (lab processes, baseline servers and clients, ZooKeeper).
  const interrupted = async () => {
    interrupting = true;
    progress("interrupted: stopping every process the bench started");
    await cleanupAll();
    await zk.close();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", interrupted);
  Deno.addSignalListener("SIGTERM", interrupted);
  try {
    const results: BenchResults = {
      date: new Date().toISOString(),
      quick: plan.quick,
      sections: [...plan.only],
      durationS: 0,
      machine: await machineFacts(zk, TICK_MS),
      nodeVersion: baseline.nodeVersion,
      baselinePackages: baseline.versions,
      sectionLoad: {},
      howMeasured: howMeasured(plan),
      crashFailover: [],
    };
    const { only } = plan;
    if (only.has("startup")) {
      results.startup = await section("start-up", results, () => startupSection(zk, plan));
    }
    if (only.has("clean") || only.has("idle") || only.has("rpc") || only.has("crash")) {
      const main = await newLab(DEFAULT_SESSION_TIMEOUT_MS);
      if (only.has("clean")) {
        results.cleanFailover = await section(
          "clean failover",
          results,
          () =>
            failoverSection(main, zk, plan, "clean", DEFAULT_SESSION_TIMEOUT_MS, {
              prepared,
              results,
            }),
        );
      }
      if (only.has("idle")) {
        results.idle = await section("idle", results, () => idleSection(main, plan));
      }
      if (only.has("rpc")) {
        results.rpc = await section("rpc", results, () => rpcSection(main, baseline, plan));
      }
    }
    if (only.has("crash")) {
      for (const timeoutMs of [DEFAULT_SESSION_TIMEOUT_MS, SHORT_SESSION_TIMEOUT_MS]) {
        const crashLab = lab && timeoutMs === DEFAULT_SESSION_TIMEOUT_MS
          ? lab
          : await newLab(timeoutMs);
        results.crashFailover.push(
          await section(
            `crash failover ${timeoutMs} ms`,
            results,
            () => failoverSection(crashLab, zk, plan, "crash", timeoutMs),
          ),
        );
      }
    }
    if (only.has("scaling")) {
      await lab?.close();
      lab = undefined;
      results.scaling = await section("scaling", results, async () => {
        const watcher = await connectWatcher(zk.connectString);
        try {
          return await runScaling({
            zk,
            watcher,
            ...plan.scaling,
            sessionTimeoutMs: DEFAULT_SESSION_TIMEOUT_MS,
            kazoo: prepared.find((peer) => peer.name === "kazoo"),
            say: progress,
          });
        } finally {
          await watcher.close();
        }
      });
    }
    results.targets = judgeTargets(results, TICK_MS);
    results.durationS = Math.round((performance.now() - startedAt) / 1000);
    return results;
  } finally {
    Deno.removeSignalListener("SIGINT", interrupted);
    Deno.removeSignalListener("SIGTERM", interrupted);
    await lab?.close();
    await zk.close();
  }
}

/** A JSON replacer: numbers to 3 decimals (NaN becomes null). */
function rounder(_key: string, value: unknown) {
  return typeof value === "number" ? round(value, 3) : value;
}

if (import.meta.main) {
  let plan: Plan;
  try {
    plan = parsePlan(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(2);
  }
  const results = await runBench(plan);
  console.log(renderReport(results));
  await Deno.mkdir(new URL("./results/", import.meta.url), { recursive: true });
  await Deno.writeTextFile(plan.out, JSON.stringify(results, rounder, 2) + "\n");
  console.log(`\nFigures written to ${plan.out}`);
}
