/**
 * `rpc`: the original lab's client call: PerformTask(task_id "1", message "Hello, worker!") on the
 * worker, printed in Go's log format as the original did.
 */
import { createLogger } from "../../common/log.ts";
import { tlsHint } from "../../grpc/credentials.ts";
import {
  callUnary,
  createMapReduceClient,
  describeGrpcError,
  grpc,
  hasCode,
  type TlsCredentials,
} from "../../grpc/grpc.ts";

/** Calls the worker at `address` (mutual TLS with `tls`); resolves with the exit code (0 on a reply). */
export async function rpcCheck(
  address: string,
  options: { timeoutMs: number; tls?: TlsCredentials },
): Promise<number> {
  const client = createMapReduceClient(address, options.tls);
  try {
    const reply = await callUnary(client, "PerformTask", {
      task_id: "1",
      message: "Hello, worker!",
    }, { timeoutMs: options.timeoutMs });
    createLogger("text").info(`We got: ${reply.message}`);
    return 0;
  } catch (error) {
    const hint = tlsHint(error, options.tls !== undefined) ??
      (hasCode(error, grpc.status.UNAVAILABLE) ? 'is the lab up? "deno task up" starts it' : "");
    console.error(
      `Cannot call the worker at ${address}: ${describeGrpcError(error)}${hint && ` (${hint})`}`,
    );
    return 1;
  } finally {
    client.close();
  }
}
