/**
 * The lab's certificates (`deno task certs`): a small CA and one certificate per service, written
 * with the `openssl` command line (present on Debian and in every CI image; no npm dependency to
 * vet, and the commands are the ones a reader would type). Every certificate is X.509 v3 with the
 * extensions TLS stacks check (the TLS stack refuses v1 certificates), and names each service the
 * way it is reached: its Compose service name, `localhost`, `127.0.0.1` and `::1`.
 *
 * Files in the folder: `ca.crt`, `ca.key`, `<service>.crt`, `<service>.key`. The services' keys
 * are readable by every user (0644): the Compose containers run as a non-root user and read them
 * through a read-only bind mount. The CA's key is its owner's only (0600). Good enough for a lab on
 * one machine, not for production secrets.
 */
import { join } from "node:path";

/** The services that get a certificate; `cli` is the lab CLI's (and the tests') client one. */
export const CERTIFICATE_NAMES = ["worker", "master1", "master2", "cli"] as const;

/** The client certificate the CLI presents; the worker serves its epoch-less `rpc` check. */
export const CLI_CERTIFICATE = "cli";

/** How long the lab's certificates are valid by default. */
const DEFAULT_DAYS = 365;

/** Where the lab keeps its certificates. */
export function certificatesDir(stateDir: string): string {
  return join(stateDir, "certs");
}

/** TLS_CA, TLS_CERT and TLS_KEY for `name`'s certificate in `dir`. */
export function certificateEnv(dir: string, name: string): Record<string, string> {
  return {
    TLS_CA: join(dir, "ca.crt"),
    TLS_CERT: join(dir, `${name}.crt`),
    TLS_KEY: join(dir, `${name}.key`),
  };
}

/** Options of {@linkcode makeCertificate}. */
export interface CertificateOptions {
  /** Validity in days from now; 0 makes one that expires at once (for tests). */
  readonly days?: number;
  /** Subject alternative names; default: the name itself, localhost, 127.0.0.1, ::1. */
  readonly altNames?: readonly string[];
}

/** Runs `openssl` with `args`; throws with its error output when it fails. */
async function openssl(args: string[]): Promise<void> {
  let output;
  try {
    output = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" })
      .output();
  } catch (error) {
    throw new Error(
      `Cannot make certificates: "openssl" cannot run (${
        error instanceof Error ? error.message : error
      }); install it (apt-get install openssl)`,
    );
  }
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`Cannot make certificates: openssl ${args[0]} failed: ${stderr}`);
  }
}

/** A new EC P-256 key at `path` (small and fast; every TLS stack here accepts it). */
function newKey(path: string): Promise<void> {
  return openssl([
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    path,
  ]);
}

/** Makes a CA (`<name>.crt`, `<name>.key`) in `dir`: self-signed, CA:TRUE, keyCertSign. */
export async function makeCertificateAuthority(
  dir: string,
  options: { name?: string; commonName?: string; days?: number } = {},
): Promise<{ certPath: string; keyPath: string }> {
  const { name = "ca", commonName = "zk-lab CA", days = DEFAULT_DAYS } = options;
  await Deno.mkdir(dir, { recursive: true });
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.crt`);
  await newKey(keyPath);
  await openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    keyPath,
    "-out",
    certPath,
    "-days",
    String(days),
    "-subj",
    `/CN=${commonName}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE,pathlen:0",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  // Only the one who makes certificates needs the CA's key: no service, no container.
  await Deno.chmod(keyPath, 0o600);
  return { certPath, keyPath };
}

/** Makes `<name>.crt` and `<name>.key` in `dir`, signed by `ca`, for servers and clients alike. */
export async function makeCertificate(
  dir: string,
  name: string,
  ca: { certPath: string; keyPath: string },
  options: CertificateOptions = {},
): Promise<{ certPath: string; keyPath: string }> {
  const { days = DEFAULT_DAYS } = options;
  const altNames = options.altNames ?? [name, "localhost", "127.0.0.1", "::1"];
  const keyPath = join(dir, `${name}.key`);
  const certPath = join(dir, `${name}.crt`);
  const work = await Deno.makeTempDir({ prefix: "zk-lab-certs-" });
  try {
    const csrPath = join(work, "request.csr");
    const extensionsPath = join(work, "extensions.cnf");
    await newKey(keyPath);
    await openssl(["req", "-new", "-key", keyPath, "-out", csrPath, "-subj", `/CN=${name}`]);
    // The extensions make it v3; without -extfile openssl x509 -req writes a v1 certificate.
    const sans = altNames.map((alt) => (/^[\d.]+$|:/.test(alt) ? `IP:${alt}` : `DNS:${alt}`));
    await Deno.writeTextFile(
      extensionsPath,
      [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth,clientAuth",
        `subjectAltName=${sans.join(",")}`,
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid",
        "",
      ].join("\n"),
    );
    const serial = "0x" + [...crypto.getRandomValues(new Uint8Array(16))]
      .map((byte) => byte.toString(16).padStart(2, "0")).join("").replace(/^[89a-f]/, "1");
    await openssl([
      "x509",
      "-req",
      "-in",
      csrPath,
      "-CA",
      ca.certPath,
      "-CAkey",
      ca.keyPath,
      "-set_serial",
      serial,
      "-days",
      String(days),
      "-extfile",
      extensionsPath,
      "-out",
      certPath,
    ]);
    await Deno.chmod(keyPath, 0o644);
    return { certPath, keyPath };
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/** Writes a fresh CA and a certificate for each of {@linkcode CERTIFICATE_NAMES} into `dir`. */
export async function makeLabCertificates(dir: string, options: { days?: number } = {}) {
  const ca = await makeCertificateAuthority(dir, options);
  for (const name of CERTIFICATE_NAMES) await makeCertificate(dir, name, ca, options);
}
