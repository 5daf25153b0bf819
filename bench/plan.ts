/**
 * What a bench run does: the command line (`--quick`, `--only=...`, `--out=...`), how many rounds
 * and how long each section runs, and the "how measured" notes printed and saved with the figures.
 */

/** The sections, in the order they run. */
export const SECTIONS = ["startup", "clean", "idle", "rpc", "crash", "scaling"] as const;
export type SectionName = typeof SECTIONS[number];

/** How much of everything a run does. */
export interface Plan {
  readonly quick: boolean;
  readonly only: ReadonlySet<SectionName>;
  /** Where the JSON goes. */
  readonly out: string;
  readonly startup: { rounds: number; warmupRounds: number };
  readonly clean: { rounds: number; warmupRounds: number; settleMs: number };
  readonly crash: { rounds: number; warmupRounds: number };
  readonly idleWindowMs: number;
  readonly idleSettleMs: number;
  readonly rpc: { repetitions: number; warmupMs: number; durationMs: number; concurrency: number };
  readonly scaling: { counts: number[]; rounds: number; warmupRounds: number; settleMs: number };
}

const FULL = {
  startup: { rounds: 10, warmupRounds: 1 },
  clean: { rounds: 30, warmupRounds: 3, settleMs: 300 },
  crash: { rounds: 5, warmupRounds: 1 },
  idleWindowMs: 30_000,
  idleSettleMs: 3000,
  rpc: { repetitions: 5, warmupMs: 500, durationMs: 1500, concurrency: 64 },
  scaling: { counts: [2, 10, 50], rounds: 5, warmupRounds: 1, settleMs: 300 },
};

const QUICK = {
  startup: { rounds: 3, warmupRounds: 0 },
  clean: { rounds: 10, warmupRounds: 1, settleMs: 200 },
  crash: { rounds: 2, warmupRounds: 0 },
  idleWindowMs: 5000,
  idleSettleMs: 1000,
  rpc: { repetitions: 1, warmupMs: 300, durationMs: 1000, concurrency: 64 },
  scaling: { counts: [2, 10], rounds: 2, warmupRounds: 0, settleMs: 200 },
};

const USAGE = `usage: deno task bench [--quick] [--only=${SECTIONS.join(",")}] [--out=<file>]`;

/** Reads the command line; throws with the usage on anything else. */
export function parsePlan(args: readonly string[]): Plan {
  let quick = false;
  let only: Set<SectionName> = new Set(SECTIONS);
  let out: string | undefined;
  for (const arg of args) {
    if (arg === "--quick") quick = true;
    else if (arg.startsWith("--out=") && arg.length > 6) out = arg.slice(6);
    else if (arg.startsWith("--only=")) {
      const names = arg.slice(7).split(",");
      const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
      if (unknown.length) {
        throw new Error(`Cannot run the bench: unknown section "${unknown.join(",")}"; ${USAGE}`);
      }
      only = new Set(names as SectionName[]);
    } else throw new Error(`Cannot run the bench: unknown argument "${arg}"; ${USAGE}`);
  }
  // A partial or quick run must not replace the committed figures of a full run.
  const partial = quick || only.size < SECTIONS.length;
  out ??= new URL(partial ? "./results/partial.json.tmp" : "./results/latest.json", import.meta.url)
    .pathname;
  return { quick, only, out, ...(quick ? QUICK : FULL) };
}

