/** A master process: `deno task master`. Configuration: see the README (MASTER_NAME, WORKER_ADDR, ...). */
import { parseMasterConfig } from "./lib/config/config.ts";
import { main } from "./lib/nodes/process_runner.ts";
import { runMaster } from "./lib/nodes/master/run_master.ts";

if (import.meta.main) {
  await main((env) => parseMasterConfig(env, { hostname: Deno.hostname() }), runMaster);
}
