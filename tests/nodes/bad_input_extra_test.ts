/**
 * Bad input that bad_input_test.ts does not cover: garbage on the gRPC port, clients that connect
 * and never speak, hundreds of clients at once, messages over the receive limit, unknown methods,
 * and junk that another program writes into the election while the masters run. Whatever comes
 * in, the worker and the masters keep serving and nobody follows a junk leader.
 */
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
// @ts-types="@types/node-zookeeper-client"
import zookeeper from "node-zookeeper-client";
import { Buffer } from "node:buffer";
import { delay } from "../../lib/common/backoff.ts";
import { callUnary, type MapReduceClient, PROTO_LOADER_OPTIONS } from "../../lib/grpc/grpc.ts";
import { RETRIED_CODES } from "../../lib/tasks/protocol.ts";
import { connectZk } from "../../lib/zookeeper/client.ts";
import { eventsOf, lastRole, waitForEvent } from "../harness/events.ts";
import { type Lab, startLab } from "../harness/lab.ts";
import type { LabProcess } from "../harness/process.ts";

const encoder = new TextEncoder();
const PREFACE = encoder.encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** The lab's service with channel options of our own (the lib's clients share one connection). */
const MapReduceService = (grpc.loadPackageDefinition(
  protoLoader.loadSync(
    new URL("../../proto/mapreduce.proto", import.meta.url).pathname,
    PROTO_LOADER_OPTIONS,
  ),
).rpc_gen as grpc.GrpcObject).MapReduceService as grpc.ServiceClientConstructor;

/** A client on a connection of its own, not shared with any other client in this process. */
function ownConnectionClient(address: string): MapReduceClient {
  return new MapReduceService(address, grpc.credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
  }) as unknown as MapReduceClient;
}

/** The leader's and the worker's addresses, with the method each serves. */
async function targets(lab: Lab, leader: LabProcess) {
  const leaderAddress = (await waitForEvent(leader, "Master serving")).record.address as string;
  return [
    { name: "worker", address: lab.workerAddress, method: "PerformTask" as const },
    { name: "leader", address: leaderAddress, method: "SubmitTask" as const },
  ];
}

/** Sends `bytes` on a new connection; resolves true if the server closes it within `ms`. */
async function serverCloses(port: number, bytes: Uint8Array, ms: number): Promise<boolean> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.close();
  }, ms);
  try {
    await conn.write(bytes).catch(() => {}); // the server may close before reading it all
    const buffer = new Uint8Array(4096);
    while (await conn.read(buffer) !== null) { /* drain what the server says before closing */ }
    return true;
  } catch {
    return !timedOut; // a reset is a close too
  } finally {
    clearTimeout(timer);
    if (!timedOut) conn.close();
  }
}

function assertAlive(...processes: LabProcess[]): void {
  for (const process of processes) assert.equal(process.hasExited, false, `${process.name} exited`);
}

Deno.test("garbage bytes on the gRPC port are dropped and the servers keep serving", async () => {
  await using lab = await startLab({ masters: 1 });
  const { leader } = await lab.waitForSingleLeader();
  const garbage = {
    "random bytes": crypto.getRandomValues(new Uint8Array(4096)),
    "an HTTP/1.1 request": encoder.encode("GET / HTTP/1.1\r\nHost: lab\r\n\r\n"),
    "the HTTP/2 preface and random frames": new Uint8Array([
      ...PREFACE,
      ...crypto.getRandomValues(new Uint8Array(512)),
    ]),
    "a HEADERS frame with broken HPACK": new Uint8Array([
      ...PREFACE,
      ...[0, 0, 0, 4, 0, 0, 0, 0, 0], // empty SETTINGS
      ...[0, 0, 50, 1, 4, 0, 0, 0, 1], // HEADERS, 50 bytes, END_HEADERS, stream 1
      ...crypto.getRandomValues(new Uint8Array(50)),
    ]),
  };
  for (const { name, address, method } of await targets(lab, leader)) {
    const port = Number(address.split(":").at(-1));
    for (const [what, bytes] of Object.entries(garbage)) {
      assert.ok(
        await serverCloses(port, bytes, 5000),
        `the ${name} kept a connection with ${what}`,
      );
    }
    const client = lab.client(address);
    const reply = await callUnary(client, method, {
      task_id: `after-garbage-${name}`,
      message: "m",
    }, {
      timeoutMs: 5000,
    });
    assert.equal(reply.message, "m gatech");
  }
  assertAlive(lab.worker!, leader);
});

