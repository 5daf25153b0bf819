/**
 * Who may call the worker without an epoch. Such a call is outside the fence (no leader sent it),
 * which the walkthrough's `rpc` check needs; under mutual TLS, WORKER_PLAIN_CLIENTS narrows it to
 * the certificates named there, so that only masters, with their epochs, make the worker work.
 * Pure: the caller's name comes from its certificate (lib/grpc/credentials.ts peerName).
 */

/**
 * Why a call with `epoch` from `caller` must be refused, or undefined when it may be served.
 * `allowed` undefined: every caller may (plaintext, or TLS without WORKER_PLAIN_CLIENTS).
 */
export function plainCallRefusal(
  epoch: bigint,
  caller: string | undefined,
  allowed: readonly string[] | undefined,
): string | undefined {
  if (epoch !== 0n || allowed === undefined) return undefined;
  if (caller !== undefined && allowed.includes(caller)) return undefined;
  return `A call without an epoch is served only to ${
    allowed.join(", ")
  } (WORKER_PLAIN_CLIENTS); this caller is ${caller === undefined ? "unnamed" : `"${caller}"`}`;
}
