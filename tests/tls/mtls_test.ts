/**
 * Mutual TLS end to end, with real processes and certificates the test makes: the walkthrough
 * works (election, RPC check, submit, failover); strangers are refused before anything is
 * performed; a worker and masters that disagree about TLS say so in their logs and keep running.
 */
import assert from "node:assert/strict";
import { callUnary, createMapReduceClient, grpc, hasCode } from "../../lib/grpc/grpc.ts";
import type { TlsCredentials } from "../../lib/grpc/grpc.ts";
import { runSubmit } from "../../lib/lab/commands/submit.ts";
import { rpcCheck } from "../../lib/lab/commands/rpc.ts";
import { eventsOf, waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";
import { startZooKeeper } from "../harness/zookeeper.ts";
import { makeTestCertificates } from "./certificates.ts";

const PLAINTEXT = { TLS_CA: "", TLS_CERT: "", TLS_KEY: "", WORKER_PLAIN_CLIENTS: "" };

/** The worker's `Performing task: <id>` lines for `id`. */
function performed(lines: { text: string }[], id: string): number {
  return lines.filter((line) => line.text.includes(`Performing task: ${id}"`)).length;
}

/** Calls PerformTask with `tls` (undefined: plaintext); resolves with the gRPC error. */
async function refusedCall(
  address: string,
  tls: TlsCredentials | undefined,
  taskId: string,
  epoch = "0",
): Promise<grpc.ServiceError> {
  const client = createMapReduceClient(address, tls);
  try {
    await callUnary(client, "PerformTask", { task_id: taskId, message: "m", epoch }, {
      timeoutMs: 3000,
    });
    assert.fail(`the call ${taskId} was served`);
  } catch (error) {
    return error as grpc.ServiceError;
  } finally {
    client.close();
  }
}

Deno.test("the walkthrough works over mutual TLS: election, rpc, submit, failover", async () => {
  await using certs = await makeTestCertificates();
  await using lab = await startLab({ certificatesDir: certs.dir });
  for (const process of [lab.worker!, ...lab.masters]) {
    await process.waitForLine("Mutual TLS is on");
  }
  const { leader } = await lab.waitForSingleLeader();
  // The walkthrough's RPC check, with the CLI's certificate.
  assert.equal(await rpcCheck(lab.workerAddress, { timeoutMs: 3000, tls: lab.clientTls }), 0);
  await waitForEvent(lab.worker!, "Performing task: 1");
  const env = { ZK_SERVERS: lab.zk.connectString, ELECTION_PATH: lab.electionPath };
  assert.equal(await runSubmit(["over", "tls", "--count", "2"], env, undefined, lab.clientTls), 0);
  // Failover: the follower takes over, and the worker accepts it over its own TLS channel.
  leader.signal("SIGTERM");
  assert.equal((await leader.exited).code, 0);
  const { leader: next } = await lab.waitForSingleLeader(15_000);
  assert.notEqual(next, leader);
  assert.equal(await runSubmit(["after", "failover"], env, undefined, lab.clientTls), 0);
  const tasks = lab.worker!.count("Performing task:");
  assert.ok(tasks >= 6, `the worker performed ${tasks} tasks`); // 2 announcements, rpc, 3 submits
});

Deno.test("strangers are refused in the handshake and nothing is performed", async () => {
  await using certs = await makeTestCertificates();
  await using lab = await startLab({ certificatesDir: certs.dir, masters: 1 });
  const { leader } = await lab.waitForSingleLeader();
  const leaderAddress = (await waitForEvent(leader, "Master serving")).record.address as string;
  const noCertificate = { ...certs.material(certs.dir, "cli"), cert: undefined, key: undefined };
  const strangers: [string, TlsCredentials | undefined][] = [
    ["plaintext", undefined],
    ["another-ca", certs.material(certs.otherDir, "cli", certs.dir)],
    ["expired", certs.material(certs.oddDir, "expired", certs.dir)],
  ];
  for (const [id, tls] of strangers) {
    for (const address of [lab.workerAddress, leaderAddress]) {
      const error = await refusedCall(address, tls, `stranger-${id}`);
      assert.equal(error.code, grpc.status.UNAVAILABLE, `${id} at ${address}: ${error.details}`);
    }
  }
  // No certificate at all: grpc-js wants key and cert together, so a bare TLS client.
  const MapReduce = Object.getPrototypeOf(createMapReduceClient(lab.workerAddress)).constructor;
  const bare = new MapReduce(
    `localhost:${lab.workerPort}`,
    grpc.credentials.createSsl(noCertificate.ca),
  );
  const bareError = await new Promise<grpc.ServiceError>((resolve) =>
    bare.PerformTask(
      { task_id: "stranger-no-certificate", message: "m" },
      { deadline: Date.now() + 3000 },
      (error: grpc.ServiceError | null) => resolve(error!),
    )
  );
  bare.close();
  assert.equal(bareError.code, grpc.status.UNAVAILABLE, bareError.details);
  // A master's certificate without an epoch: refused by WORKER_PLAIN_CLIENTS, not performed.
  const master = await refusedCall(
    lab.workerAddress,
    certs.material(certs.dir, "master2"),
    "stranger-master-cert",
  );
  assert.ok(hasCode(master, grpc.status.PERMISSION_DENIED), master.details);
  // The worker says why it refused, and performed none of them.
  await lab.worker!.waitForLine("Refused a task without an epoch");
  const refusals = eventsOf(lab.worker!, "Refused a connection in the TLS handshake")
    .map((event) => String(event.record.reason));
  for (const reason of [/wrong version number/, /peer sent no certificates/]) {
    assert.ok(refusals.some((r) => reason.test(r)), `no refusal ${reason}: ${refusals}`);
  }
  for (const id of ["plaintext", "another-ca", "expired", "no-certificate", "master-cert"]) {
    assert.equal(performed(lab.worker!.lines, `stranger-${id}`), 0, id);
  }
  // The lab's own client still gets through.
  const reply = await lab.performTask({ task_id: "friend", message: "Hello, worker!" });
  assert.equal(reply.message, "Hello, worker! gatech");
});

Deno.test("a TLS worker and plaintext masters (and the reverse) log why and keep running", async () => {
  await using certs = await makeTestCertificates();
  const zk = await startZooKeeper();
  try {
    for (const workerTls of [true, false]) {
      await using lab = await startLab({
        zk,
        certificatesDir: certs.dir,
        masters: 0,
        worker: false,
      });
      await lab.startWorker(workerTls ? {} : PLAINTEXT);
      const master = await lab.startMaster("master1", workerTls ? PLAINTEXT : {});
      const hint = workerTls ? /may require mutual TLS/ : /speaks plaintext/;
      const warning = await master.waitForLine(
        (line) => line.includes("Cannot reach the worker") && hint.test(line),
        { timeoutMs: 15_000 },
      );
      assert.match(warning.text, /"hint"/);
      if (workerTls) {
        await lab.worker!.waitForLine("Refused a connection in the TLS handshake");
      }
      assert.equal(lab.worker!.count("Performing task:"), 0);
      assert.equal(lab.worker!.hasExited, false);
      assert.equal(master.hasExited, false);
    }
  } finally {
    await zk.close();
  }
});

Deno.test("a worker with half of its TLS settings exits 2 naming the missing variable", async () => {
  await using certs = await makeTestCertificates();
  await using lab = await startLab({ masters: 0, worker: false });
  const worker = lab.startWorker({ TLS_CA: `${certs.dir}/ca.crt` });
  await assert.rejects(worker, /exited/);
  assert.equal((await lab.worker!.exited).code, 2);
  assert.ok(lab.worker!.count('"TLS_CERT" must be set too') === 1, lab.worker!.lines.join("\n"));
});
