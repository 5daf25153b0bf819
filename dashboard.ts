/** The lab's live view in the browser: `deno task dashboard [--port N]` (lib/dashboard/). */
import { runDashboard } from "./lib/dashboard/main.ts";

if (import.meta.main) {
  // Exit explicitly: ZooKeeper sockets and gRPC channels must not keep the process alive.
  Deno.exit(await runDashboard(Deno.args, Deno.env.toObject()));
}
