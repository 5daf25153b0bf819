/**
 * parseTlsConfig and parsePlainClients: every error message, exactly, on real certificates that
 * the test makes with openssl. Each message names the variable, the problem and the value.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, parseMasterConfig, parseWorkerConfig } from "../../lib/config/config.ts";
import {
  describeTls,
  parsePlainClients,
  parseTlsConfig,
  x509Version,
} from "../../lib/config/tls.ts";
import { certificateEnv } from "../../lib/lab/certificates.ts";
import { makeTestCertificates } from "./certificates.ts";

const certs = await makeTestCertificates();
const lab = (name: string) => certificateEnv(certs.dir, name);
const action = "start worker";

/** Asserts that parsing `env` throws exactly `message`. */
function refuses(env: Record<string, string>, message: string, now?: Date): void {
  assert.throws(() => parseTlsConfig(env, action, { now }), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.message, message);
    return true;
  });
}

/** Asserts that `parse` throws a ConfigError whose message matches `pattern`. */
function refusesLike(parse: () => unknown, pattern: RegExp): void {
  assert.throws(parse, (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, pattern);
    return true;
  });
}

const current = (name: string, env: Record<string, string>) =>
  `: current value is "${env[name] ?? ""}"`;

Deno.test("parseTlsConfig returns undefined when no TLS variable is set (or all are blank)", () => {
  assert.equal(parseTlsConfig({}, action), undefined);
  assert.equal(parseTlsConfig({ TLS_CA: " ", TLS_CERT: "", TLS_KEY: "" }, action), undefined);
});

Deno.test("parseTlsConfig reads a good set: buffers, the certificate's name and expiry", () => {
  const tls = parseTlsConfig(lab("worker"), action)!;
  assert.equal(tls.name, "worker");
  assert.equal(tls.caPath, join(certs.dir, "ca.crt"));
  assert.ok(tls.cert.toString().startsWith("-----BEGIN CERTIFICATE-----"));
  assert.ok(tls.notAfter.getTime() > Date.now() + 300 * 24 * 3600 * 1000);
  assert.ok(Object.isFrozen(tls));
});

Deno.test("parseTlsConfig names the missing variable when only some are set", () => {
  const onlyCa = { TLS_CA: lab("cli").TLS_CA };
  refuses(
    onlyCa,
    'Cannot start worker: "TLS_CERT" must be set too, since "TLS_CA" is: mutual TLS needs all three (PEM files), plaintext none: current value is ""',
  );
  const noKey = { TLS_CA: lab("cli").TLS_CA, TLS_CERT: lab("cli").TLS_CERT };
  refuses(
    noKey,
    'Cannot start worker: "TLS_KEY" must be set too, since "TLS_CA" and "TLS_CERT" are: mutual TLS needs all three (PEM files), plaintext none: current value is ""',
  );
  refuses(
    { TLS_KEY: lab("cli").TLS_KEY },
    'Cannot start worker: "TLS_CA" must be set too, since "TLS_KEY" is: mutual TLS needs all three (PEM files), plaintext none: current value is ""',
  );
});

Deno.test("parseTlsConfig refuses a file it cannot read", () => {
  for (const name of ["TLS_CA", "TLS_CERT", "TLS_KEY"]) {
    const env = { ...lab("cli"), [name]: join(certs.dir, "missing.pem") };
    refusesLike(
      () => parseTlsConfig(env, action),
      new RegExp(
        `^Cannot start worker: "${name}" must name a readable file \\(No such file or directory.*\\)${
          current(name, env).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")
        }$`,
      ),
    );
  }
});

