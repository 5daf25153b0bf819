import assert from "node:assert/strict";
import { logServices } from "../../lib/lab/backend.ts";

const SINGLE = ["zookeeper", "worker", "master1", "master2"];
const ENSEMBLE = ["zoo1", "zoo2", "zoo3", "worker", "master1", "master2"];

Deno.test("logServices shows the masters and the worker by default, as the original make log", () => {
  assert.deepEqual(logServices(undefined, SINGLE), ["worker", "master1", "master2"]);
  assert.deepEqual(logServices(undefined, ENSEMBLE), ["worker", "master1", "master2"]);
});

Deno.test("logServices zookeeper names every ZooKeeper server", () => {
  assert.deepEqual(logServices("zookeeper", SINGLE), ["zookeeper"]);
  assert.deepEqual(logServices("zookeeper", ENSEMBLE), ["zoo1", "zoo2", "zoo3"]);
  assert.deepEqual(logServices("zoo2", ENSEMBLE), ["zoo2"]);
  assert.deepEqual(logServices("master1", SINGLE), ["master1"]);
});
