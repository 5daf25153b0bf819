/**
 * `deno task certs` and `deno task up --tls` on the local backend, run as a newcomer would: every
 * service serves mutual TLS with its own certificate, and rpc, status, submit and failover present
 * the lab's `cli` certificate; a plaintext call is refused; bad TLS settings for the CLI exit 2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { certificateEnv } from "../../lib/lab/certificates.ts";
import { rpcCheck } from "../../lib/lab/commands/rpc.ts";
import { isAlive, LocalLab } from "../harness/local_lab.ts";

Deno.test("deno task up --tls runs the walkthrough over mutual TLS on the local backend", async () => {
  const lab = new LocalLab();
  let pids: number[] = [];
  try {
    const certs = await lab.ok("certs");
    assert.match(certs, /certificates for worker, master1, master2, cli/);
    for (const name of ["ca", "worker", "master1", "master2", "cli"]) {
      assert.ok(Deno.statSync(join(lab.stateDir, "certs", `${name}.crt`)).isFile, name);
    }
    assert.equal(Deno.statSync(join(lab.stateDir, "certs", "ca.key")).mode! & 0o077, 0);

    const up = await lab.ok("up", "--tls", "--backend", "local");
    assert.match(up, /mutual TLS on every gRPC connection/);
    pids = lab.pids();
    for (const service of ["worker", "master1", "master2"]) {
      // master2 may still be starting when up returns (it waits for master1's leadership only).
      await lab.waitForLog(
        service,
        new RegExp(`Mutual TLS is on: .* this process is "${service}"`),
      );
    }
    assert.match(await lab.ok("rpc"), /We got: Hello, worker! gatech$/m);
    // Each probe has a 1 s deadline, which a loaded machine may miss (a TLS handshake costs more):
    // ask again until every gRPC service answers, within a deadline.
    const serving = (status: string) =>
      ["worker", "master1", "master2"].every((service) =>
        new RegExp(`│ ${service} +│ [^│]+│ grpc health │ ok: SERVING`).test(status)
      );
    let status = "";
    for (const deadline = Date.now() + 30_000; !serving(status) && Date.now() < deadline;) {
      status = (await lab.task("status")).stdout;
    }
    assert.match(status, /gRPC: mutual TLS/);
    assert.ok(serving(status), status);
    assert.match(await lab.ok("submit", "secured"), /Task \S+: secured gatech/);
    assert.match(await lab.ok("failover"), /rejoined as a follower/);

    // The containers' health probe, with the worker's own certificate as Compose gives it.
    const probe = (env: Record<string, string>) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "healthcheck.ts"],
        cwd: new URL("../..", import.meta.url).pathname,
        // Only what Deno needs to find its cache: no TLS settings but those given.
        env: {
          HOME: Deno.env.get("HOME") ?? "/root",
          PATH: Deno.env.get("PATH") ?? "",
          ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
          WORKER_PORT: lab.env.LAB_WORKER_PORT,
          ...env,
        },
        clearEnv: true,
        stdout: "piped",
      }).output();
    const certsDir = join(lab.stateDir, "certs");
    const healthy = await probe(certificateEnv(certsDir, "worker"));
    assert.equal(healthy.code, 0, new TextDecoder().decode(healthy.stdout));
    assert.match(new TextDecoder().decode(healthy.stdout), /^SERVING$/m);
    assert.equal((await probe({})).code, 1, "a plaintext probe of a TLS worker fails");

    // A plaintext client (no TLS settings, no lab state) is refused by the worker.
    const workerAddress = `127.0.0.1:${lab.env.LAB_WORKER_PORT}`;
    assert.equal(await rpcCheck(workerAddress, { timeoutMs: 2000 }), 1);
    await lab.waitForLog("worker", /Refused a connection in the TLS handshake .*plaintext client/);
    assert.doesNotMatch(lab.log("worker"), /Performing task: 1\n[\s\S]*Performing task: 1\n/);

    // Half of the TLS settings for the CLI: exit 2, naming the missing variable.
    lab.env.TLS_CA = join(lab.stateDir, "certs", "ca.crt");
    const half = await lab.task("rpc");
    delete lab.env.TLS_CA;
    assert.equal(half.code, 2, half.stdout + half.stderr);
    assert.match(half.stderr, /"TLS_CERT" must be set too, since "TLS_CA" is/);

    await lab.ok("down");
    assert.deepEqual(pids.filter(isAlive), [], "down leaves no process running");
  } finally {
    await lab.close(pids);
  }
});
