/**
 * Profiles the RPC bench's sequential PerformTask path: a real ZooKeeper, one master (the leader)
 * and the worker run with `deno run --cpu-prof`, the bench's client (bench/rpc_client.ts) too, and
 * the same for the bare grpc-js server and client (bench/node_baseline/) under Deno; then prints
 * each profile's top functions by self time. A tool for finding where our code costs, not a bench:
 * its figures are CPU shares, not throughput.
 *
 * Usage: deno run -A bench/profile_rpc.ts [--duration-ms=5000] [--concurrency=1] [--out=<dir>]
 */
import { startZooKeeper } from "../tests/harness/zookeeper.ts";
import { startLab } from "../tests/harness/lab.ts";
import { LabProcess } from "../tests/harness/process.ts";
import { prepareBaseline, PROTO_PATH } from "./baseline.ts";
import { parseArgs, RESULT_TAG } from "./node_baseline/load.mjs";
import { summarizeProfile } from "./profile_summary.ts";

/** What Deno needs to find its cache. */
const BASE_ENV = Object.fromEntries(
  Object.entries(Deno.env.toObject()).filter(([key]) => /^(PATH|HOME|TMPDIR|DENO_.*)$/.test(key)),
);
const REPO_ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

function spawnProfiled(
  script: string,
  args: string[],
  options: { name: string; cwd: string; env: Record<string, string>; profileDir: string },
): LabProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `--cpu-prof-dir=${options.profileDir}`,
      "--cpu-prof",
      script,
      ...args,
    ],
    cwd: options.cwd,
    env: { ...options.env, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return new LabProcess(options.name, child);
}

async function resultOf(client: LabProcess, timeoutMs: number): Promise<string> {
  const { text } = await client.waitForLine((line) => line.startsWith(`${RESULT_TAG} `), {
    timeoutMs,
  });
  await client.exited;
  return text.slice(RESULT_TAG.length + 1);
}

if (import.meta.main) {
  const options = parseArgs(Deno.args);
  const durationMs = Number(options["duration-ms"] ?? 5000);
  const concurrency = Number(options.concurrency ?? 1);
  const out = options.out ?? await Deno.makeTempDir({ prefix: "rpc-profile-" });
  const baseline = await prepareBaseline();
  const zk = await startZooKeeper({ tickTimeMs: 200 });
  const lab = await startLab({ zk, worker: false, masters: 0, sessionTimeoutMs: 4000 });
  const load = (target: string, prefix: string, epoch: bigint) => [
    `--proto=${PROTO_PATH}`,
    `--target=${target}`,
    "--method=PerformTask",
    `--concurrency=${concurrency}`,
    "--warmup-ms=500",
    `--duration-ms=${durationMs}`,
    `--prefix=${prefix}-${crypto.randomUUID().slice(0, 8)}`,
    `--epoch=${epoch}`,
  ];
  try {
    const port = Number(lab.workerAddress.split(":")[1]);
    const worker = spawnProfiled("worker.ts", [], {
      name: "worker",
      cwd: REPO_ROOT,
      env: { ...BASE_ENV, ...lab.env({ WORKER_HOST: "127.0.0.1", WORKER_PORT: String(port) }) },
      profileDir: `${out}/worker`,
    });
    await worker.waitForLine((line) => line.includes("Connected to ZooKeeper"), {
      timeoutMs: 20_000,
    });
    lab.worker = worker;
    await lab.startMaster();
    const { epoch } = await lab.waitForSingleLeader(20_000);
    const labClient = spawnProfiled(
      "bench/rpc_client.ts",
      load(`127.0.0.1:${port}`, "lab", epoch),
      {
        name: "lab-client",
        cwd: REPO_ROOT,
        env: BASE_ENV,
        profileDir: `${out}/lab-client`,
      },
    );
    console.log("lab", await resultOf(labClient, durationMs + 30_000));
    worker.signal("SIGTERM");
    await worker.exited;

    const server = spawnProfiled("server.mjs", [`--proto=${PROTO_PATH}`], {
      name: "bare-server",
      cwd: baseline.dir,
      env: BASE_ENV,
      profileDir: `${out}/bare-server`,
    });
    const { text } = await server.waitForLine(/^listening \d+$/, { timeoutMs: 20_000 });
    const bareClient = spawnProfiled(
      "client.mjs",
      load(`127.0.0.1:${text.split(" ")[1]}`, "bare", 0n),
      { name: "bare-client", cwd: baseline.dir, env: BASE_ENV, profileDir: `${out}/bare-client` },
    );
    console.log("bare", await resultOf(bareClient, durationMs + 30_000));
    server.signal("SIGTERM");
    await server.exited;
  } finally {
    await lab.close();
    await zk.close();
  }
  for (const name of ["worker", "lab-client", "bare-server", "bare-client"]) {
    for await (const entry of Deno.readDir(`${out}/${name}`)) {
      const profile = JSON.parse(await Deno.readTextFile(`${out}/${name}/${entry.name}`));
      console.log(`\n== ${name} (${out}/${name}/${entry.name})`);
      console.log(summarizeProfile(profile, { top: 25 }));
    }
  }
}
