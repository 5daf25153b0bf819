/**
 * Regression tests for Deno's HTTP/2 GOAWAY crash (denoland/deno#36788): on Deno 2.9.4-2.9.6 a
 * process that receives a GOAWAY on a connection that carried more than ~100 gRPC calls aborts.
 * Each test pushes thousands of calls through one connection, stops one side cleanly, and checks
 * that the other side lives and serves; each runs over plaintext and again over mutual TLS (the
 * TLS stack sits under the same HTTP/2 session code).
 */
import assert from "node:assert/strict";
import {
  callUnary,
  checkHealth,
  createMapReduceClient,
  type MapReduceClient,
} from "../../lib/grpc/grpc.ts";
import { waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";
import type { LabProcess } from "../harness/process.ts";
import { delay } from "../../lib/common/backoff.ts";
import { makeTestCertificates } from "../tls/certificates.ts";

const CALLS = 3000;

/**
 * Asserts that `process` is still running `ms` after a GOAWAY reached it: the crash this guards
 * against aborts the process within milliseconds of the frame.
 */
async function assertLivesOn(process: LabProcess, ms = 300): Promise<void> {
  const timer = new AbortController();
  const exited = await Promise.race([
    process.exited.then(() => true),
    delay(ms, { signal: timer.signal }).then(() => false, () => true),
  ]);
  timer.abort();
  assert.equal(exited, false, `${process.name} died after receiving a GOAWAY`);
}

async function hammer(
  client: MapReduceClient,
  method: "SubmitTask" | "PerformTask",
  calls = CALLS,
) {
  let next = 0;
  const lane = async () => {
    while (next < calls) {
      const id = next++;
      const reply = await callUnary(client, method, { task_id: `load-${id}`, message: "m" }, {
        timeoutMs: 5000,
      });
      assert.equal(reply.message, "m gatech");
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
}

/** Runs every test over plaintext, then over mutual TLS with certificates made for this module. */
for (const transport of ["plaintext", "mutual TLS"] as const) {
  const suffix = transport === "plaintext" ? "" : " (over mutual TLS)";
  const certificates = () => transport === "plaintext" ? undefined : makeTestCertificates();
  // The lab's default session timeout: thousands of calls (TLS ones cost more CPU) on a loaded
  // machine must not cost the leader its session, which is not what these tests are about.
  const sessionTimeoutMs = 4000;
  // The leader's forwarded calls must each be a call of their own on its connection to the
  // worker: on the link (grpc/worker_link.ts) they would be messages of one call.
  const oneCallEach = { WORKER_LINK: "off" };

  Deno.test(`the worker and the leader live when the test client closes after thousands of calls${suffix}`, async () => {
    await using certs = await certificates();
    await using lab = await startLab({
      masters: 1,
      certificatesDir: certs?.dir,
      sessionTimeoutMs,
    });
    const { leader } = await lab.waitForSingleLeader();
    const address = (await waitForEvent(leader, "Master serving")).record.address as string;
    for (const target of [lab.workerAddress, address]) {
      const client = createMapReduceClient(target, lab.clientTls);
      await hammer(client, target === address ? "SubmitTask" : "PerformTask");
      client.close(); // sends GOAWAY to the server side
    }
    await Promise.all([assertLivesOn(lab.worker!), assertLivesOn(leader)]);
    const tls = lab.clientTls;
    assert.equal(await checkHealth(lab.workerAddress, { timeoutMs: 2000, tls }), "SERVING");
    assert.equal(await checkHealth(address, { timeoutMs: 2000, tls }), "SERVING");
  });

  Deno.test(`the worker lives when the leader stops cleanly after forwarding thousands of calls${suffix}`, async () => {
    await using certs = await certificates();
    await using lab = await startLab({
      masters: 1,
      certificatesDir: certs?.dir,
      sessionTimeoutMs,
      env: oneCallEach,
    });
    const { leader } = await lab.waitForSingleLeader();
    const address = (await waitForEvent(leader, "Master serving")).record.address as string;
    const client = lab.client(address);
    await hammer(client, "SubmitTask");
    leader.signal("SIGTERM"); // its channel to the worker closes: GOAWAY to the worker
    assert.equal((await leader.exited).code, 0);
    await assertLivesOn(lab.worker!);
    const reply = await lab.performTask({ task_id: "after", message: "still here" });
    assert.equal(reply.message, "still here gatech");
  });

  Deno.test(`the leader lives when the worker stops cleanly after thousands of calls${suffix}`, async () => {
    await using certs = await certificates();
    await using lab = await startLab({
      masters: 1,
      certificatesDir: certs?.dir,
      sessionTimeoutMs,
      env: oneCallEach,
    });
    const { leader } = await lab.waitForSingleLeader();
    const address = (await waitForEvent(leader, "Master serving")).record.address as string;
    const client = lab.client(address);
    await hammer(client, "SubmitTask");
    lab.worker!.signal("SIGTERM"); // the worker's shutdown sends GOAWAY to the leader's channel
    assert.equal((await lab.worker!.exited).code, 0);
    await assertLivesOn(leader);
    assert.equal(await checkHealth(address, { timeoutMs: 2000, tls: lab.clientTls }), "SERVING");
    await lab.startWorker();
    const reply = await callUnary(client, "SubmitTask", { task_id: "again", message: "back" }, {
      timeoutMs: 5000,
    });
    assert.equal(reply.message, "back gatech");
  });
}
