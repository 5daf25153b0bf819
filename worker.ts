/** The worker process: `deno task worker`. Configuration: see the README (WORKER_PORT, ZK_SERVERS, ...). */
import { parseWorkerConfig } from "./lib/config.ts";
import { main } from "./lib/main.ts";
import { runWorker } from "./lib/worker_node.ts";

if (import.meta.main) {
  await main(parseWorkerConfig, runWorker);
}
