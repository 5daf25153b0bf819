/**
 * Proto loading for the bare baseline, as a user of grpc-js would write it: the lab's proto (path
 * given by the bench) with the same loader options as lib/grpc/grpc.ts.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** The same options as PROTO_LOADER_OPTIONS in lib/grpc/grpc.ts. */
const LOADER_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * The MapReduceService constructor from the proto at `protoPath`.
 * @param {string} protoPath
 */
export function loadMapReduceService(protoPath) {
  const definition = protoLoader.loadSync(protoPath, LOADER_OPTIONS);
  return grpc.loadPackageDefinition(definition).rpc_gen.MapReduceService;
}

export { grpc };
