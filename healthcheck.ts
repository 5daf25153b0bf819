/**
 * The containers' health probe: asks this process's gRPC health service (on MASTER_PORT, else
 * WORKER_PORT, else 7070) and exits 0 when it answers SERVING, 1 otherwise, within 2 s. With
 * TLS_CA, TLS_CERT and TLS_KEY (the service's own) it calls over mutual TLS, as the service serves.
 */
import { ConfigError } from "./lib/config/config.ts";
import { parseTlsConfig } from "./lib/config/tls.ts";
import { checkHealth, describeGrpcError } from "./lib/grpc/grpc.ts";

if (import.meta.main) {
  const port = Deno.env.get("MASTER_PORT") || Deno.env.get("WORKER_PORT") || "7070";
  try {
    const tls = parseTlsConfig(Deno.env.toObject(), "check health");
    const status = await checkHealth(`127.0.0.1:${port}`, { timeoutMs: 2000, tls });
    console.log(status);
    Deno.exit(status === "SERVING" ? 0 : 1);
  } catch (error) {
    console.log(error instanceof ConfigError ? error.message : describeGrpcError(error));
    Deno.exit(1);
  }
}
