/**
 * An A/B tool for the RPC bench's PerformTask path (not part of `deno task bench`): workers of
 * several checkouts on one election (one master leads), each called by its checkout's
 * bench/rpc_client.ts, and the bare files under Deno, interleaved in one run with the order rotated
 * per repetition, sequential and at 64 concurrent calls. Besides calls/s it reports CPU per call
 * (utime+stime from /proc, sampled every 10 ms over the measured window) of the server, the client
 * and this process (which reads the workers' stdout as the bench does): on a shared machine those
 * move much less than throughput does.
 *
 * Usage: deno run -A bench/ab_rpc.ts [--variants=<dir>[:pipe|:file|:raw[:epoch0]],...] [--reps=3]
 *   [--duration-ms=1500] [--modes=1,64] [--cross=labclient=<dir>,bareclient=v<i>] [--strace=1]
 *   [--pin=same|split]
 * A checkout is a directory with this repository's files (e.g. `git archive <commit> | tar -x`);
 * the default is this one.
 * `:file` sends that worker's stdout to a file instead of a pipe, `:raw` reads its pipe with a
 * plain reader loop; `--cross` adds the lab client against the bare server and the bare client
 * against a lab worker; `:epoch0` calls that worker without an epoch (unfenced); `--strace=1`
 * counts the servers' system calls per run; `--pin` puts every server on CPU 0 and every client on
 * CPU 0 (`same`) or 1 (`split`) with taskset, so that where the scheduler happens to place each
 * process, which moves a sequential run by ±20 % on two cores, is the same for every case.
 */
import { startZooKeeper } from "../tests/harness/zookeeper.ts";
import { startLab } from "../tests/harness/lab.ts";
import { LabProcess } from "../tests/harness/process.ts";
import { freePort } from "../lib/common/ports.ts";
import { waitFor } from "../lib/common/wait.ts";
import { prepareBaseline, PROTO_PATH } from "./baseline.ts";
import { parseArgs, RESULT_TAG } from "./node_baseline/load.mjs";
import { median } from "./stats.ts";

const BASE_ENV = Object.fromEntries(
  Object.entries(Deno.env.toObject()).filter(([key]) => /^(PATH|HOME|TMPDIR|DENO_.*)$/.test(key)),
);

function spawn(
  script: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  name: string,
  stdout: "piped" | "null" = "piped",
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script, ...args],
    cwd,
    env: { ...BASE_ENV, ...env, NO_COLOR: "1" },
    stdin: "null",
    stdout,
    stderr: "piped",
  }).spawn();
  return new LabProcess(name, child);
}

/** utime+stime in ms (CLK_TCK 100). */
function cpuMs(pid: number | "self"): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Samples the CPU of `pids` every 10 ms until stopped. */
function sampleCpu(pids: Record<string, number | "self">) {
  const samples: { at: number; cpu: Record<string, number> }[] = [];
  const take = () => {
    const cpu: Record<string, number> = {};
    for (const [k, pid] of Object.entries(pids)) cpu[k] = cpuMs(pid);
    samples.push({ at: performance.now(), cpu });
  };
  take();
  const timer = setInterval(take, 10);
  return {
    stop: () => clearInterval(timer),
    /** CPU ms of each between the samples nearest to `from` and `to`. */
    between(from: number, to: number): Record<string, number> {
      const near = (t: number) =>
        samples.reduce((a, b) => (Math.abs(b.at - t) < Math.abs(a.at - t) ? b : a));
      const [a, b] = [near(from), near(to)];
      return Object.fromEntries(Object.keys(pids).map((k) => [k, b.cpu[k] - a.cpu[k]]));
    },
  };
}

/** True once a worker's output says it is connected to ZooKeeper (then it serves). */
const isConnected = (line: string) => line.includes("Connected to ZooKeeper");

/**
 * Starts worker `i` of the checkout `dir`, its stdout read as `mode` says (see the module
 * comment), and resolves once it is connected to ZooKeeper.
 */
