/**
 * Mutual TLS for the bare baseline, with the lab's certificates (`--tls-dir`, as lib/lab's
 * generator writes them): the server requires client certificates, the client presents
 * master1's and verifies the server. Targets are IP addresses (127.0.0.1), which Deno refuses as
 * an SNI server name, so the client sends a placeholder name and checks the certificate against
 * the IP itself: the same workaround lib/grpc/credentials.ts makes, so Node and Deno run the same
 * code.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { checkServerIdentity } from "node:tls";
import { grpc } from "./proto.mjs";

/** @param {string} dir @param {string} name */
const read = (dir, name) => readFileSync(join(dir, name));

/**
 * Server credentials: mutual TLS with the worker's certificate when `dir` is set.
 * @param {string | undefined} dir
 */
export function serverCredentials(dir) {
  if (!dir) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(read(dir, "ca.crt"), [{
    private_key: read(dir, "worker.key"),
    cert_chain: read(dir, "worker.crt"),
  }], true);
}

/**
 * Channel credentials and options for `target` (`127.0.0.1:<port>`) when `dir` is set.
 * @param {string | undefined} dir
 * @param {string} target
 */
export function channelSecurity(dir, target) {
  if (!dir) return { credentials: grpc.credentials.createInsecure(), options: {} };
  const host = target.replace(/:\d+$/, "");
  const credentials = grpc.credentials.createSsl(
    read(dir, "ca.crt"),
    read(dir, "master1.key"),
    read(dir, "master1.crt"),
    { checkServerIdentity: (_name, certificate) => checkServerIdentity(host, certificate) },
  );
  return { credentials, options: { "grpc.ssl_target_name_override": "ip-target.invalid" } };
}
