/**
 * The TLS settings every process and the CLI share: `TLS_CA`, `TLS_CERT`, `TLS_KEY`, paths of PEM
 * files. All three set: mutual TLS; none: plaintext. Anything else is refused at start-up with a
 * message naming the variable and the problem, because a half-configured TLS setup fails later,
 * on the first connection, with a message about handshakes instead of about files.
 *
 * What it promises: a returned {@linkcode TlsConfig} holds a readable CA certificate (X.509 v3, a
 * CA, valid now) and a readable certificate (X.509 v3, valid now, signed by that CA) whose private
 * key is the one in `TLS_KEY`. It reads the files once, synchronously, at start-up.
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { ConfigError, type Env } from "./errors.ts";

/** The three variables, in the order they are checked. */
export const TLS_VARIABLES = ["TLS_CA", "TLS_CERT", "TLS_KEY"] as const;

/** Mutual TLS material, read and checked; the buffers are what grpc-js wants. */
export interface TlsConfig {
  readonly caPath: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  /** The certificate's common name, e.g. `worker`: how peers name this process. */
  readonly name: string;
  /** When the certificate expires. */
  readonly notAfter: Date;
}

/** Options of {@linkcode parseTlsConfig}; both exist for tests. */
export interface TlsParseOptions {
  readonly readFile?: (path: string) => Uint8Array;
  readonly now?: Date;
}

/**
 * Reads the TLS variables of `env`; undefined when none is set. `action` completes "Cannot …" in
 * errors, e.g. "start worker". Throws {@linkcode ConfigError}.
 */
export function parseTlsConfig(
  env: Env,
  action: string,
  options: TlsParseOptions = {},
): TlsConfig | undefined {
  const { readFile = Deno.readFileSync, now = new Date() } = options;
  const fail = (name: string, rule: string): never => {
    throw new ConfigError(
      `Cannot ${action}: "${name}" ${rule}: current value is "${env[name] ?? ""}"`,
    );
  };
  const paths = TLS_VARIABLES.map((name) => env[name]?.trim() || undefined);
  if (paths.every((path) => path === undefined)) return undefined;
  const missing = TLS_VARIABLES.find((_, index) => paths[index] === undefined);
  if (missing) {
    const given = TLS_VARIABLES.filter((_, index) => paths[index] !== undefined);
    fail(
      missing,
      `must be set too, since ${given.map((name) => `"${name}"`).join(" and ")} ${
        given.length > 1 ? "are" : "is"
      }: mutual TLS needs all three (PEM files), plaintext none`,
    );
  }
  const [caPath, certPath, keyPath] = paths as string[];
  const read = (name: string, path: string): Buffer => {
    try {
      return Buffer.from(readFile(path));
    } catch (error) {
      return fail(name, `must name a readable file (${errorText(error)})`);
    }
  };
  const ca = read("TLS_CA", caPath);
  const cert = read("TLS_CERT", certPath);
  const key = read("TLS_KEY", keyPath);
  const caCertificate = certificate("TLS_CA", ca, now, fail);
  if (!caCertificate.ca) {
    fail("TLS_CA", "must be a CA certificate (basicConstraints CA:TRUE), not a service's");
  }
  const own = certificate("TLS_CERT", cert, now, fail);
  if (!own.checkIssued(caCertificate) || !own.verify(caCertificate.publicKey)) {
    fail(
      "TLS_CERT",
      `must be signed by the CA in "TLS_CA" (${caCertificate.subject}); it was issued by ${own.issuer}`,
    );
  }
  if (!key.toString("latin1").includes("-----BEGIN ") || !/PRIVATE KEY-----/.test(String(key))) {
    fail("TLS_KEY", 'must be a PEM private key ("-----BEGIN PRIVATE KEY-----")');
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    return fail("TLS_KEY", `must be a PEM private key without a passphrase (${errorText(error)})`);
  }
  if (!own.checkPrivateKey(privateKey)) {
    fail("TLS_KEY", `must be the private key of the certificate in "TLS_CERT" (${own.subject})`);
  }
  return Object.freeze({
    caPath,
    certPath,
    keyPath,
    ca,
    cert,
    key,
    name: commonName(own.subject) ?? own.subject,
    notAfter: new Date(own.validTo),
  });
}