async function startVariantWorker(
  mode: string,
  dir: string,
  env: Record<string, string>,
  i: number,
): Promise<{ pid: number; stop(): Promise<unknown> }> {
  const connected = { timeoutMs: 20_000, message: `worker${i} connected to ZooKeeper` };
  if (mode === "file") {
    const file = `/tmp/ab-worker-${i}.log`;
    const child = new Deno.Command("sh", {
      args: ["-c", `exec deno run --allow-all worker.ts > ${file}`],
      cwd: dir,
      env: { ...BASE_ENV, ...env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const worker = new LabProcess(`worker${i}`, child);
    await waitFor(() => Deno.readTextFileSync(file).split("\n").some(isConnected) || undefined, {
      ...connected,
      intervalMs: 50,
    });
    return worker;
  }
  if (mode === "raw") {
    // The worker's stdout read by a cheap loop (reader + TextDecoder, no TransformStream).
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "worker.ts"],
      cwd: dir,
      env: { ...BASE_ENV, ...env, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const lines: string[] = [];
    (async () => {
      const reader = child.stdout.getReader();
      const decoder = new TextDecoder();
      let partial = "";
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        const parts = (partial + decoder.decode(value, { stream: true })).split("\n");
        partial = parts.pop()!;
        for (const text of parts) lines.push(text);
      }
    })();
    await waitFor(() => lines.some(isConnected) || undefined, { ...connected, intervalMs: 50 });
    return {
      pid: child.pid,
      stop: async () => {
        child.kill("SIGTERM");
        await child.status;
      },
    };
  }
  const worker = spawn("worker.ts", [], dir, env, `worker${i}`);
  await worker.waitForLine(isConnected, { timeoutMs: connected.timeoutMs });
  return worker;
}

const options = parseArgs(Deno.args);
/** `--pin=same|split`: servers on CPU 0, clients on CPU 0 (same) or 1 (split). */
function pin(pid: number, role: "server" | "client") {
  if (!options.pin) return;
  const cpu = role === "server" || options.pin === "same" ? "0" : "1";
  new Deno.Command("taskset", { args: ["-a", "-c", "-p", cpu, String(pid)], stdout: "null" })
    .outputSync();
}
const variants = (options.variants ?? ".").split(",");
const reps = Number(options.reps ?? 3);
const durationMs = Number(options["duration-ms"] ?? 1500);
const baseline = await prepareBaseline();
const zk = await startZooKeeper({ tickTimeMs: 200 });
const lab = await startLab({ zk, masters: 1, sessionTimeoutMs: 4000, statusIntervalMs: 5000 });
const servers: { stop(): Promise<unknown> }[] = [];
try {
  const { epoch } = await lab.waitForSingleLeader(20_000);
  const targets: Record<
    string,
    { target: string; cwd: string; script: string; epoch: bigint; pid: number }
  > = {};
  for (const [i, spec] of variants.entries()) {
    const [dir, mode = "pipe", epochMode] = spec.split(":");
    const port = freePort();
    const env = lab.env({ WORKER_HOST: "127.0.0.1", WORKER_PORT: String(port) });
    const worker = await startVariantWorker(mode, dir, env, i);
    servers.push(worker);
    targets[`v${i}`] = {
      target: `127.0.0.1:${port}`,
      cwd: dir,
      script: "bench/rpc_client.ts",
      epoch: epochMode === "epoch0" ? 0n : epoch,
      pid: worker.pid,
    };
  }
  const server = baseline.spawn("deno", "server.mjs", [`--proto=${PROTO_PATH}`], "bare-server");
  servers.push(server);
  const { text } = await server.waitForLine(/^listening \d+$/, { timeoutMs: 20_000 });
  targets.bare = {
    target: `127.0.0.1:${text.split(" ")[1]}`,
    cwd: baseline.dir,
    script: "client.mjs",
    epoch: 0n,
    pid: server.pid,
  };
  for (const spec of (options.cross ?? "").split(",").filter(Boolean)) {
    // "labclient=<dir>": the lab client of <dir> against the bare server;
    // "bareclient=v<i>": the bare client against worker v<i>.
    const [kind, arg] = spec.split("=");
    if (kind === "labclient") {
      targets[`labclient-bare`] = { ...targets.bare, cwd: arg, script: "bench/rpc_client.ts" };
    } else {
      targets[`bareclient-${arg}`] = { ...targets[arg], cwd: baseline.dir, script: "client.mjs" };
    }
  }
  for (const t of Object.values(targets)) pin(t.pid, "server");
  const names = Object.keys(targets);
  const results: Record<string, Record<string, number[]>> = {};
  const cpu: Record<
    string,
    Record<string, { server: number[]; client: number[]; self: number[] }>
  > = {};
  for (let rep = 0; rep < reps; rep++) {
    for (const concurrency of (options.modes ?? "1,64").split(",").map(Number)) {
      const order = names.map((_, i) => names[(i + rep) % names.length]);
      for (const name of order) {
        const t = targets[name];
        const client = spawn(
          t.script,
          [
            `--proto=${PROTO_PATH}`,
            `--target=${t.target}`,
            "--method=PerformTask",
            `--concurrency=${concurrency}`,
            "--warmup-ms=500",
            `--duration-ms=${durationMs}`,
            `--prefix=ab-${name}-${concurrency}-${rep}-${crypto.randomUUID().slice(0, 8)}`,
            `--epoch=${t.epoch}`,
          ],
          t.cwd,
          {},
          `${name}-client`,
        );
        pin(client.pid, "client");
        const sampler = sampleCpu({ server: t.pid, client: client.pid, self: "self" });
        let strace: Deno.ChildProcess | undefined;
        if (options.strace) {
          strace = new Deno.Command("strace", {
            args: ["-c", "-f", "-p", String(t.pid)],
            stdout: "null",
            stderr: "piped",
          }).spawn();
        }
        const line = await client.waitForLine((l) => l.startsWith(`${RESULT_TAG} `), {
          timeoutMs: durationMs + 30_000,
        });
        await client.exited;
        sampler.stop();
        if (strace) {
          strace.kill("SIGINT");
          const out = new TextDecoder().decode((await strace.output()).stderr);
          console.log(
            `strace ${name} c${concurrency}:\n${
              out.split("\n").filter((l) => !l.includes("attached") && !l.includes("detached"))
                .slice(0, 16).join("\n")
            }`,
          );
        }
        const result = JSON.parse(line.text.slice(RESULT_TAG.length + 1));
        const used = sampler.between(line.at - result.elapsedMs, line.at);
        const per = (k: string) => (1000 * used[k]) / result.calls;
        const c = ((cpu[name] ??= {})[concurrency] ??= { server: [], client: [], self: [] });
        c.server.push(per("server"));
        c.client.push(per("client"));
        c.self.push(per("self"));
        ((results[name] ??= {})[concurrency] ??= []).push(result.callsPerSecond);
        console.log(
          `rep ${rep} c${concurrency} ${name}: ${result.callsPerSecond.toFixed(0)} calls/s p50 ${
            result.p50Ms.toFixed(3)
          } ms errors ${result.errors}; CPU µs/call server ${per("server").toFixed(0)} client ${
            per("client").toFixed(0)
          } driver ${per("self").toFixed(0)}`,
        );
      }
    }
  }
  for (const concurrency of (options.modes ?? "1,64").split(",").map(Number)) {
    for (const name of names) {
      if (name === "bare") continue;
      const ratios = results[name][concurrency].map((v, i) => v / results.bare[concurrency][i]);
      console.log(
        `c${concurrency} ${name} (${targets[name].cwd}): median ${
          median(results[name][concurrency]).toFixed(0)
        } calls/s, vs bare median ${median(ratios).toFixed(3)} [${
          ratios.map((r) => r.toFixed(2)).join(" ")
        }]`,
      );
    }
    for (const name of names) {
      const c = cpu[name][concurrency];
      console.log(
        `c${concurrency} ${name} CPU µs/call median: server ${median(c.server).toFixed(0)} client ${
          median(c.client).toFixed(0)
        } driver ${median(c.self).toFixed(0)}`,
      );
    }
    console.log(`c${concurrency} bare median ${median(results.bare[concurrency]).toFixed(0)}`);
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await lab.close();
  await zk.close();
}
