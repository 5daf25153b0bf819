/**
 * A bare grpc-js client of the lab's service: calls `--method` on `--target` under the shared
 * load loop (load.mjs) and prints `bench-result <json>`. Each call gets a unique task id and a
 * 5 s deadline, as a user of grpc-js would write it: default channel options, no metadata.
 *
 * Usage: node client.mjs --proto=<path> --target=127.0.0.1:<port> --method=PerformTask
 *   --concurrency=1 --warmup-ms=500 --duration-ms=2000 --prefix=<task id prefix> --epoch=0
 *   [--tls-dir=<lab certificates>]   (mutual TLS, see tls.mjs)
 */
import { parseArgs, RESULT_TAG, runLoad } from "./load.mjs";
import { loadMapReduceService } from "./proto.mjs";
import { channelSecurity } from "./tls.mjs";

const args = parseArgs(process.argv.slice(2));
const MapReduceService = loadMapReduceService(args.proto);
const { credentials, options } = channelSecurity(args["tls-dir"], args.target);
const client = new MapReduceService(args.target, credentials, options);
const call = (sequence) =>
  new Promise((resolve, reject) => {
    client[args.method](
      { task_id: `${args.prefix}-${sequence}`, message: "bench", epoch: args.epoch ?? "0" },
      { deadline: Date.now() + 5000 },
      (error, response) => (error ? reject(error) : resolve(response)),
    );
  });
const result = await runLoad(call, {
  concurrency: Number(args.concurrency),
  warmupMs: Number(args["warmup-ms"]),
  durationMs: Number(args["duration-ms"]),
});
console.log(`${RESULT_TAG} ${JSON.stringify(result)}`);
client.close();
