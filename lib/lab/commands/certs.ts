/** `certs`: writes a new CA and the lab's certificates into `<state>/certs` (see certificates.ts). */
import { CERTIFICATE_NAMES, certificatesDir, makeLabCertificates } from "../certificates.ts";

/** Makes the certificates and says where they are; resolves with the exit code. */
export async function certsCommand(stateDir: string): Promise<number> {
  const dir = certificatesDir(stateDir);
  await makeLabCertificates(dir);
  console.log(
    `Wrote a new CA (ca.crt) and certificates for ${CERTIFICATE_NAMES.join(", ")} to ${dir}`,
  );
  console.log(
    'Start the lab with them: "deno task up --tls" (a running --tls lab: "deno task down" first)',
  );
  return 0;
}
