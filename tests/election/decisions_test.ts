/**
 * Unit tests of `lib/election/decisions.ts`: node names, member data, which children count and the
 * election's decisions, all with plain data.
 */
import assert from "node:assert/strict";
import {
  type Candidate,
  decide,
  decodeMemberInfo,
  electionOrder,
  encodeMemberInfo,
  leaderOf,
  MEMBER_PREFIX,
  memberNodePrefix,
  type NodeFacts,
  parseMemberNode,
  toCandidate,
} from "../../lib/election/decisions.ts";

const GUID_A = "0a1b2c3d-0000-4000-8000-00000000000a";
const GUID_B = "0a1b2c3d-0000-4000-8000-00000000000b";
const GUID_C = "0a1b2c3d-0000-4000-8000-00000000000c";

const SESSION_A = 0x1001n;
const SESSION_B = 0x1002n;
const SESSION_C = 0x1003n;

const encoder = new TextEncoder();

function nodeName(guid: string, sequence: number): string {
  return memberNodePrefix(guid) + String(sequence).padStart(10, "0");
}

function json(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The facts of a well-formed master node; `overrides` breaks one of them. */
function facts(
  guid: string,
  sequence: number,
  owner: bigint,
  overrides: Partial<NodeFacts> = {},
): NodeFacts {
  return {
    node: nodeName(guid, sequence),
    czxid: 0x100n + BigInt(sequence),
    ephemeralOwner: owner,
    data: encodeMemberInfo({ name: `master-${sequence}`, address: `m${sequence}:50051` }),
    ...overrides,
  };
}

function candidate(guid: string, sequence: number, owner: bigint): Candidate {
  const result = toCandidate(facts(guid, sequence, owner));
  assert.ok(result, "the fixture must be a valid candidate");
  return result;
}

// --- parseMemberNode ----------------------------------------------------------------------------

Deno.test("parseMemberNode returns the guid and sequence of a master's node", () => {
  assert.deepEqual(parseMemberNode(`master-${GUID_A}-0000000042`), { guid: GUID_A, sequence: 42 });
});

Deno.test("parseMemberNode reads the largest sequence ZooKeeper appends", () => {
  assert.deepEqual(parseMemberNode(`master-${GUID_A}-2147483647`), {
    guid: GUID_A,
    sequence: 2147483647,
  });
});

Deno.test("parseMemberNode parses what memberNodePrefix plus a sequence makes", () => {
  assert.equal(memberNodePrefix(GUID_B), `${MEMBER_PREFIX}${GUID_B}-`);
  assert.deepEqual(parseMemberNode(memberNodePrefix(GUID_B) + "0000000007"), {
    guid: GUID_B,
    sequence: 7,
  });
});

for (
  const node of [
    "",
    "master-",
    `master-${GUID_A}`,
    `master-${GUID_A}-`,
    `master-${GUID_A}-000000001`,
    `master-${GUID_A}-00000000001`,
    `master-${GUID_A}-0000000001-x`,
    `master-${GUID_A.toUpperCase()}-0000000001`,
    `lock-${GUID_A}-0000000001`,
    `xmaster-${GUID_A}-0000000001`,
    "master-not-a-guid-0000000001",
    "_c_0a1b2c3d-lock-0000000001",
  ]
) {
  Deno.test(`parseMemberNode ignores "${node}"`, () => {
    assert.equal(parseMemberNode(node), undefined);
  });
}

// --- encodeMemberInfo / decodeMemberInfo ----------------------------------------------------

Deno.test("encodeMemberInfo writes only the name and the address as JSON", () => {
  const self = candidate(GUID_A, 1, SESSION_A);
  assert.equal(
    new TextDecoder().decode(encodeMemberInfo(self)),
    '{"name":"master-1","address":"m1:50051"}',
  );
});

Deno.test("decodeMemberInfo reads what encodeMemberInfo writes", () => {
  const info = { name: "master1", address: "master1.lab:50051" };
  assert.deepEqual(decodeMemberInfo(encodeMemberInfo(info)), info);
});

Deno.test("decodeMemberInfo ignores fields other than name and address", () => {
  assert.deepEqual(
    decodeMemberInfo(json('{"name":"master1","address":"m1:1","role":"leader"}')),
    { name: "master1", address: "m1:1" },
  );
});

Deno.test("decodeMemberInfo accepts a name of 64 characters", () => {
  const name = "n".repeat(64);
  assert.deepEqual(decodeMemberInfo(encodeMemberInfo({ name, address: "m1:1" })), {
    name,
    address: "m1:1",
  });
});

Deno.test("decodeMemberInfo accepts data of exactly 1024 bytes", () => {
  const bare = '{"name":"master1","address":"m1:1","pad":""}';
  const data = json(bare.replace('""', `"${"x".repeat(1024 - bare.length)}"`));
  assert.equal(data.byteLength, 1024);
  assert.deepEqual(decodeMemberInfo(data), { name: "master1", address: "m1:1" });
});

Deno.test("decodeMemberInfo rejects data over 1024 bytes", () => {
  const bare = '{"name":"master1","address":"m1:1","pad":""}';
  const data = json(bare.replace('""', `"${"x".repeat(1025 - bare.length)}"`));
  assert.equal(data.byteLength, 1025);
  assert.equal(decodeMemberInfo(data), undefined);
});

Deno.test({
  name: "decodeMemberInfo reads a bracketed IPv6 address a master may advertise",
  fn() {
    const info = { name: "master1", address: "[::1]:50051" };
    assert.deepEqual(decodeMemberInfo(encodeMemberInfo(info)), info);
  },
});

const UNREADABLE: [string, Uint8Array][] = [
  ["empty data", new Uint8Array()],
  ["garbage bytes", new Uint8Array([0x00, 0x13, 0x37, 0xfe])],
  ["invalid UTF-8", new Uint8Array([0x7b, 0xc3, 0x28, 0x7d])],
  [
    "invalid UTF-8 inside a JSON string",
    new Uint8Array([...json('{"name":"m'), 0xff, ...json('","address":"m1:1"}')]),
  ],
  ["truncated JSON", json('{"name":"master1","address":"m1:1"')],
  ["a JSON number", json("42")],
  ["a JSON string", json('"master1"')],
  ["JSON null", json("null")],
  ["a JSON array", json('["master1","m1:1"]')],
  ["a missing name", json('{"address":"m1:1"}')],
  ["an empty name", json('{"name":"","address":"m1:1"}')],
  ["a name of 65 characters", json(`{"name":"${"n".repeat(65)}","address":"m1:1"}`)],
  ["a name that is a number", json('{"name":1,"address":"m1:1"}')],
  ["a missing address", json('{"name":"master1"}')],
  ["an address that is a number", json('{"name":"master1","address":50051}')],
  ["an address without a port", json('{"name":"master1","address":"m1"}')],
  ["an address with an empty host", json('{"name":"master1","address":":50051"}')],
  ["an address with a six-digit port", json('{"name":"master1","address":"m1:123456"}')],
  ["an address with a space", json('{"name":"master1","address":"m 1:50051"}')],
];

for (const [what, data] of UNREADABLE) {
  Deno.test(`decodeMemberInfo rejects ${what}`, () => {
    assert.equal(decodeMemberInfo(data), undefined);
  });
}

// --- toCandidate and electionOrder ------------------------------------------------------------

Deno.test("toCandidate combines the node name, the member data and the stat", () => {
  assert.deepEqual(toCandidate(facts(GUID_A, 3, SESSION_A)), {
    name: "master-3",
    address: "m3:50051",
    node: nodeName(GUID_A, 3),
    guid: GUID_A,
    sequence: 3,
    epoch: 0x103n,
    owner: SESSION_A,
  });
});

Deno.test("toCandidate ignores a persistent node (owner 0n)", () => {
  assert.equal(toCandidate(facts(GUID_A, 1, 0n)), undefined);
});

Deno.test("toCandidate ignores a node whose name is not a master's", () => {
  assert.equal(toCandidate(facts(GUID_A, 1, SESSION_A, { node: "lock-0000000001" })), undefined);
});

Deno.test("toCandidate ignores a node whose data is not a master's", () => {
  assert.equal(toCandidate(facts(GUID_A, 1, SESSION_A, { data: json("hello") })), undefined);
});

Deno.test("electionOrder sorts the candidates by sequence", () => {
  const order = electionOrder([
    facts(GUID_C, 12, SESSION_C),
    facts(GUID_A, 3, SESSION_A),
    facts(GUID_B, 10, SESSION_B),
  ]);
  assert.deepEqual(order.map((c) => c.sequence), [3, 10, 12]);
});

Deno.test("electionOrder breaks a tie in sequence by the lower epoch", () => {
  const order = electionOrder([
    facts(GUID_B, 1, SESSION_B, { czxid: 0x900n }),
    facts(GUID_A, 1, SESSION_A, { czxid: 0x800n }),
  ]);
  assert.deepEqual(order.map((c) => c.guid), [GUID_A, GUID_B]);
});

Deno.test("electionOrder drops children that are not live masters' nodes", () => {
  const order = electionOrder([
    facts(GUID_A, 5, SESSION_A),
    facts(GUID_B, 1, 0n),
    facts(GUID_C, 2, SESSION_C, { node: "lock-0000000002" }),
    facts(GUID_C, 3, SESSION_C, { data: new Uint8Array([0xff]) }),
    facts(GUID_B, 7, SESSION_B),
  ]);
  assert.deepEqual(order.map((c) => c.node), [nodeName(GUID_A, 5), nodeName(GUID_B, 7)]);
});

Deno.test("electionOrder returns an empty list for no children", () => {
  assert.deepEqual(electionOrder([]), []);
});

Deno.test("leaderOf returns the first candidate", () => {
  const order = [candidate(GUID_A, 1, SESSION_A), candidate(GUID_B, 2, SESSION_B)];
  assert.equal(leaderOf(order), order[0]);
});

Deno.test("leaderOf returns undefined when no one runs", () => {
  assert.equal(leaderOf([]), undefined);
});

// --- decide -------------------------------------------------------------------------------------

const ORDER = [
  candidate(GUID_A, 1, SESSION_A),
  candidate(GUID_B, 2, SESSION_B),
  candidate(GUID_C, 3, SESSION_C),
];

Deno.test("decide leads when our node is first and owned by our session", () => {
  assert.deepEqual(decide(ORDER, { node: ORDER[0].node, sessionId: SESSION_A }), {
    kind: "lead",
    self: ORDER[0],
  });
});

Deno.test("decide follows the node right before ours and names the first as leader", () => {
  assert.deepEqual(decide(ORDER, { node: ORDER[2].node, sessionId: SESSION_C }), {
    kind: "follow",
    self: ORDER[2],
    predecessor: ORDER[1],
    leader: ORDER[0],
  });
});

Deno.test("decide follows the leader itself when we are second", () => {
  assert.deepEqual(decide(ORDER, { node: ORDER[1].node, sessionId: SESSION_B }), {
    kind: "follow",
    self: ORDER[1],
    predecessor: ORDER[0],
    leader: ORDER[0],
  });
});

Deno.test("decide rejoins when our node is missing", () => {
  assert.deepEqual(
    decide(ORDER, { node: nodeName(GUID_A, 99), sessionId: SESSION_A }),
    { kind: "rejoin" },
  );
});

Deno.test("decide rejoins when the election is empty", () => {
  assert.deepEqual(decide([], { node: ORDER[0].node, sessionId: SESSION_A }), { kind: "rejoin" });
});

Deno.test("decide rejoins when our first node is owned by a different session", () => {
  assert.deepEqual(decide(ORDER, { node: ORDER[0].node, sessionId: 0x2001n }), {
    kind: "rejoin",
  });
});

Deno.test("decide rejoins when our following node is owned by a different session", () => {
  assert.deepEqual(decide(ORDER, { node: ORDER[2].node, sessionId: SESSION_A }), {
    kind: "rejoin",
  });
});
