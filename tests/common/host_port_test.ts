import assert from "node:assert/strict";
import { isHost, isHostPort, parseHostPort } from "../../lib/common/host_port.ts";

Deno.test("parseHostPort splits names, IPv4 and bracketed IPv6 addresses", () => {
  assert.deepEqual(parseHostPort("zookeeper:2181"), { hostname: "zookeeper", port: 2181 });
  assert.deepEqual(parseHostPort("127.0.0.1:1"), { hostname: "127.0.0.1", port: 1 });
  assert.deepEqual(parseHostPort("[::1]:65535"), { hostname: "::1", port: 65535 });
  assert.deepEqual(parseHostPort("master_1.lab-net:50051"), {
    hostname: "master_1.lab-net",
    port: 50051,
  });
});

for (
  const [what, value] of [
    ["no port", "zookeeper"],
    ["an empty host", ":2181"],
    ["port 0", "zookeeper:0"],
    ["port 65536", "zookeeper:65536"],
    ["a six-digit port", "zookeeper:123456"],
    ["a space", "zoo keeper:2181"],
    ["an unbracketed IPv6 address", "::1:2181"],
    ["a list", "a:1,b:2"],
    ["a trailing newline", "zookeeper:2181\n"],
  ]
) {
  Deno.test(`isHostPort rejects ${what}`, () => assert.equal(isHostPort(value), false));
}

Deno.test("isHost takes a host without a port", () => {
  assert.equal(isHost("0.0.0.0"), true);
  assert.equal(isHost("[::]"), true);
  assert.equal(isHost("master1"), true);
  assert.equal(isHost("master1:50051"), false);
  assert.equal(isHost(""), false);
});
