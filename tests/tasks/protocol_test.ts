/** Unit tests of `lib/tasks/protocol.ts`: the masters' answers and the clients' retries agree. */
import assert from "node:assert/strict";
import { grpc } from "../../lib/grpc/grpc.ts";
import { RETRIED_CODES, WORKER_DID_NOT_ANSWER, WORKER_VERDICTS } from "../../lib/tasks/protocol.ts";

Deno.test("RETRIED_CODES includes what a master answers when the worker did not answer", () => {
  assert.ok(RETRIED_CODES.has(WORKER_DID_NOT_ANSWER));
  assert.ok(!WORKER_VERDICTS.has(WORKER_DID_NOT_ANSWER));
});

Deno.test("WORKER_VERDICTS other than a stale epoch are final for a client", () => {
  const final = [...WORKER_VERDICTS].filter((code) => !RETRIED_CODES.has(code));
  assert.deepEqual(final.map((code) => grpc.status[code]).sort(), [
    "INVALID_ARGUMENT",
    "RESOURCE_EXHAUSTED",
  ]);
  assert.ok(RETRIED_CODES.has(grpc.status.FAILED_PRECONDITION));
});
