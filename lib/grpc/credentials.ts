/**
 * gRPC credentials from the lab's TLS material: server credentials that require and verify a
 * client certificate, channel credentials that present ours and verify the server's name, the
 * caller's name as its certificate gives it, and a report of connections refused in the TLS
 * handshake (grpc-js itself only traces them). No material means plaintext, as before.
 *
 * Two workarounds live here, each for a fact of Deno 2.9.3 with grpc-js 1.14.7:
 * - Deno's `tls.connect` refuses an IP address as SNI server name, and grpc-js sends the target's
 *   host as one. For an IP target the channel sends a placeholder name instead and checks the
 *   certificate against the IP itself, so the server's identity is still verified.
 * - The server's handshake failures are reported through grpc-js's private `createHttp2Server`,
 *   the only place its HTTP/2 server is reachable; if a grpc-js update removes it, the report is
 *   lost (never the protection).
 */
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "../common/log.ts";
import type { Buffer } from "node:buffer";
import { isIP } from "node:net";
import { checkServerIdentity, type PeerCertificate } from "node:tls";

/** A process's TLS material: the CA that signs every peer, its own certificate and key (PEM). */
export interface TlsCredentials {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Sent as SNI name to IP targets (see the module comment); never a real name (RFC 6761). */
const IP_TARGET_SERVER_NAME = "ip-target.invalid";

/** Server credentials: mutual TLS with `tls` (client certificates required), else plaintext. */
export function serverCredentials(tls: TlsCredentials | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.ca, [{
    private_key: tls.key,
    cert_chain: tls.cert,
  }], true);
}

/** Credentials and channel options for a client of `address` (`host:port`). */
export function channelSecurity(
  address: string,
  tls: TlsCredentials | undefined,
): { credentials: grpc.ChannelCredentials; options: grpc.ChannelOptions } {
  if (!tls) return { credentials: grpc.credentials.createInsecure(), options: {} };
  const host = address.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1");
  if (isIP(host) === 0) {
    return { credentials: grpc.credentials.createSsl(tls.ca, tls.key, tls.cert), options: {} };
  }
  return {
    credentials: grpc.credentials.createSsl(tls.ca, tls.key, tls.cert, {
      checkServerIdentity: (_name: string, certificate: PeerCertificate) =>
        checkServerIdentity(host, certificate),
    }),
    options: { "grpc.ssl_target_name_override": IP_TARGET_SERVER_NAME },
  };
}

/** The common name of the caller's certificate; undefined on plaintext. */
export function peerName(
  call: Pick<grpc.ServerUnaryCall<unknown, unknown>, "getAuthContext">,
): string | undefined {
  const name = call.getAuthContext()?.sslPeerCertificate?.subject?.CN;
  return typeof name === "string" ? name : undefined;
}

/** One kind of refused connection, reported at most once per interval. */
export interface RefusedConnection {
  /** What the TLS stack said, e.g. "peer sent no certificates". */
  readonly reason: string;
  /** What that means for a person reading the log. */
  readonly meaning: string;
  /** How many more were refused for the same reason since the last report. */
  readonly since: number;
}

/** How often the same refusal is reported: a plaintext client retries several times a second. */
const REPORT_INTERVAL_MS = 10_000;

/**
 * Calls `report` when a connection to `server` fails its TLS handshake (no certificate, another
 * CA, expired, plaintext); call before binding. Each reason is reported at most every 10 s.
 */
export function watchRefusedConnections(
  server: grpc.Server,
  report: (refused: RefusedConnection) => void,
): void {
  const lastReport = new Map<string, { at: number; since: number }>();
  const onError = (error: Error) => {
    const reason = error.message;
    const last = lastReport.get(reason);
    const now = performance.now();
    if (last && now - last.at < REPORT_INTERVAL_MS) {
      last.since++;
      return;
    }
    lastReport.set(reason, { at: now, since: 0 });
    report({ reason, meaning: refusalMeaning(reason), since: last?.since ?? 0 });
  };
  const internals = server as unknown as {
    createHttp2Server?: (credentials: grpc.ServerCredentials) => {
      on(event: "tlsClientError", listener: (error: Error) => void): void;
    };
  };
  const create = internals.createHttp2Server;
  if (typeof create !== "function") return;
  internals.createHttp2Server = function (credentials) {
    const http2Server = create.call(this, credentials);
    if (credentials._isSecure()) http2Server.on("tlsClientError", onError);
    return http2Server;
  };
}

/** Logs each reported refusal as one warning (for {@linkcode watchRefusedConnections}). */
export function logRefusals(logger: Logger): (refused: RefusedConnection) => void {
  return ({ reason, meaning, since }) =>
    logger.warn("Refused a connection in the TLS handshake", {
      reason,
      meaning,
      sinceLastReport: since,
    });
}

/** What a server-side handshake failure means, in the words of the lab's settings. */
export function refusalMeaning(reason: string): string {
  if (/wrong version number|InvalidContentType|http request/i.test(reason)) {
    return "a plaintext client: it runs without TLS_CA, TLS_CERT and TLS_KEY";
  }
  if (/no certificate/i.test(reason)) return "a TLS client without a certificate";
  if (/UnknownIssuer|unknown ca|BadSignature/i.test(reason)) {
    return "a client certificate that our TLS_CA did not sign";
  }
  if (/expired/i.test(reason)) return "an expired client certificate";
  // Deno reports a client certificate its verifier refused (another CA, expired) as a hang-up.
  if (/socket hang up|ECONNRESET/i.test(reason)) {
    return "the client left during the handshake: its certificate was refused (another CA, expired?) or it refused ours";
  }
  return "the TLS handshake failed";
}

/**
 * A hint for a failed call when TLS is the likely cause, else undefined: the two sides disagree
 * about TLS, or one refused the other's certificate.
 */
export function tlsHint(error: unknown, tlsOn: boolean): string | undefined {
  const details = (error as grpc.ServiceError)?.details ?? String(error);
  if (!tlsOn && /Failed to connect|ECONNRESET/.test(details)) {
    return "the server may require mutual TLS: set TLS_CA, TLS_CERT and TLS_KEY as it has them";
  }
  if (tlsOn && /wrong version number|packet length too long|InvalidContentType/.test(details)) {
    return "the server speaks plaintext: it runs without TLS_CA, TLS_CERT and TLS_KEY";
  }
  if (tlsOn && /ERR_TLS_CERT_ALTNAME_INVALID/.test(details)) {
    return "the server's certificate does not name the address called (see deno task certs)";
  }
  if (
    tlsOn && /CertificateRequired|UnknownCa|BadCertificate|CertificateExpired|alert/i.test(details)
  ) {
    return "the server refused our certificate: is it signed by the server's TLS_CA, and valid?";
  }
  if (
    tlsOn &&
    /self.signed|unable to (get|verify)|certificate has expired|UnknownIssuer/i.test(details)
  ) {
    return "the server's certificate is not one our TLS_CA signed, or it has expired";
  }
  return undefined;
}
