/**
 * The containers' health probe: asks this process's gRPC health service (on MASTER_PORT, else
 * WORKER_PORT, else 7070) and exits 0 when it answers SERVING, 1 otherwise, within 2 s.
 */
import { checkHealth, describeGrpcError } from "./lib/grpc/grpc.ts";

if (import.meta.main) {
  const port = Deno.env.get("MASTER_PORT") || Deno.env.get("WORKER_PORT") || "7070";
  try {
    const status = await checkHealth(`127.0.0.1:${port}`, { timeoutMs: 2000 });
    console.log(status);
    Deno.exit(status === "SERVING" ? 0 : 1);
  } catch (error) {
    console.log(describeGrpcError(error));
    Deno.exit(1);
  }
}