/**
 * WORKER_PLAIN_CLIENTS: the certificate names (comma-separated) whose calls may carry no epoch,
 * like the `rpc` check; undefined when unset. Names exist only under mutual TLS.
 */
export function parsePlainClients(
  env: Env,
  tls: TlsConfig | undefined,
  action: string,
): readonly string[] | undefined {
  const text = env["WORKER_PLAIN_CLIENTS"]?.trim();
  if (!text) return undefined;
  const fail = (rule: string): never => {
    throw new ConfigError(
      `Cannot ${action}: "WORKER_PLAIN_CLIENTS" ${rule}: current value is "${text}"`,
    );
  };
  const names = text.split(",").map((name) => name.trim());
  if (names.some((name) => !/^[A-Za-z0-9._-]{1,64}$/.test(name))) {
    fail('must be a comma-separated list of certificate names (common names, like "cli")');
  }
  if (!tls) {
    fail("needs mutual TLS (TLS_CA, TLS_CERT and TLS_KEY): without it no caller has a name");
  }
  return Object.freeze(names);
}

/** The start-up line that says whether gRPC is encrypted, and as whom. */
export function describeTls(tls: TlsConfig | undefined): string {
  if (!tls) {
    return "TLS is off: gRPC is plaintext and open to anyone who reaches the port (set TLS_CA, TLS_CERT and TLS_KEY for mutual TLS)";
  }
  return `Mutual TLS is on: gRPC peers must present a certificate signed by ${tls.caPath}; this process is "${tls.name}" (certificate valid until ${tls.notAfter.toISOString()})`;
}

/** The first PEM certificate of `pem`, checked as the module comment says. */
function certificate(
  name: string,
  pem: Buffer,
  now: Date,
  fail: (name: string, rule: string) => never,
): X509Certificate {
  if (!pem.toString("latin1").includes("-----BEGIN CERTIFICATE-----")) {
    fail(name, 'must be a PEM certificate ("-----BEGIN CERTIFICATE-----")');
  }
  let parsed: X509Certificate;
  try {
    parsed = new X509Certificate(pem);
  } catch (error) {
    return fail(name, `must hold a readable X.509 certificate (${errorText(error)})`);
  }
  const version = x509Version(parsed.raw);
  if (version !== 3) {
    // The TLS stack refuses v1 certificates with a bare "Failed to connect"; say it here instead.
    fail(
      name,
      `must be an X.509 v3 certificate (with extensions); it is v${version}, as "openssl x509 -req" makes without -extfile`,
    );
  }
  if (now < new Date(parsed.validFrom)) {
    fail(name, `must be valid now; it is valid only from ${isoDate(parsed.validFrom)}`);
  }
  if (now > new Date(parsed.validTo)) {
    fail(name, `must be valid now; it expired at ${isoDate(parsed.validTo)}`);
  }
  return parsed;
}

/**
 * The version of a DER certificate: TBSCertificate's optional `[0] EXPLICIT INTEGER` (absent: v1).
 * node:crypto does not expose it, and the lengths before it are all that needs decoding.
 */
export function x509Version(der: Uint8Array): number {
  let offset = 0;
  const enterSequence = () => {
    if (der[offset] !== 0x30) return false;
    const first = der[offset + 1];
    offset += 2 + (first & 0x80 ? first & 0x7f : 0);
    return true;
  };
  if (!enterSequence() || !enterSequence()) return NaN;
  // [0] constructed, length 3, INTEGER, length 1, value: 0 (v1), 1 (v2), 2 (v3).
  if (der[offset] !== 0xa0) return 1;
  if (der[offset + 2] !== 0x02 || der[offset + 3] !== 0x01) return NaN;
  return der[offset + 4] + 1;
}

function commonName(subject: string): string | undefined {
  return /^CN=(.+)$/m.exec(subject)?.[1];
}

function isoDate(text: string): string {
  return new Date(text).toISOString();
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
