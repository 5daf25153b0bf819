/** plainCallRefusal: who may call the worker without an epoch. */
import assert from "node:assert/strict";
import { plainCallRefusal } from "../../lib/fencing/plain_clients.ts";

Deno.test("plainCallRefusal serves everyone when WORKER_PLAIN_CLIENTS is unset", () => {
  assert.equal(plainCallRefusal(0n, undefined, undefined), undefined);
  assert.equal(plainCallRefusal(0n, "master1", undefined), undefined);
});

Deno.test("plainCallRefusal serves epoch-less calls only to the names listed", () => {
  assert.equal(plainCallRefusal(0n, "cli", ["cli"]), undefined);
  assert.equal(
    plainCallRefusal(0n, "master1", ["cli", "ops"]),
    'A call without an epoch is served only to cli, ops (WORKER_PLAIN_CLIENTS); this caller is "master1"',
  );
  assert.equal(
    plainCallRefusal(0n, undefined, ["cli"]),
    "A call without an epoch is served only to cli (WORKER_PLAIN_CLIENTS); this caller is unnamed",
  );
});

Deno.test("plainCallRefusal leaves calls with an epoch to the fence", () => {
  assert.equal(plainCallRefusal(7n, "master1", ["cli"]), undefined);
  assert.equal(plainCallRefusal(7n, undefined, ["cli"]), undefined);
});
