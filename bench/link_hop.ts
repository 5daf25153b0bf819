/**
 * `deno run -A bench/link_hop.ts [idle ms ...]`: what one task to a real worker costs there and
 * back after the two processes were idle, as a unary PerformTask call and as a message on the link
 * (lib/grpc/worker_link.ts), alternated so that drifting load hits both alike. The figure behind
 * the link: a new leader's first task comes after a quiet while, and grpc-js's and Deno's set-up
 * of a new call is what runs slowly after idle. Default idle times 0, 300 and 1500 ms.
 *
 * A third way is the floor under both: a few bytes echoed by another Deno process over a plain TCP
 * socket (no gRPC, no HTTP/2), so the figures show how much of a hop is gRPC's and how much is two
 * Deno processes waking up on this machine.
 */
import { delay } from "../lib/common/backoff.ts";
import { callUnary, createMapReduceClient } from "../lib/grpc/grpc.ts";
import { WorkerLink } from "../lib/grpc/worker_link.ts";
import { deadline, waitFor } from "../lib/common/wait.ts";
import { startLab } from "../tests/harness/lab.ts";
import { quantile } from "./stats.ts";

const ROUNDS = 30;
const idleTimes = Deno.args.length ? Deno.args.map(Number) : [0, 300, 1500];

await using lab = await startLab({ masters: 0, sessionTimeoutMs: 4000 });
const unary = createMapReduceClient(lab.workerAddress);
const link = new WorkerLink({
  unary,
  link: createMapReduceClient(lab.workerAddress, undefined, { ownConnection: true }),
});
link.open();
await waitFor(() => link.up || undefined, { timeoutMs: 10_000, message: "the link is up" });
let next = 0;
const task = () => ({ task_id: `hop-${next++}`, message: "x", epoch: "0" });
const echo = await startEcho();
const ways = {
  unary: () => callUnary(unary, "PerformTask", task(), { timeoutMs: 5000 }),
  link: () => link.call(task(), { timeoutMs: 5000 }),
  tcp: () => echo.roundTrip(),
};
type Way = keyof typeof ways;
const wayNames = Object.keys(ways) as Way[];
try {
  for (const call of Object.values(ways)) for (let i = 0; i < 20; i++) await call(); // warm each
  for (const idleMs of idleTimes) {
    const times: Record<Way, number[]> = { unary: [], link: [], tcp: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Each way goes first in turn.
      const order = wayNames.map((_, i) => wayNames[(i + round) % wayNames.length]);
      for (const way of order) {
        await delay(idleMs);
        const startedAt = performance.now();
        await ways[way]();
        times[way].push(performance.now() - startedAt);
      }
    }
    const figure = (way: Way) => {
      const sorted = times[way].toSorted((a, b) => a - b);
      return `${quantile(sorted, 0.5).toFixed(2)} / ${quantile(sorted, 0.9).toFixed(2)}`;
    };
    console.log(
      `after ${idleMs} ms idle, ms there and back, p50 / p90 of ${ROUNDS}: ` +
        `unary ${figure("unary")}, link ${figure("link")}, plain TCP echo ${figure("tcp")}`,
    );
  }
} finally {
  link.close();
  unary.close();
  await echo.close();
}

/** A Deno process that echoes what it reads on a TCP socket, and one connection to it. */
async function startEcho() {
  const server = `
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    console.log(listener.addr.port);
    for await (const conn of listener) {
      conn.setNoDelay(true);
      (async () => {
        const buffer = new Uint8Array(64);
        for (let n; (n = await conn.read(buffer)) !== null;) await conn.write(buffer.subarray(0, n));
      })();
    }`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", server],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await deadline(lines.read(), 10_000, "the echo process's port");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: Number(first.value) });
  conn.setNoDelay(true);
  const buffer = new Uint8Array(64);
  return {
    async roundTrip(): Promise<void> {
      await conn.write(new Uint8Array([1, 2, 3]));
      for (let got = 0; got < 3;) {
        const n = await conn.read(buffer);
        if (n === null) throw new Error("the echo process closed the connection");
        got += n;
      }
    },
    async close(): Promise<void> {
      conn.close();
      child.kill("SIGKILL");
      await child.status;
      await lines.cancel();
    },
  };
}
