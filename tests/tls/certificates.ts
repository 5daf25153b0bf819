/**
 * Certificates for the TLS tests, made by the lab's own generator (lib/lab/certificates.ts, real
 * openssl) into a fresh temp folder: the lab's set (ca, worker, master1, master2, cli), a second CA
 * with a `cli` certificate of its own, an expired `cli` certificate of the lab's CA and a v1 one.
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import type { TlsCredentials } from "../../lib/grpc/grpc.ts";
import {
  makeCertificate,
  makeCertificateAuthority,
  makeLabCertificates,
} from "../../lib/lab/certificates.ts";

/** See the module comment; `close()` removes the folder. */
export interface TestCertificates extends AsyncDisposable {
  /** The lab's set: what {@linkcode makeLabCertificates} writes. */
  readonly dir: string;
  /** Another CA's folder: `ca.crt` and `cli.crt`/`cli.key` signed by it. */
  readonly otherDir: string;
  /** `expired.crt`/`expired.key` (signed by the lab's CA, already expired) and `v1.crt`/`v1.key`. */
  readonly oddDir: string;
  /** Raw material, unchecked (an expired certificate would not pass the config). */
  material(dir: string, name: string, caDir?: string): TlsCredentials;
  close(): Promise<void>;
}

/** Makes everything; takes about a second (openssl runs a few dozen times). */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const root = await Deno.makeTempDir({ prefix: "zk-lab-tls-test-" });
  const dir = join(root, "lab");
  const otherDir = join(root, "other");
  const oddDir = join(root, "odd");
  await makeLabCertificates(dir);
  const other = await makeCertificateAuthority(otherDir, { commonName: "someone else's CA" });
  await makeCertificate(otherDir, "cli", other);
  await Deno.mkdir(oddDir);
  const ca = { certPath: join(dir, "ca.crt"), keyPath: join(dir, "ca.key") };
  const expired = await makeCertificate(oddDir, "expired", ca, { days: 0 });
  await makeV1Certificate(oddDir, "v1", ca);
  // `-days 0` ends the validity the second it begins: wait until that second has passed.
  const notAfter = new Date(
    new TextDecoder().decode(
      (await new Deno.Command("openssl", {
        args: ["x509", "-in", expired.certPath, "-noout", "-enddate"],
        stdout: "piped",
      }).output()).stdout,
    ).trim().replace(/^notAfter=/, ""),
  );
  while (Date.now() <= notAfter.getTime() + 1000) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const read = (path: string) => Buffer.from(Deno.readFileSync(path));
  const close = () => Deno.remove(root, { recursive: true });
  return {
    dir,
    otherDir,
    oddDir,
    material: (folder, name, caDir = folder) => ({
      ca: read(join(caDir, "ca.crt")),
      cert: read(join(folder, `${name}.crt`)),
      key: read(join(folder, `${name}.key`)),
    }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A v1 certificate (no extensions), as `openssl x509 -req` makes without -extfile. */
async function makeV1Certificate(
  dir: string,
  name: string,
  ca: { certPath: string; keyPath: string },
): Promise<void> {
  const run = async (args: string[]) => {
    const output = await new Deno.Command("openssl", { args, stderr: "piped" }).output();
    if (!output.success) throw new Error(new TextDecoder().decode(output.stderr));
  };
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  await run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key]);
  await run(["req", "-new", "-key", key, "-out", csr, "-subj", `/CN=${name}`]);
  await run([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.certPath,
    "-CAkey",
    ca.keyPath,
    "-set_serial",
    "7",
    "-days",
    "2",
    "-out",
    join(dir, `${name}.crt`),
  ]);
}
