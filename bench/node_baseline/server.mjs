/**
 * A bare grpc-js server of the lab's service: PerformTask answers `<message> gatech` and does
 * nothing else (no fencing, no dedup, no logging). Prints `listening <port>` once bound to
 * 127.0.0.1 on a free port; SIGTERM or SIGINT shuts it down.
 *
 * Usage: node server.mjs --proto=<path to mapreduce.proto> [--tls-dir=<lab certificates>]
 */
import { parseArgs } from "./load.mjs";
import { grpc, loadMapReduceService } from "./proto.mjs";
import { serverCredentials } from "./tls.mjs";

const args = parseArgs(process.argv.slice(2));
const MapReduceService = loadMapReduceService(args.proto);
const server = new grpc.Server();
server.addService(MapReduceService.service, {
  PerformTask(call, callback) {
    return callback(null, { message: `${call.request.message} gatech` });
  },
  SubmitTask(_call, callback) {
    return callback({ code: grpc.status.UNIMPLEMENTED, details: "not in the baseline" });
  },
});
server.bindAsync("127.0.0.1:0", serverCredentials(args["tls-dir"]), (error, port) => {
  if (error) {
    console.error(`Cannot listen on 127.0.0.1:0: ${error.message}`);
    process.exit(1);
  }
  console.log(`listening ${port}`);
});
for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    const timer = setTimeout(() => server.forceShutdown(), 500);
    server.tryShutdown(() => {
      clearTimeout(timer);
      process.exit(0);
    });
  });
}
