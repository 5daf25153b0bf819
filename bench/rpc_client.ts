/**
 * The Deno side of the RPC bench, run as its own process: calls the worker's PerformTask (or a
 * master's SubmitTask) through lib/grpc/grpc.ts, the code path the leader uses, under the same load
 * loop as the Node baseline, and prints `bench-result <json>`.
 *
 * Usage: deno run -A bench/rpc_client.ts --target=127.0.0.1:<port> --method=PerformTask
 *   --concurrency=1 --warmup-ms=500 --duration-ms=2000 --prefix=<task id prefix> --epoch=<epoch>
 *   [--tls-dir=<lab certificates>]   (mutual TLS with master1's certificate, as the leader has)
 */
import { parseTlsConfig } from "../lib/config/tls.ts";
import { callUnary, createMapReduceClient } from "../lib/grpc/grpc.ts";
import { certificateEnv } from "../lib/lab/certificates.ts";
import { parseArgs, RESULT_TAG, runLoad } from "./node_baseline/load.mjs";

/** Deadline of each call, as in the baseline client. */
const CALL_TIMEOUT_MS = 5000;

if (import.meta.main) {
  const args = parseArgs(Deno.args);
  const method = args.method;
  if (method !== "PerformTask" && method !== "SubmitTask") {
    throw new Error(
      `Cannot run the RPC client: --method must be PerformTask or SubmitTask: "${method}"`,
    );
  }
  const tls = args["tls-dir"]
    ? parseTlsConfig(certificateEnv(args["tls-dir"], "master1"), "run the RPC client")
    : undefined;
  const client = createMapReduceClient(args.target, tls);
  const result = await runLoad(
    (sequence: number) =>
      callUnary(client, method, {
        task_id: `${args.prefix}-${sequence}`,
        message: "bench",
        epoch: args.epoch ?? "0",
      }, { timeoutMs: CALL_TIMEOUT_MS }),
    {
      concurrency: Number(args.concurrency),
      warmupMs: Number(args["warmup-ms"]),
      durationMs: Number(args["duration-ms"]),
    },
  );
  console.log(`${RESULT_TAG} ${JSON.stringify(result)}`);
  client.close();
}
