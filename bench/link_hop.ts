/**
 * `deno run -A bench/link_hop.ts [idle ms ...]`: what one task to a real worker costs there and
 * back after the two processes were idle, as a unary PerformTask call and as a message on the link
 * (lib/grpc/worker_link.ts), alternated so that drifting load hits both alike. The figure behind
 * the link: a new leader's first task comes after a quiet while, and grpc-js's and Deno's set-up
 * of a new call is what runs slowly after idle. Default idle times 0, 300 and 1500 ms.
 */
import { delay } from "../lib/common/backoff.ts";
import { callUnary, createMapReduceClient } from "../lib/grpc/grpc.ts";
import { WorkerLink } from "../lib/grpc/worker_link.ts";
import { waitFor } from "../lib/common/wait.ts";
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
const ways = {
  unary: () => callUnary(unary, "PerformTask", task(), { timeoutMs: 5000 }),
  link: () => link.call(task(), { timeoutMs: 5000 }),
};
for (const call of Object.values(ways)) for (let i = 0; i < 20; i++) await call(); // warm both
try {
  for (const idleMs of idleTimes) {
    const times: Record<string, number[]> = { unary: [], link: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 ? ["unary", "link"] as const : ["link", "unary"] as const;
      for (const way of order) {
        await delay(idleMs);
        const startedAt = performance.now();
        await ways[way]();
        times[way].push(performance.now() - startedAt);
      }
    }
    const figure = (way: string) => {
      const sorted = times[way].toSorted((a, b) => a - b);
      return `${quantile(sorted, 0.5).toFixed(2)} / ${quantile(sorted, 0.9).toFixed(2)}`;
    };
    console.log(
      `after ${idleMs} ms idle, ms there and back, p50 / p90 of ${ROUNDS}: ` +
        `unary ${figure("unary")}, link ${figure("link")}`,
    );
  }
} finally {
  link.close();
  unary.close();
}
