/** The lab CLI: `deno task up | rpc | logs | status | failover | stop | start | down | clean`. */
import { runLab } from "./lib/lab/cli.ts";

if (import.meta.main) {
  // Exit explicitly: gRPC channels and ZooKeeper sockets must not keep the CLI alive.
  Deno.exit(await runLab(Deno.args, Deno.env.toObject()));
}
