/**
 * Waiting with deadlines, for conditions that have no event to wait on (a server answering on a
 * port, a process gone, a leader elected). Every wait ends, with a message that says what was
 * awaited and the last error seen; anything that has an event should await it instead.
 */
import { delay } from "./backoff.ts";

/** Options for {@linkcode waitFor}. */
export interface WaitForOptions {
  /** How long to keep probing. */
  readonly timeoutMs: number;
  /** Pause between probes. Default 20 ms. */
  readonly intervalMs?: number;
  /** Completes the timeout message: `Timed out after 10000 ms waiting for <message>`. */
  readonly message: string;
  /** Stops waiting early, rejecting with the signal's reason. */
  readonly signal?: AbortSignal;
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
    await delay(Math.min(intervalMs, Math.max(0, deadline - performance.now())), { signal });
  }
  const cause = lastError === undefined ? "" : `; last error: ${describe(lastError)}`;
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${message}${cause}`, {
    cause: lastError,
  });
}

/** Resolves or rejects as `promise` does, or rejects after `timeoutMs` naming `what`. */
export function deadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
