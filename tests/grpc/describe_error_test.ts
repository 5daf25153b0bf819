import assert from "node:assert/strict";
import { checkHealth, describeGrpcError, grpc, serviceError } from "../../lib/grpc/grpc.ts";
import { freePort } from "../../lib/common/ports.ts";
import { briefGrpcError } from "../../lib/lab/commands/status.ts";

Deno.test("describeGrpcError drops grpc-js's empty Resolution note and the nested Error:", () => {
  const error = serviceError(
    grpc.status.UNAVAILABLE,
    "No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:7070. Resolution note: ",
  );
  assert.equal(
    describeGrpcError(error),
    "UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7070",
  );
  assert.equal(briefGrpcError(error), "UNAVAILABLE: connect ECONNREFUSED 127.0.0.1:7070");
});

Deno.test("describeGrpcError keeps a resolution note that says something", () => {
  const error = serviceError(
    grpc.status.UNAVAILABLE,
    "Last error: x. Resolution note: dns said no",
  );
  assert.equal(
    describeGrpcError(error),
    "UNAVAILABLE: Last error: x. Resolution note: dns said no",
  );
});

Deno.test("describeGrpcError of a real refused connection has no Resolution note", async () => {
  const address = `127.0.0.1:${freePort()}`; // nothing listens there
  const error = await checkHealth(address, { timeoutMs: 2000 }).then(() => undefined, (e) => e);
  assert.ok(error, "the health check of a closed port must fail");
  const text = describeGrpcError(error);
  assert.doesNotMatch(text, /Resolution note/);
  assert.match(text, /^UNAVAILABLE: /);
  assert.equal(briefGrpcError(error), `UNAVAILABLE: connect ECONNREFUSED ${address}`);
});
