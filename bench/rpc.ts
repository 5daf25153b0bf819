/**
 * RPC throughput and latency, each client its own process, all in one run and interleaved (every
 * repetition runs every case once, in a rotated order) so that a burst of load on the machine
 * hits all cases alike; the figures are medians over the repetitions.
 *
 * Cases, each sequential (one call in flight) and concurrent (`concurrency` in flight on one
 * channel, as the leader's single client to the worker would carry them):
 * - `lab`: a Deno process calling the worker's PerformTask through lib/grpc/grpc.ts with the leader's
 *   epoch: the leader's code path and the worker's full handling (fence, dedup, one log line);
 * - `node`: the bare grpc-js client and server under Node.js, the baseline;
 * - `denoBare`: the same bare files under Deno, which separates the runtime from our code;
 * - `submit`: the client path, SubmitTask to the leader, which calls the worker's PerformTask;
 * - `labTls`, `nodeTls`, `denoBareTls`: `lab`, `node` and `denoBare` again over mutual TLS, with
 *   the same certificates (the lab's generator) on every side: a second worker started with
 *   TLS_CA/TLS_CERT/TLS_KEY on the same election, the bare server and client given `--tls-dir`.
 *   Their ratios compare with Node over mutual TLS and with the same case in plaintext.
 */
import { spawnLab } from "../tests/harness/process.ts";
import type { LabProcess } from "../tests/harness/process.ts";
import { type Baseline, PROTO_PATH, type Runtime } from "./baseline.ts";
import { RESULT_TAG } from "./node_baseline/load.mjs";
import { median } from "./stats.ts";

/** What one client run reports (see node_baseline/load.mjs). */
export interface LoadResult {
  readonly calls: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly firstError?: string;
}

/** The cases, in the order of the report. */
export const RPC_CASES = [
  "lab",
  "node",
  "denoBare",
  "submit",
  "labTls",
  "nodeTls",
  "denoBareTls",
] as const;
export type RpcCase = typeof RPC_CASES[number];

/** The cases over mutual TLS, each with its plaintext twin. */
const TLS_TWINS: Partial<Record<RpcCase, RpcCase>> = {
  labTls: "lab",
  nodeTls: "node",
  denoBareTls: "denoBare",
};

export type RpcMode = "sequential" | "concurrent";

/** Medians over the repetitions of one case and mode, and every repetition. */
export interface RpcFigures {
  /**
   * The median over repetitions of this case's calls/s divided by the Node baseline's (over
   * mutual TLS for the TLS cases).
   */
  readonly ratioToNode: number;
  /** TLS cases: the same median ratio to the plaintext twin (lab, node, denoBare). */
  readonly ratioToPlaintext?: number;
  /** The smallest and largest of those ratios. */
  readonly ratioRange: readonly [number, number];
  /** The same against the bare files under Deno (our own code's cost, the runtime's removed). */
  readonly ratioToDenoBare: number;
  readonly ratioToDenoBareRange: readonly [number, number];
  readonly callsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly runs: LoadResult[];
}

/** Options for {@linkcode runRpcBench}. */
export interface RpcBenchOptions {
  readonly baseline: Baseline;
  readonly workerAddress: string;
  readonly leaderAddress: string;
  /** The current leader's epoch, sent with the direct calls as the leader sends it. */
  readonly epoch: bigint;
  readonly repetitions: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly concurrency: number;
  /** The certificates (lib/lab/certificates.ts) and the worker that serves over mutual TLS. */
  readonly tls: { readonly certificatesDir: string; readonly workerAddress: string };
  readonly onRun?: (rpcCase: RpcCase, mode: RpcMode, result: LoadResult) => void;
}

