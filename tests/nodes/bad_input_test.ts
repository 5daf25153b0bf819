/** Bad configuration and bad RPC arguments: clear errors, right status codes, nothing lost. */
import assert from "node:assert/strict";
import { callUnary, grpc } from "../../lib/grpc/grpc.ts";
import { waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";
import { spawnLab } from "../harness/process.ts";

for (
  const [script, variable, value, message] of [
    [
      "master.ts",
      "ZK_SESSION_TIMEOUT_MS",
      "abc",
      /"ZK_SESSION_TIMEOUT_MS" must be .*: current value is "abc"/,
    ],
    ["master.ts", "WORKER_ADDR", "nohost", /"WORKER_ADDR" must be "host:port"/],
    ["master.ts", "MASTER_PORT", "70000", /"MASTER_PORT" must be a port number/],
    ["master.ts", "STATUS_INTERVAL_MS", "-5", /"STATUS_INTERVAL_MS" must be/],
    ["worker.ts", "ZK_SERVERS", "a:1,,b:2", /"ZK_SERVERS" must be a comma-separated list/],
    [
      "worker.ts",
      "ELECTION_PATH",
      "election",
      /"ELECTION_PATH" must be an absolute ZooKeeper path/,
    ],
    ["worker.ts", "LOG_FORMAT", "xml", /"LOG_FORMAT" must be "text" or "json"/],
    ["worker.ts", "WORKER_PORT", "http", /"WORKER_PORT" must be a port number/],
  ] as const
) {
  Deno.test(`${script} exits 2 naming ${variable} when it is "${value}"`, async () => {
    const process = spawnLab(script, { name: script, env: { [variable]: value } });
    const status = await process.exited;
    assert.equal(status.code, 2);
    const output = process.lines.map((line) => line.text).join("\n");
    assert.match(output, message);
    assert.match(output, /^Cannot start (master|worker): /m);
  });
}

Deno.test("bad RPC arguments get INVALID_ARGUMENT or RESOURCE_EXHAUSTED and the servers keep serving", async () => {
  await using lab = await startLab({ masters: 1 });
  const { leader } = await lab.waitForSingleLeader();
  const leaderAddress = (await waitForEvent(leader, "Master serving")).record.address as string;
  const worker = lab.client(lab.workerAddress);
  const master = lab.client(leaderAddress);
  const cases: [string, Record<string, string>, grpc.status, RegExp][] = [
    [
      "empty task_id",
      { task_id: "", message: "x" },
      grpc.status.INVALID_ARGUMENT,
      /task_id must not be empty/,
    ],
    [
      "long task_id",
      { task_id: "t".repeat(257), message: "x" },
      grpc.status.INVALID_ARGUMENT,
      /at most 256/,
    ],
    [
      "control characters",
      { task_id: "a\nb", message: "x" },
      grpc.status.INVALID_ARGUMENT,
      /control/,
    ],
    [
      "empty message",
      { task_id: "1", message: "" },
      grpc.status.INVALID_ARGUMENT,
      /message must not be empty/,
    ],
    [
      "big message",
      { task_id: "1", message: "m".repeat(70_000) },
      grpc.status.INVALID_ARGUMENT,
      /at most 65536 bytes/,
    ],
    [
      "huge message",
      { task_id: "1", message: "m".repeat(5_000_000) },
      grpc.status.RESOURCE_EXHAUSTED,
      /./,
    ],
  ];
  for (const [client, method] of [[worker, "PerformTask"], [master, "SubmitTask"]] as const) {
    for (const [label, request, code, details] of cases) {
      await assert.rejects(
        callUnary(client, method, request, { timeoutMs: 5000 }),
        (error: grpc.ServiceError) => {
          assert.equal(error.code, code, `${method} ${label}: ${error.details}`);
          assert.match(error.details, details);
          return true;
        },
      );
    }
  }
  await assert.rejects(
    callUnary(master, "SubmitTask", { task_id: "leader_election", message: "x" }, {
      timeoutMs: 2000,
    }),
    (error: grpc.ServiceError) =>
      error.code === grpc.status.INVALID_ARGUMENT && /reserved/.test(error.details),
  );
  await assert.rejects(
    callUnary(master, "PerformTask", { task_id: "1", message: "x" }, { timeoutMs: 2000 }),
    (error: grpc.ServiceError) => error.code === grpc.status.UNIMPLEMENTED,
  );
  await assert.rejects(
    callUnary(worker, "SubmitTask", { task_id: "1", message: "x" }, { timeoutMs: 2000 }),
    (error: grpc.ServiceError) => error.code === grpc.status.UNIMPLEMENTED,
  );
  // Still serving, and a good submission goes through the leader to the worker.
  const reply = await callUnary(master, "SubmitTask", { task_id: "ok", message: "Hello" }, {
    timeoutMs: 3000,
  });
  assert.equal(reply.message, "Hello gatech");
  await waitForEvent(lab.worker!, "Performing task: ok");
});

Deno.test("SubmitTask on a follower fails with FAILED_PRECONDITION naming the leader", async () => {
  await using lab = await startLab({ masters: 2 });
  const { leader } = await lab.waitForSingleLeader();
  const follower = lab.masters.find((m) => m !== leader)!;
  const leaderAddress = (await waitForEvent(leader, "Master serving")).record.address as string;
  const followerAddress = (await waitForEvent(follower, "Master serving")).record.address as string;
  await assert.rejects(
    callUnary(lab.client(followerAddress), "SubmitTask", { task_id: "1", message: "x" }, {
      timeoutMs: 3000,
    }),
    (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.FAILED_PRECONDITION);
      assert.match(error.details, new RegExp(`the leader is ${leader.name} at ${leaderAddress}`));
      return true;
    },
  );
});
