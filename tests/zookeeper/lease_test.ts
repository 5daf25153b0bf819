/** Unit tests of `lib/zookeeper/lease.ts`: the read timeout and the lease, with plain numbers as the clock. */
import assert from "node:assert/strict";
import { leaseHolds, readTimeoutMs } from "../../lib/zookeeper/lease.ts";

// --- readTimeoutMs and leaseHolds ---------------------------------------------------------------

Deno.test("readTimeoutMs is two thirds of the session timeout, rounded down", () => {
  assert.equal(readTimeoutMs(3000), 2000);
  assert.equal(readTimeoutMs(4000), 2666);
  assert.equal(readTimeoutMs(400), 266);
});

Deno.test("leaseHolds right after the confirming request was sent", () => {
  assert.equal(leaseHolds(1000, 1000, 3000), true);
});

Deno.test("leaseHolds until just before the read timeout has passed", () => {
  assert.equal(leaseHolds(1000, 2999, 3000), true);
});

Deno.test("leaseHolds ends exactly at the read timeout", () => {
  assert.equal(leaseHolds(1000, 3000, 3000), false);
});

Deno.test("leaseHolds ends long before the session timeout", () => {
  assert.equal(leaseHolds(1000, 3999, 3000), false);
});

Deno.test("leaseHolds follows the rounded-down read timeout", () => {
  assert.equal(leaseHolds(0, 2665, 4000), true);
  assert.equal(leaseHolds(0, 2666, 4000), false);
});
