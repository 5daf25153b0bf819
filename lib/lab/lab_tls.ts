/**
 * The lab CLI's side of mutual TLS: which client certificate its commands (rpc, status, submit,
 * the dashboard) present, and the certificates `up --tls` needs. TLS_CA, TLS_CERT and TLS_KEY in
 * the CLI's environment win; otherwise a lab that `up --tls` started is called with the lab's own
 * `cli` certificate from the state folder; otherwise plaintext.
 */
import type { Env } from "../config/config.ts";
import { parseTlsConfig, TLS_VARIABLES } from "../config/tls.ts";
import type { TlsCredentials } from "../grpc/credentials.ts";
import {
  CERTIFICATE_NAMES,
  certificateEnv,
  certificatesDir,
  CLI_CERTIFICATE,
  makeLabCertificates,
} from "./certificates.ts";
import type { LabSettings } from "./settings.ts";
import { readState } from "./state.ts";

/**
 * The TLS material for the CLI's gRPC calls to the lab (see the module comment); undefined for
 * plaintext. Throws ConfigError (exit 2) for bad TLS_* settings or unusable lab certificates.
 */
export async function labClientTls(
  settings: LabSettings,
  env: Env,
): Promise<TlsCredentials | undefined> {
  if (TLS_VARIABLES.some((name) => env[name]?.trim())) return parseTlsConfig(env, "run the lab");
  if (!(await readState(settings.stateDir))?.tls) return undefined;
  return labCertificateTls(settings.stateDir);
}

/** The lab's own `cli` certificate in `<stateDir>/certs`, checked; throws ConfigError. */
export function labCertificateTls(stateDir: string): TlsCredentials {
  const dir = certificatesDir(stateDir);
  return parseTlsConfig(certificateEnv(dir, CLI_CERTIFICATE), "call the lab over TLS")!;
}

/**
 * Makes the lab's certificates unless every one of them is there and usable (readable, valid,
 * signed by the CA, key matching); resolves true when it made new ones.
 */
export async function ensureLabCertificates(stateDir: string): Promise<boolean> {
  const dir = certificatesDir(stateDir);
  try {
    for (const name of CERTIFICATE_NAMES) parseTlsConfig(certificateEnv(dir, name), "check");
    return false;
  } catch {
    await makeLabCertificates(dir);
    return true;
  }
}