Deno.test("clients that connect and never send, or stop mid-handshake, do not block others", async () => {
  await using lab = await startLab({ masters: 1 });
  const { leader } = await lab.waitForSingleLeader();
  const silent: Deno.TcpConn[] = [];
  try {
    for (const { name, address, method } of await targets(lab, leader)) {
      const port = Number(address.split(":").at(-1));
      for (let i = 0; i < 100; i++) {
        silent.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      }
      for (let i = 0; i < 20; i++) {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        silent.push(conn);
        await conn.write(PREFACE.subarray(0, 16)); // half the preface, then nothing
      }
      const client = ownConnectionClient(address);
      try {
        for (let i = 0; i < 20; i++) {
          const reply = await callUnary(client, method, { task_id: `${name}-${i}`, message: "m" }, {
            timeoutMs: 5000,
          });
          assert.equal(reply.message, "m gatech");
        }
      } finally {
        client.close();
      }
    }
  } finally {
    for (const conn of silent) conn.close();
  }
  assertAlive(lab.worker!, leader);
});

/**
 * Calls `method` until it answers, retrying with the same task id on the codes a client is told to
 * retry (tasks/protocol.ts), as the lab's own submitter does, at most 3 calls in all: a server
 * that refuses connections under load still fails the test. Anything else is thrown.
 */
async function callUntilAnswered(
  client: MapReduceClient,
  method: "PerformTask" | "SubmitTask",
  request: { task_id: string; message: string },
  deadlineMs: number,
): Promise<string> {
  const deadline = Date.now() + deadlineMs;
  for (let attempts = 1;; attempts++) {
    try {
      const reply = await callUnary(client, method, request, {
        timeoutMs: Math.max(1, deadline - Date.now()),
      });
      return reply.message;
    } catch (error) {
      const code = (error as grpc.ServiceError).code;
      if (!RETRIED_CODES.has(code) || attempts === 3 || Date.now() + 100 >= deadline) throw error;
      await delay(100); // the backoff between retries, as a client's
    }
  }
}

Deno.test("hundreds of concurrent clients, each on its own connection, all get their answer", async () => {
  // Opening 300 connections at once keeps a process busy for a while; on a loaded machine the
  // leader can miss ZooKeeper's heartbeats past its lease and stop leading for a moment, which
  // is right (tests/zookeeper/lease_test.ts). This test is about connections, so the session is
  // longer than the harness's 1 s, and a client retries what the protocol says to retry.
  await using lab = await startLab({ masters: 1, sessionTimeoutMs: 4000 });
  const { leader } = await lab.waitForSingleLeader();
  for (const { name, address, method } of await targets(lab, leader)) {
    const clients = Array.from({ length: 300 }, () => ownConnectionClient(address));
    try {
      const replies = await Promise.all(
        clients.map((client, i) =>
          callUntilAnswered(
            client,
            method,
            { task_id: `${name}-many-${i}`, message: `m${i}` },
            20_000,
          )
        ),
      );
      assert.deepEqual(
        replies,
        clients.map((_, i) => `m${i} gatech`),
      );
    } finally {
      for (const client of clients) client.close();
    }
  }
  assertAlive(lab.worker!, leader);
});

Deno.test("messages over the 4 MiB receive limit get RESOURCE_EXHAUSTED and the channel keeps working", async () => {
  await using lab = await startLab({ masters: 1 });
  const { leader } = await lab.waitForSingleLeader();
  const huge = "x".repeat(5 * 1024 * 1024);
  for (const { name, address, method } of await targets(lab, leader)) {
    const client = lab.client(address);
    for (const request of [{ task_id: huge, message: "m" }, { task_id: "big", message: huge }]) {
      await assert.rejects(
        callUnary(client, method, request, { timeoutMs: 10_000 }),
        (error: grpc.ServiceError) => {
          assert.equal(error.code, grpc.status.RESOURCE_EXHAUSTED, `${name}: ${error.details}`);
          return true;
        },
      );
    }
    const reply = await callUnary(client, method, { task_id: `${name}-after`, message: "m" }, {
      timeoutMs: 5000,
    });
    assert.equal(reply.message, "m gatech");
  }
  assertAlive(lab.worker!, leader);
});

Deno.test("unknown methods and services get UNIMPLEMENTED and the servers keep serving", async () => {
  await using lab = await startLab({ masters: 1 });
  const { leader } = await lab.waitForSingleLeader();
  for (const { name, address, method } of await targets(lab, leader)) {
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      const call = (path: string) =>
        new Promise<grpc.ServiceError | null>((resolve) =>
          client.makeUnaryRequest(
            path,
            (bytes: Buffer) => bytes,
            (bytes: Buffer) => bytes,
            Buffer.from([1, 2, 3]),
            { deadline: Date.now() + 5000 },
            (error) => resolve(error),
          )
        );
      for (
        const path of [
          "/rpc_gen.MapReduceService/DeleteEverything",
          "/rpc_gen.MapReduceService/",
          "/rpc_gen.Nothing/PerformTask",
          "/grpc.health.v1.Health/Delete",
        ]
      ) {
        const error = await call(path);
        assert.equal(error?.code, grpc.status.UNIMPLEMENTED, `${name} ${path}: ${error?.details}`);
      }
      // Not even a valid HTTP/2 path: the stream is reset, the connection and server live on.
      assert.notEqual(await call("/not a path"), null);
    } finally {
      client.close();
    }
    const reply = await callUnary(lab.client(address), method, {
      task_id: `${name}-ok`,
      message: "m",
    }, {
      timeoutMs: 5000,
    });
    assert.equal(reply.message, "m gatech");
  }
  assertAlive(lab.worker!, leader);
});

