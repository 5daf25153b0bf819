/** Unit tests of `lib/election/connection_effect.ts`: Curator's switch over session events. */
import assert from "node:assert/strict";
import { connectionEffect } from "../../lib/election/connection_effect.ts";
import type { ZkClient } from "../../lib/zookeeper/client.ts";

/** The switch never looks at the client: any object stands in for it. */
const client = {} as ZkClient;

Deno.test("connectionEffect joins again on a new session", () => {
  assert.equal(connectionEffect({ type: "connected", client, newSession: true }), "join");
});

Deno.test("connectionEffect rechecks the election when reconnected to the same session", () => {
  assert.equal(connectionEffect({ type: "connected", client, newSession: false }), "recheck");
});

Deno.test("connectionEffect suspends leadership when disconnected or read-only", () => {
  assert.equal(
    connectionEffect({ type: "suspended", reason: "ZooKeeper connection disconnected" }),
    "suspend",
  );
  assert.equal(
    connectionEffect({ type: "suspended", reason: "ZooKeeper connection read-only" }),
    "suspend",
  );
});

Deno.test("connectionEffect drops the node when the session is lost", () => {
  assert.equal(connectionEffect({ type: "lost", reason: "ZooKeeper session expired" }), "drop");
});
