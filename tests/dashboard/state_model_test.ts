/**
 * The dashboard's state model with plain records: roles come from the chain, the failover timeline
 * is drawn from the fault to the worker's acceptance in causal order whatever order the
 * observations arrive in, and the worker's refusals, tasks and epochs are kept.
 */
import assert from "node:assert/strict";
import {
  applyInput,
  type ChainNode,
  type DashboardInput,
  type DashboardState,
  initialState,
  MAX_EVENTS,
} from "../../lib/dashboard/state_model.ts";
import { parseLogLine } from "../../lib/dashboard/log_lines.ts";

const master1: ChainNode = {
  node: "master-00000000-0000-4000-8000-000000000001-0000000000",
  name: "master1",
  address: "127.0.0.1:50051",
  epoch: "4",
  owner: "0x1",
};
const master2: ChainNode = {
  node: "master-00000000-0000-4000-8000-000000000002-0000000001",
  name: "master2",
  address: "127.0.0.1:50052",
  epoch: "10",
  owner: "0x2",
};

function fold(inputs: DashboardInput[], from = initialState()): DashboardState {
  return inputs.reduce(applyInput, from);
}

function log(at: number, service: string, line: string): DashboardInput {
  return { type: "log", at, service, record: parseLogLine(`2026/12/01 10:00:00 ${line}`)! };
}

/** A lab with both masters in the election, master1 leading. */
function upLab(): DashboardState {
  return fold([
    {
      type: "lab",
      at: 0,
      up: true,
      backend: "local",
      message: "The local lab",
      electionPath: "/election",
      services: [
        { name: "zookeeper", kind: "zookeeper", address: "127.0.0.1:2181" },
        { name: "worker", kind: "worker", address: "127.0.0.1:7070" },
        { name: "master1", kind: "master", address: "127.0.0.1:50051" },
        { name: "master2", kind: "master", address: "127.0.0.1:50052" },
      ],
    },
    { type: "zookeeper", at: 1, connected: true, message: "Connected" },
    { type: "election", at: 2, chain: [master1, master2], ignored: [] },
  ]);
}

function service(state: DashboardState, name: string) {
  return state.services.find((s) => s.name === name)!;
}

Deno.test("applyInput takes each master's role and epoch from the chain, leader first", () => {
  const state = upLab();
  assert.equal(service(state, "master1").role, "leader");
  assert.equal(service(state, "master1").epoch, "4");
  assert.equal(service(state, "master2").role, "follower");
  const without = applyInput(state, { type: "election", at: 3, chain: [master2], ignored: [] });
  assert.equal(service(without, "master2").role, "leader");
  assert.equal(service(without, "master1").role, "none");
  assert.equal(service(without, "master1").reason, "not in the election");
});

Deno.test("applyInput gives the reason a master is out of the election: stopped, or its own log's", () => {
  let state = applyInput(
    upLab(),
    log(3, "master1", 'I am no longer the leader reason="lease lost"'),
  );
  state = applyInput(state, { type: "election", at: 4, chain: [master2], ignored: [] });
  assert.equal(service(state, "master1").reason, "lease lost");
  state = applyInput(state, { type: "probe", at: 5, service: "master1", process: "stopped" });
  assert.equal(service(state, "master1").reason, "stopped");
});

Deno.test("applyInput returns the same state for an observation that changes nothing", () => {
  const state = upLab();
  assert.equal(
    applyInput(state, { type: "election", at: 9, chain: [master1, master2], ignored: [] }),
    state,
  );
  assert.equal(applyInput(state, log(9, "master1", "I am the leader")), state, "status lines");
});

Deno.test("applyInput draws a stop of the leader from the fault to the worker's acceptance, in order", () => {
  const state = fold([
    { type: "action", at: 1000, service: "master1", action: "stop", outcome: "sent" },
    { type: "node-gone", at: 1003, node: master1.node },
    { type: "election", at: 1004, chain: [master2], ignored: [] },
    log(1006, "master2", `I am the leader epoch=10 node=${master2.node}`),
    log(1009, "worker", "Accepted a new leader epoch epoch=10 previous=4"),
  ], upLab());
  const failover = state.failover!;
  assert.deepEqual(failover.steps.map((s) => [s.kind, s.offsetMs]), [
    ["fault", 0],
    ["gone", 3],
    ["first", 4],
    ["leading", 6],
    ["accepted", 9],
  ]);
  assert.equal(failover.steps[0].label, "stop (SIGTERM) sent to master1");
  assert.equal(failover.steps[4].label, "the worker accepted master2's epoch 10");
  assert.equal(failover.totalMs, 9);
  assert.deepEqual(state.history.map((h) => [h.from, h.to, h.totalMs, h.cause]), [
    ["master1", "master2", 9, "stop"],
  ]);
});

