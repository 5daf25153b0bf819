/**
 * The Deno versions this lab refuses to run on, and why. Deno 2.9.4 and later abort natively (an
 * nghttp2 assertion in `find_stream_on_goaway_func`, `free(): invalid pointer`, or a silent SIGSEGV)
 * when a process receives an HTTP/2 GOAWAY on a connection that carried more than about 100 gRPC
 * calls: a master closing its channel kills the worker, a worker shutting down kills the masters.
 * Upstream: denoland/deno#36788 (open). Deno 2.6 cannot serve grpc-js 1.14 at all.
 */

/** The version the lab is pinned to and tested with. */
export const PINNED_DENO_VERSION = "2.9.3";

/** The variable that lets a user run on a version we refuse, at their own risk. */
export const OVERRIDE_VARIABLE = "ALLOW_UNSAFE_DENO";

function parse(version: string): [number, number, number] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

function compare(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Why `version` is refused, or undefined when it is fine. */
export function denoVersionProblem(version: string): string | undefined {
  const parsed = parse(version);
  if (!parsed) return `Cannot tell which Deno this is ("${version}")`;
  if (compare(parsed, [2, 9, 4]) >= 0) {
    return `Refusing to run on Deno ${version}: Deno 2.9.4 and later abort the process when an ` +
      "HTTP/2 connection that carried more than ~100 gRPC calls receives a GOAWAY (on every clean " +
      "stop of a peer), see denoland/deno#36788. Use Deno " + PINNED_DENO_VERSION +
      ` (npm install -g deno@${PINNED_DENO_VERSION}), or set ${OVERRIDE_VARIABLE}=1 to run anyway`;
  }
  if (compare(parsed, [2, 7, 0]) < 0) {
    return `Refusing to run on Deno ${version}: gRPC calls fail on Deno before 2.7 ` +
      `(ERR_HTTP2_SOCKET_UNBOUND). Use Deno ${PINNED_DENO_VERSION}, or set ${OVERRIDE_VARIABLE}=1 to run anyway`;
  }
  return undefined;
}
