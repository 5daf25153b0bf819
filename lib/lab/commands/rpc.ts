/**
 * `rpc`: the original lab's client call: PerformTask(task_id "1", message "Hello, worker!") on the
 * worker, printed in Go's log format as the original did.
 */
import { createLogger } from "../../common/log.ts";
import { callUnary, createMapReduceClient, describeGrpcError } from "../../grpc/grpc.ts";

/** Calls the worker at `address`; resolves with the exit code (0 on a reply). */
export async function rpcCheck(address: string, options: { timeoutMs: number }): Promise<number> {
  const client = createMapReduceClient(address);
  try {
    const reply = await callUnary(client, "PerformTask", {
      task_id: "1",
      message: "Hello, worker!",
    }, { timeoutMs: options.timeoutMs });
    createLogger("text").info(`We got: ${reply.message}`);
    return 0;
  } catch (error) {
    console.error(
      `Cannot call the worker at ${address}: ${
        describeGrpcError(error)
      } (is the lab up? "deno task up" starts it)`,
    );
    return 1;
  } finally {
    client.close();
  }
}
