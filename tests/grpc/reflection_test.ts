/** Every process serves gRPC server reflection, so `grpcurl -plaintext host:port list` works. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { grpc, PROTO_LOADER_OPTIONS } from "../../lib/grpc/grpc.ts";
import * as protoLoader from "@grpc/proto-loader";
import { waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";

const protoPath = fileURLToPath(new URL("../fixtures/reflection_list.proto", import.meta.url));
const reflection = grpc.loadPackageDefinition(
  protoLoader.loadSync(protoPath, PROTO_LOADER_OPTIONS),
);
// deno-lint-ignore no-explicit-any
const ServerReflection = (reflection.grpc as any).reflection.v1
  .ServerReflection as grpc.ServiceClientConstructor;

/** Asks `address` for its services, as `grpcurl list` does. */
function listServices(address: string): Promise<string[]> {
  const client = new ServerReflection(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    const call = client.ServerReflectionInfo({ deadline: Date.now() + 5000 });
    call.on("data", (response: { list_services_response?: { service: { name: string }[] } }) => {
      resolve(response.list_services_response?.service.map((service) => service.name).sort() ?? []);
      call.end();
    });
    call.on("error", reject);
    call.on("end", () => client.close());
    call.write({ list_services: "" });
  });
}

Deno.test("the worker and the masters list their services through server reflection", async () => {
  await using lab = await startLab({ masters: 1 });
  const { leader } = await lab.waitForSingleLeader();
  const masterAddress = (await waitForEvent(leader, "Master serving")).record.address as string;
  const expected = ["grpc.health.v1.Health", "rpc_gen.MapReduceService"];
  for (const address of [lab.workerAddress, masterAddress]) {
    const services = await listServices(address);
    for (const name of expected) assert.ok(services.includes(name), `${address} lists ${services}`);
  }
});