Deno.test("applyInput keeps the causal order when logs are read before ZooKeeper's answer", () => {
  const state = fold([
    { type: "action", at: 1000, service: "master1", action: "kill", outcome: "sent" },
    // The worker's and the new leader's lines were read first, ZooKeeper's read came after.
    log(1010, "worker", "Accepted a new leader epoch epoch=10 previous=4"),
    log(1012, "master2", `I am the leader epoch=10 node=${master2.node}`),
    { type: "election", at: 1015, chain: [master2], ignored: [] },
  ], upLab());
  const steps = state.failover!.steps;
  assert.deepEqual(steps.map((s) => s.kind), ["fault", "gone", "first", "leading", "accepted"]);
  // A later step proves the earlier ones had happened by then: none is drawn after its successor.
  assert.deepEqual(steps.map((s) => s.offsetMs), [0, 10, 10, 10, 10]);
  assert.equal(state.failover!.totalMs, 10);
});

Deno.test("applyInput adds the new leader's own line to a failover already complete", () => {
  const state = fold([
    { type: "action", at: 1000, service: "master1", action: "stop", outcome: "sent" },
    { type: "election", at: 1004, chain: [master2], ignored: [] },
    log(1009, "worker", "Accepted a new leader epoch epoch=10 previous=4"),
    log(1030, "master2", `I am the leader epoch=10 node=${master2.node}`),
  ], upLab());
  assert.deepEqual(state.failover!.steps.map((s) => [s.kind, s.offsetMs]), [
    ["fault", 0],
    ["gone", 4],
    ["first", 4],
    ["leading", 9],
    ["accepted", 9],
  ]);
  assert.equal(state.history.length, 1, "counted once");
});

Deno.test("applyInput starts a failover at the node's deletion when no fault was sent from the page", () => {
  const state = fold([
    { type: "node-gone", at: 5000, node: master1.node },
    { type: "election", at: 5001, chain: [master2], ignored: [] },
  ], upLab());
  assert.equal(state.failover!.cause, "node gone");
  assert.deepEqual(state.failover!.steps.map((s) => [s.kind, s.offsetMs]), [["gone", 0], [
    "first",
    1,
  ]]);
  assert.equal(state.failover!.totalMs, undefined, "under way until the worker accepts");
});

Deno.test("applyInput ignores faults sent to a follower for the timeline", () => {
  const state = applyInput(upLab(), {
    type: "action",
    at: 10,
    service: "master2",
    action: "kill",
    outcome: "sent",
  });
  assert.equal(state.failover, undefined);
  assert.equal(state.events[0].text, "kill master2: sent");
});

Deno.test("applyInput keeps the worker's accepted epoch, recent tasks and refusals", () => {
  const state = fold([
    log(10, "worker", "Accepted a new leader epoch epoch=4 previous=0"),
    log(11, "worker", "Performing task: leader_election"),
    log(12, "worker", "Performing task: abc-1"),
    log(
      13,
      "worker",
      'WARN: Refused a task from a stale leader task=abc-2 reason="epoch 3 is stale"',
    ),
  ], upLab());
  const worker = service(state, "worker");
  assert.equal(worker.acceptedEpoch, "4");
  assert.deepEqual(worker.tasks!.map((t) => t.id), ["abc-1", "leader_election"]);
  assert.deepEqual(worker.refusals, [{ at: 13, text: "refused task abc-2: epoch 3 is stale" }]);
  assert.equal(state.events[0].level, "error");
});

Deno.test("applyInput notes ZooKeeper going down and back, and keeps at most MAX_EVENTS events", () => {
  let state = applyInput(upLab(), {
    type: "zookeeper",
    at: 20,
    connected: false,
    message: "ZooKeeper is down: no answer from 127.0.0.1:2181",
  });
  assert.equal(state.zookeeper.connected, false);
  assert.equal(service(state, "master1").role, "leader", "the last chain seen stays");
  state = applyInput(state, { type: "zookeeper", at: 21, connected: true, message: "Connected" });
  assert.equal(state.zookeeper.connected, true);
  for (let i = 0; i < MAX_EVENTS + 10; i++) {
    state = applyInput(state, log(100 + i, "master2", `Joined the election node=n${i}`));
  }
  assert.equal(state.events.length, MAX_EVENTS);
  assert.equal(state.events[0].at, 100 + MAX_EVENTS + 9, "newest first");
});

Deno.test("applyInput shows junk under the election path as ignored", () => {
  const state = applyInput(upLab(), {
    type: "election",
    at: 3,
    chain: [master1, master2],
    ignored: ["junk-1"],
  });
  assert.deepEqual(state.ignored, ["junk-1"]);
  assert.equal(service(state, "master1").role, "leader");
});

Deno.test("applyInput forgets the chain when the lab goes down", () => {
  const state = applyInput(upLab(), {
    type: "lab",
    at: 30,
    up: false,
    message: "No lab is up",
    services: [],
  });
  assert.deepEqual([state.lab.up, state.chain, state.services], [false, [], []]);
});