/** Overwrites a node's data with a raw client (the adapter has no setData: masters never need it). */
async function setData(connectString: string, path: string, data: Uint8Array): Promise<void> {
  const client = zookeeper.createClient(connectString, { sessionTimeout: 4000, retries: 0 });
  await new Promise<void>((resolve) => {
    client.once("connected", () => resolve());
    client.connect();
  });
  try {
    await new Promise<void>((resolve, reject) =>
      client.setData(path, Buffer.from(data), -1, (error) => error ? reject(error) : resolve())
    );
  } finally {
    client.close();
  }
}

Deno.test("junk written into the election while masters run is ignored, never followed", async () => {
  await using lab = await startLab({ masters: 2 });
  const first = await lab.waitForSingleLeader();
  const junk = await connectZk({
    servers: [lab.zk.connectString],
    sessionTimeoutMs: 4000,
    connectTimeoutMs: 5000,
  });
  const masterNames = new Set(["master1", "master2", "master3"]);
  try {
    const path = (name: string) => `${lab.electionPath}/${name}`;
    const named = (sequence: number) =>
      path(`master-${crypto.randomUUID()}-${String(sequence).padStart(10, "0")}`);
    const bytes = (text: string) => encoder.encode(text);
    // Lower sequences than any master's: each would lead if it counted.
    await junk.create(named(0), bytes('{"name":"ghost","address":"127.0.0.1:1"}'), "persistent");
    await junk.create(named(0), crypto.getRandomValues(new Uint8Array(300)), "ephemeral");
    await junk.create(named(0), bytes('{"name":"ghost","address":"no-port"}'), "ephemeral");
    await junk.create(named(0), bytes("[1,2,3]"), "ephemeral");
    await junk.create(named(0), new Uint8Array(100_000), "ephemeral");
    await junk.create(named(0), new Uint8Array(0), "ephemeral");
    await junk.create(path("lock-"), bytes("not a master"), "ephemeral-sequential");
    await junk.create(path("master-"), bytes("{}"), "ephemeral-sequential");
    await junk.create(path("junk-dir"), bytes(""), "persistent");
    await junk.create(path("junk-dir/child"), bytes("x"), "persistent");

    // The worker re-reads the election on every change and still accepts only the leader.
    const submit = (leaderProcess: LabProcess, id: string) =>
      targets(lab, leaderProcess).then(([, { address }]) =>
        callUnary(lab.client(address), "SubmitTask", { task_id: id, message: "m" }, {
          timeoutMs: 5000,
        })
      );
    assert.equal((await submit(first.leader, "with-junk")).message, "m gatech");

    // A failover makes the survivor read the junk: it must lead itself, not follow a ghost.
    first.leader.signal("SIGKILL");
    await first.leader.exited;
    const second = await lab.waitForSingleLeader(15_000);
    assert.notEqual(second.leader, first.leader);
    await lab.startMaster("master3");
    await waitForEvent(lab.masters[2], "I am the follower", {
      where: (record) => record.leader === second.leader.name,
    });
    assert.equal((await submit(second.leader, "after-failover")).message, "m gatech");

    // Junk over the leader's own node: it no longer names a master, so its owner steps down.
    const node = eventsOf(second.leader, "I am the leader")
      .filter((event) => event.record.node !== undefined).at(-1)!.record.node as string;
    const mark = second.leader.lines.length;
    await setData(lab.zk.connectString, path(node), bytes("\u0000junk"));
    await waitForEvent(second.leader, "I am no longer the leader", { from: mark });
    const third = await lab.waitForSingleLeader(15_000);
    assert.ok(third.epoch > second.epoch);
    assert.equal((await submit(third.leader, "after-overwrite")).message, "m gatech");
  } finally {
    await junk.close();
  }
  for (const master of lab.masters) {
    for (const event of eventsOf(master, "I am the follower")) {
      if (event.record.leader !== undefined) {
        assert.ok(masterNames.has(String(event.record.leader)));
      }
    }
  }
  const announced = new Set(
    lab.masters.flatMap((master) => eventsOf(master, "I am the leader"))
      .flatMap((event) => event.record.epoch === undefined ? [] : [String(event.record.epoch)]),
  );
  for (const accepted of eventsOf(lab.worker!, "Accepted a new leader epoch")) {
    assert.ok(announced.has(String(accepted.record.epoch)), `accepted ${accepted.record.epoch}`);
  }
  assertAlive(lab.worker!, ...lab.masters.filter((master) => master !== first.leader));
  assert.equal(lab.leaders().filter((master) => !master.hasExited).length, 1);
  assert.equal(lastRole(first.leader), "leader"); // its last word before the SIGKILL
});
