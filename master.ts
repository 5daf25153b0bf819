/** A master process: `deno task master`. Configuration: see the README (MASTER_NAME, WORKER_ADDR, ...). */
import { parseMasterConfig } from "./lib/config.ts";
import { main } from "./lib/main.ts";
import { runMaster } from "./lib/master_node.ts";

if (import.meta.main) {
  await main((env) => parseMasterConfig(env, { hostname: Deno.hostname() }), runMaster);
}
