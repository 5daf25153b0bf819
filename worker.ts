/** The worker process: `deno task worker`. Configuration: see the README (WORKER_PORT, ZK_SERVERS, ...). */
import { parseWorkerConfig } from "./lib/config/config.ts";
import { main } from "./lib/nodes/process_runner.ts";
import { runWorker } from "./lib/nodes/worker/run_worker.ts";

if (import.meta.main) {
  await main(parseWorkerConfig, runWorker);
}