/** The notes saved and printed with the figures. */
export function howMeasured(plan: Plan): string[] {
  const { clean, crash, rpc } = plan;
  return [
    "Everything runs on this machine as local processes (Deno.execPath() run directly, so the pids are Deno's) against one real standalone ZooKeeper 3.8 started by tests/harness (tickTime 200 ms, forceSync=no); every lab has a fresh election path. Masters run with the default STATUS_INTERVAL_MS=5000 and ZK_SESSION_TIMEOUT_MS=4000 unless said otherwise, and LOG_FORMAT=json.",
    `Failover: the leader gets SIGTERM (clean) or SIGKILL (crash); times run from the moment the signal is sent. "node gone": the bench's own ZooKeeper exists-watch on the leader's node fires; "decided" and "accepted": the successor's "I am the leader" and the worker's "Accepted a new leader epoch" lines, timed by the microsecond "time" each process writes in its json line against the wall-clock time of the signal (as the peers' callbacks are timed); "line read here" is when the worker's line reached the bench through its pipe (performance.now() in the bench); "reply": the successor's "The worker accepted our leadership". After each round a new master is started and left to settle ${clean.settleMs} ms, so there are always two and the successor is a master that has made no call to the worker yet. Clean: ${clean.warmupRounds} warm-up + ${clean.rounds} measured rounds. Crash: ${crash.warmupRounds} warm-up + ${crash.rounds} measured rounds per session timeout, reported minus the timeout. ZooKeeper expires sessions on tick boundaries, counting from the last packet it got from the client (a heartbeat goes every 2/9 of the timeout), so a crash can end up to one heartbeat before the timeout or one tick after it.`,
    `RPC: each client is its own process running the same load loop (bench/node_baseline/load.mjs): ${rpc.warmupMs} ms warm-up, then ${rpc.durationMs} ms measured, one call in flight (sequential) or ${rpc.concurrency} on one channel, unique task ids, 5 s deadlines. Each repetition runs every case sequential, then every case concurrent, in an order rotated per repetition; ${rpc.repetitions} repetition(s), medians reported; the ratio to Node is the median of the per-repetition ratios (runs seconds apart, which cancels most of the drifting load from other work). "lab" calls the real worker (epoch fence, dedup window, one JSON log line per task, read by the bench through a pipe) through lib/grpc/grpc.ts with the leader's epoch, as the leader does. The baseline is a bare grpc-js client and server (the same pinned versions, installed with npm ci) under Node.js; "same bare files under Deno" runs those files with Deno, to separate the runtime from our code. The client path is SubmitTask to the leader, which calls the worker. Over mutual TLS: certificates made for the run by the lab's generator (EC P-256, openssl); "lab over mutual TLS" calls a second worker on the same election started with TLS_CA/TLS_CERT/TLS_KEY, presenting master1's certificate with the leader's epoch; the bare server and client get the same files (bench/node_baseline/tls.mjs, with the IP-target workaround of lib/grpc/credentials.ts on both runtimes). Each TLS case is compared with its plaintext twin and with Node over mutual TLS, per repetition.`,
    `Idle: CPU time (utime+stime, /proc/<pid>/stat) over ${
      plan.idleWindowMs / 1000
    } s with nothing to do, after ${
      plan.idleSettleMs / 1000
    } s of settling; RSS is VmRSS at the end.`,
    `Peers (issue 9): kazoo's Election (Debian python3-kazoo, /usr/bin/python3) and Apache Curator's LeaderLatch (Debian libcurator-recipes-java, bench/peers/CuratorContender.java compiled with javac), two contenders each on their own path of the same ZooKeeper with the same session timeout; after each of our clean rounds one round of each peer: SIGTERM of the leading contender (kazoo: client.stop(), which closes the session; Curator: the shutdown hook closes the latch, then the client) until the other contender's leadership callback, whose own wall-clock timestamp (printed in its line) is compared with the wall-clock time of the signal. Ours is compared by its "accepted" figure, which includes one gRPC call; the ratio is ours / the peer with the lowest p50.`,
    `How the cost grows: for ${
      plan.scaling.counts.join(", ")
    } contenders (ours: masters of one lab with a worker; kazoo: Election contenders), ${plan.scaling.warmupRounds} warm-up + ${plan.scaling.rounds} clean failovers each (ours: SIGTERM until the worker accepted; kazoo: until the callback). Notifications: the increase of the sum of mntr's zk_sum_node_{created,deleted,children,changed}_watch_count from just before the signal to 50 ms after the hand-over (the bench's own exists-watch on our leader's node counts one). CPU: utime+stime from /proc/<pid>/stat over the same window (10 ms resolution), for the worker, the successor and all other masters together.`,
    'Start-up: ZooKeeper already up; the worker and two masters are spawned at the same moment (deno run, warm module cache); times to the worker\'s "Accepted a new leader epoch".',
    "The machine may be shared: for each section the share of all CPU time used by processes other than the bench and its children is measured (/proc/stat minus our process tree) and printed; a section with much other work has noisy figures.",
  ];
}
