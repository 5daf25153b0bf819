/**
 * lib/grpc/credentials.ts against a real in-process gRPC server with real certificates: the
 * client checks that the server's certificate names the address it called (IP targets too), the
 * server reads the caller's name, refused handshakes are reported once per reason, and the hints.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  peerName,
  refusalMeaning,
  type RefusedConnection,
  tlsHint,
} from "../../lib/grpc/credentials.ts";
import {
  callUnary,
  createMapReduceClient,
  createServer,
  grpc,
  startServer,
  stopServer,
  type TlsCredentials,
} from "../../lib/grpc/grpc.ts";
import { makeCertificate } from "../../lib/lab/certificates.ts";
import { makeTestCertificates } from "./certificates.ts";

/** A server on 127.0.0.1 answering PerformTask with the caller's certificate name. */
async function startEchoServer(tls: TlsCredentials, refused: RefusedConnection[] = []) {
  const { server } = createServer({
    PerformTask: (call, callback) => callback(null, { message: peerName(call) ?? "unnamed" }),
    SubmitTask: (_call, callback) => callback({ code: grpc.status.UNIMPLEMENTED }),
  });
  const port = await startServer(server, "127.0.0.1", 0, {
    tls,
    onRefused: (report) => refused.push(report),
  });
  return { port, [Symbol.asyncDispose]: () => stopServer(server, 200) };
}

async function call(address: string, tls: TlsCredentials | undefined) {
  const client = createMapReduceClient(address, tls);
  try {
    return await callUnary(client, "PerformTask", { task_id: "t", message: "m" }, {
      timeoutMs: 5000,
    });
  } finally {
    client.close();
  }
}

Deno.test("a client verifies the server's name, for IP and DNS targets alike", async () => {
  await using certs = await makeTestCertificates();
  const ca = { certPath: join(certs.dir, "ca.crt"), keyPath: join(certs.dir, "ca.key") };
  await makeCertificate(certs.oddDir, "elsewhere", ca, { altNames: ["elsewhere.example"] });
  const cli = certs.material(certs.dir, "cli");
  {
    await using named = await startEchoServer(certs.material(certs.dir, "worker"));
    // The worker's certificate names 127.0.0.1 and localhost: both work, and the server reads
    // the caller's name from its certificate.
    assert.equal((await call(`127.0.0.1:${named.port}`, cli)).message, "cli");
    assert.equal((await call(`localhost:${named.port}`, cli)).message, "cli");
  }
  await using elsewhere = await startEchoServer(
    certs.material(certs.oddDir, "elsewhere", certs.dir),
  );
  for (const host of ["127.0.0.1", "localhost"]) {
    await assert.rejects(call(`${host}:${elsewhere.port}`, cli), (error: grpc.ServiceError) => {
      assert.equal(error.code, grpc.status.UNAVAILABLE);
      assert.match(error.details, /ERR_TLS_CERT_ALTNAME_INVALID/);
      assert.match(tlsHint(error, true)!, /does not name the address/);
      return true;
    });
  }
});

Deno.test("refused handshakes are reported once per reason, with what they mean", async () => {
  await using certs = await makeTestCertificates();
  const refused: RefusedConnection[] = [];
  await using server = await startEchoServer(certs.material(certs.dir, "worker"), refused);
  for (let attempt = 0; attempt < 3; attempt++) {
    await assert.rejects(
      call(`127.0.0.1:${server.port}`, undefined),
      (error: grpc.ServiceError) => {
        assert.equal(error.code, grpc.status.UNAVAILABLE);
        assert.match(tlsHint(error, false)!, /may require mutual TLS/);
        return true;
      },
    );
  }
  const deadline = Date.now() + 5000;
  while (refused.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(refused.length, 1, JSON.stringify(refused));
  assert.match(refused[0].reason, /wrong version number/);
  assert.match(refused[0].meaning, /plaintext client/);
});

Deno.test("refusalMeaning and tlsHint name the likely cause", () => {
  assert.match(refusalMeaning("peer sent no certificates"), /without a certificate/);
  assert.match(refusalMeaning("invalid peer certificate: UnknownIssuer"), /did not sign/);
  assert.match(refusalMeaning("socket hang up"), /another CA, expired/);
  assert.equal(refusalMeaning("something new"), "the TLS handshake failed");
  const error = (details: string) => ({ code: grpc.status.UNAVAILABLE, details });
  assert.match(tlsHint(error("... wrong version number ..."), true)!, /speaks plaintext/);
  assert.match(tlsHint(error("received fatal alert: CertificateRequired"), true)!, /refused our/);
  assert.equal(tlsHint(error("connect ECONNREFUSED 127.0.0.1:1"), true), undefined);
  assert.equal(tlsHint(error("Failed to connect"), true), undefined);
});
