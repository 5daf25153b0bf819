/**
 * Waiting and retrying: an abortable delay and capped exponential backoff with full jitter, for
 * every "unreachable, try again" path (ZooKeeper at start-up, the worker from the leader).
 */

/** Resolves after `ms`, or rejects with the signal's reason as soon as `signal` aborts. */
export function delay(ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Options for {@linkcode backoffDelay} and {@linkcode retry}. */
export interface BackoffOptions {
  /** The cap of the first delay; doubled after every failure. Default 50 ms. */
  minDelayMs?: number;
  /** The largest delay. Default 5000 ms. */
  maxDelayMs?: number;
  /** Jitter source in [0, 1); tests pass a fixed one. Default `Math.random`. */
  random?: () => number;
}

/** The delay before attempt `attempt + 1` (attempt counts from 1): full jitter below a capped exponential. */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { minDelayMs = 50, maxDelayMs = 5000, random = Math.random } = options;
  const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt - 1, 30));
  // Half fixed, half random: never zero (no hot loop), never in lock-step with a peer.
  return Math.round(ceiling / 2 + random() * ceiling / 2);
}

/** Options for {@linkcode retry}. */
export interface RetryOptions extends BackoffOptions {
  /** Stops retrying: the returned promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Told about each failure before the wait; `delayMs` is the wait that follows. */
  onError?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Whether to retry after `error`; a false answer rethrows it. Default: always retry. */
  shouldRetry?: (error: unknown) => boolean;
}

/** Calls `fn` until it resolves, waiting a capped, jittered, growing delay after each failure. */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const { signal, onError, shouldRetry = () => true } = options;
  for (let attempt = 1;; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!shouldRetry(error)) throw error;
      const delayMs = backoffDelay(attempt, options);
      onError?.(error, attempt, delayMs);
      await delay(delayMs, { signal });
    }
  }
}
