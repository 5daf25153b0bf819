/** `runSubmit` as a program, so tests run it as a separate client process. */
import { runSubmit } from "../../lib/lab/commands/submit.ts";

if (import.meta.main) {
  // Exit explicitly: gRPC channels and ZooKeeper sockets must not keep the program alive.
  Deno.exit(await runSubmit(Deno.args));
}
