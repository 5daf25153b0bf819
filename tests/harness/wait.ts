/**
 * Polling with a deadline, for conditions that have no event to wait on (a server answering on a
 * port, a process gone). Anything that has an event (a log line, an exit) should await it instead.
 */

import { delay as abortableDelay } from "../../lib/common/backoff.ts";

/** Options for {@linkcode waitFor}. */
export interface WaitForOptions {
  /** How long to keep probing. */
  timeoutMs: number;
  /** Pause between probes. Default 20 ms. */
  intervalMs?: number;
  /** What we were waiting for, for the timeout error. */
  message: string;
  /** Stops waiting early, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Calls `probe` until it returns something other than `undefined` and resolves with that. A probe
 * that throws counts as "not yet" (a refused connection is the usual case); the last error is
 * named in the timeout error so a real failure is not hidden.
 */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  options: WaitForOptions,
): Promise<T> {
  const { timeoutMs, intervalMs = 20, message, signal } = options;
  if (!(timeoutMs > 0) || !(intervalMs >= 0)) {
    throw new RangeError(
      `Cannot wait for ${message}: timeoutMs and intervalMs must be positive: ${timeoutMs}, ${intervalMs}`,
    );
  }
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  while (true) {
    signal?.throwIfAborted();
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= deadline) break;
    await delay(Math.min(intervalMs, Math.max(0, deadline - performance.now())), signal);
  }
  const cause = lastError === undefined ? "" : `; last error: ${describe(lastError)}`;
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}${cause}`, {
    cause: lastError,
  });
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts (lib's delay). */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return abortableDelay(ms, { signal });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