/** Runs every case and mode `repetitions` times; see the module comment. */
export async function runRpcBench(
  options: RpcBenchOptions,
): Promise<Record<RpcCase, Record<RpcMode, RpcFigures>>> {
  const servers: LabProcess[] = [];
  try {
    const bareAddress = async (runtime: Runtime, tls = false) => {
      const server = options.baseline.spawn(
        runtime,
        "server.mjs",
        [`--proto=${PROTO_PATH}`, ...(tls ? [`--tls-dir=${options.tls.certificatesDir}`] : [])],
        `${runtime}-server${tls ? "-tls" : ""}`,
      );
      servers.push(server);
      const { text } = await server.waitForLine(/^listening \d+$/, { timeoutMs: 20_000 });
      return `127.0.0.1:${text.split(" ")[1]}`;
    };
    const targets: Record<RpcCase, string> = {
      lab: options.workerAddress,
      node: await bareAddress("node"),
      denoBare: await bareAddress("deno"),
      submit: options.leaderAddress,
      labTls: options.tls.workerAddress,
      nodeTls: await bareAddress("node", true),
      denoBareTls: await bareAddress("deno", true),
    };
    const runs = Object.fromEntries(
      RPC_CASES.map((c) => [c, { sequential: [], concurrent: [] }]),
    ) as unknown as Record<RpcCase, Record<RpcMode, LoadResult[]>>;
    for (let repetition = 0; repetition < options.repetitions; repetition++) {
      const order = RPC_CASES.map((_, i) => RPC_CASES[(i + repetition) % RPC_CASES.length]);
      for (const mode of ["sequential", "concurrent"] as const) {
        for (const rpcCase of order) {
          const result = await runClient(rpcCase, mode, targets[rpcCase], repetition, options);
          runs[rpcCase][mode].push(result);
          options.onRun?.(rpcCase, mode, result);
        }
      }
    }
    const modeFigures = (rpcCase: RpcCase, mode: RpcMode) => {
      const twin = TLS_TWINS[rpcCase];
      // Each TLS case against the baselines over mutual TLS, and against its plaintext twin.
      const [node, denoBare] = twin
        ? ["nodeTls", "denoBareTls"] as const
        : ["node", "denoBare"] as const;
      return figures(
        runs[rpcCase][mode],
        runs[node][mode],
        runs[denoBare][mode],
        twin && runs[twin][mode],
      );
    };
    return Object.fromEntries(RPC_CASES.map((rpcCase) => [rpcCase, {
      sequential: modeFigures(rpcCase, "sequential"),
      concurrent: modeFigures(rpcCase, "concurrent"),
    }])) as Record<RpcCase, Record<RpcMode, RpcFigures>>;
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }
}

/**
 * Medians of `runs`. The ratio to the baseline is taken per repetition, between runs made
 * seconds apart, and its median reported: load from other work comes and goes over a run, and
 * pairing cancels most of it.
 */
function figures(
  runs: LoadResult[],
  node: LoadResult[],
  denoBare: LoadResult[],
  plaintext?: LoadResult[],
): RpcFigures {
  const ratios = runs.map((run, i) => run.callsPerSecond / node[i].callsPerSecond);
  const bareRatios = runs.map((run, i) => run.callsPerSecond / denoBare[i].callsPerSecond);
  return {
    ratioToNode: median(ratios),
    ...(plaintext
      ? {
        ratioToPlaintext: median(
          runs.map((run, i) => run.callsPerSecond / plaintext[i].callsPerSecond),
        ),
      }
      : {}),
    ratioRange: [Math.min(...ratios), Math.max(...ratios)],
    ratioToDenoBare: median(bareRatios),
    ratioToDenoBareRange: [Math.min(...bareRatios), Math.max(...bareRatios)],
    callsPerSecond: median(runs.map((run) => run.callsPerSecond)),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    runs,
  };
}

async function runClient(
  rpcCase: RpcCase,
  mode: RpcMode,
  target: string,
  repetition: number,
  options: RpcBenchOptions,
): Promise<LoadResult> {
  const args = [
    `--proto=${PROTO_PATH}`,
    `--target=${target}`,
    `--method=${rpcCase === "submit" ? "SubmitTask" : "PerformTask"}`,
    `--concurrency=${mode === "sequential" ? 1 : options.concurrency}`,
    `--warmup-ms=${options.warmupMs}`,
    `--duration-ms=${options.durationMs}`,
    // Unique task ids: the worker performs each id once and answers repeats from memory.
    `--prefix=bench-${rpcCase}-${mode}-${repetition}-${crypto.randomUUID().slice(0, 8)}`,
    `--epoch=${rpcCase === "lab" || rpcCase === "labTls" ? options.epoch : 0n}`,
    ...(rpcCase in TLS_TWINS ? [`--tls-dir=${options.tls.certificatesDir}`] : []),
  ];
  const name = `${rpcCase}-${mode}-client`;
  const client = rpcCase === "lab" || rpcCase === "submit" || rpcCase === "labTls"
    ? spawnLab("bench/rpc_client.ts", { name, env: {}, args })
    : options.baseline.spawn(
      rpcCase === "node" || rpcCase === "nodeTls" ? "node" : "deno",
      "client.mjs",
      args,
      name,
    );
  try {
    const { text } = await client.waitForLine((line) => line.startsWith(`${RESULT_TAG} `), {
      timeoutMs: options.warmupMs + options.durationMs + 30_000,
    });
    const status = await client.exited;
    if (!status.success) throw new Error(`${name} exited with code ${status.code}`);
    return JSON.parse(text.slice(RESULT_TAG.length + 1));
  } finally {
    await client.stop();
  }
}