Deno.test("parseTlsConfig refuses a certificate that is not PEM, or not a certificate", () => {
  const keyAsCert = { ...lab("cli"), TLS_CERT: lab("cli").TLS_KEY };
  refuses(
    keyAsCert,
    `Cannot start worker: "TLS_CERT" must be a PEM certificate ("-----BEGIN CERTIFICATE-----")${
      current("TLS_CERT", keyAsCert)
    }`,
  );
  const garbage = join(certs.oddDir, "garbage.crt");
  Deno.writeTextFileSync(garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  const env = { ...lab("cli"), TLS_CA: garbage };
  refusesLike(
    () => parseTlsConfig(env, action),
    /^Cannot start worker: "TLS_CA" must hold a readable X\.509 certificate \(.+\): current value is ".*garbage\.crt"$/,
  );
});

Deno.test("parseTlsConfig refuses an X.509 v1 certificate, saying how one gets v3", () => {
  const env = {
    ...lab("cli"),
    TLS_CERT: join(certs.oddDir, "v1.crt"),
    TLS_KEY: join(certs.oddDir, "v1.key"),
  };
  refuses(
    env,
    `Cannot start worker: "TLS_CERT" must be an X.509 v3 certificate (with extensions); it is v1, as "openssl x509 -req" makes without -extfile${
      current("TLS_CERT", env)
    }`,
  );
});

Deno.test("parseTlsConfig refuses an expired certificate and one not valid yet", () => {
  const env = {
    ...lab("cli"),
    TLS_CERT: join(certs.oddDir, "expired.crt"),
    TLS_KEY: join(certs.oddDir, "expired.key"),
  };
  refusesLike(
    () => parseTlsConfig(env, action),
    new RegExp(
      `^Cannot start worker: "TLS_CERT" must be valid now; it expired at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: current value is ".*expired\\.crt"$`,
    ),
  );
  // The CA is checked first: in ten years it has expired too.
  refusesLike(
    () => parseTlsConfig(lab("cli"), action, { now: new Date(Date.now() + 10 * 365 * 86400_000) }),
    /^Cannot start worker: "TLS_CA" must be valid now; it expired at .+Z: current value is ".*ca\.crt"$/,
  );
  refusesLike(
    () => parseTlsConfig(lab("cli"), action, { now: new Date("2001-01-01T00:00:00Z") }),
    /^Cannot start worker: "TLS_CA" must be valid now; it is valid only from .+Z: current value is ".*ca\.crt"$/,
  );
});

Deno.test("parseTlsConfig refuses a CA that is not a CA, and a certificate another CA signed", () => {
  const leafAsCa = { ...lab("cli"), TLS_CA: lab("worker").TLS_CERT };
  refuses(
    leafAsCa,
    `Cannot start worker: "TLS_CA" must be a CA certificate (basicConstraints CA:TRUE), not a service's${
      current("TLS_CA", leafAsCa)
    }`,
  );
  const foreign = {
    ...lab("cli"),
    TLS_CERT: join(certs.otherDir, "cli.crt"),
    TLS_KEY: join(certs.otherDir, "cli.key"),
  };
  refuses(
    foreign,
    `Cannot start worker: "TLS_CERT" must be signed by the CA in "TLS_CA" (CN=zk-lab CA); it was issued by CN=someone else's CA${
      current("TLS_CERT", foreign)
    }`,
  );
});

Deno.test("parseTlsConfig refuses a key that is not a PEM private key, or not the certificate's", () => {
  const certAsKey = { ...lab("cli"), TLS_KEY: lab("cli").TLS_CERT };
  refuses(
    certAsKey,
    `Cannot start worker: "TLS_KEY" must be a PEM private key ("-----BEGIN PRIVATE KEY-----")${
      current("TLS_KEY", certAsKey)
    }`,
  );
  const broken = join(certs.oddDir, "broken.key");
  Deno.writeTextFileSync(broken, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
  refusesLike(
    () => parseTlsConfig({ ...lab("cli"), TLS_KEY: broken }, action),
    /^Cannot start worker: "TLS_KEY" must be a PEM private key without a passphrase \(.+\): current value is ".*broken\.key"$/,
  );
  const otherKey = { ...lab("cli"), TLS_KEY: lab("worker").TLS_KEY };
  refuses(
    otherKey,
    `Cannot start worker: "TLS_KEY" must be the private key of the certificate in "TLS_CERT" (CN=cli)${
      current("TLS_KEY", otherKey)
    }`,
  );
});

Deno.test("parsePlainClients reads a list of names, and refuses bad names or no TLS", () => {
  const tls = parseTlsConfig(lab("worker"), action);
  assert.equal(parsePlainClients({}, tls, action), undefined);
  assert.deepEqual(parsePlainClients({ WORKER_PLAIN_CLIENTS: "cli, ops" }, tls, action), [
    "cli",
    "ops",
  ]);
  assert.throws(
    () => parsePlainClients({ WORKER_PLAIN_CLIENTS: "cli,,x y" }, tls, action),
    new ConfigError(
      'Cannot start worker: "WORKER_PLAIN_CLIENTS" must be a comma-separated list of certificate names (common names, like "cli"): current value is "cli,,x y"',
    ),
  );
  assert.throws(
    () => parsePlainClients({ WORKER_PLAIN_CLIENTS: "cli" }, undefined, action),
    new ConfigError(
      'Cannot start worker: "WORKER_PLAIN_CLIENTS" needs mutual TLS (TLS_CA, TLS_CERT and TLS_KEY): without it no caller has a name: current value is "cli"',
    ),
  );
});

Deno.test("parseWorkerConfig and parseMasterConfig carry TLS; a bad set names the process", () => {
  const worker = parseWorkerConfig({ ...lab("worker"), WORKER_PLAIN_CLIENTS: "cli" });
  assert.equal(worker.tls?.name, "worker");
  assert.deepEqual(worker.plainClients, ["cli"]);
  assert.equal(parseWorkerConfig({}).tls, undefined);
  assert.equal("tls" in parseWorkerConfig({}), false);
  assert.equal(parseMasterConfig(lab("master1"), { hostname: "box" }).tls?.name, "master1");
  refusesLike(
    () => parseMasterConfig({ TLS_CA: lab("master1").TLS_CA }, { hostname: "box" }),
    /^Cannot start master: "TLS_CERT" must be set too/,
  );
});

Deno.test("describeTls says plaintext or mutual TLS in one line", () => {
  assert.match(describeTls(undefined), /^TLS is off: gRPC is plaintext/);
  assert.match(
    describeTls(parseTlsConfig(lab("worker"), action)),
    /^Mutual TLS is on: .* this process is "worker" \(certificate valid until \d{4}-/,
  );
});

Deno.test("x509Version reads v3 and v1 from DER", async () => {
  const { X509Certificate } = await import("node:crypto");
  const der = (path: string) => new X509Certificate(Deno.readFileSync(path)).raw;
  assert.equal(x509Version(der(lab("cli").TLS_CERT)), 3);
  assert.equal(x509Version(der(join(certs.oddDir, "v1.crt"))), 1);
  assert.ok(Number.isNaN(x509Version(new Uint8Array([1, 2, 3]))));
});

Deno.test("tls config tests remove their certificates", { sanitizeResources: false }, async () => {
  await certs.close();
});
