/**
 * Waiting and retrying: an abortable delay and capped exponential backoff with full jitter, for
 * every "unreachable, try again" path (ZooKeeper at start-up, the worker from the leader). The
 * clock and the jitter source are injectable (the simulation passes its own).
 */
import { type Clock, type RandomSource, realClock } from "./clock.ts";

/** Options for {@linkcode delay}. */
export interface DelayOptions {
  /** Rejects the delay with the signal's reason as soon as it aborts. */
  signal?: AbortSignal;
  /** The clock whose timer waits. Default {@linkcode realClock}. */
  clock?: Clock;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as `signal` aborts. */
export function delay(ms: number, options: DelayOptions = {}): Promise<void> {
  const { signal, clock = realClock } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = clock.setTimeout(() => {
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
  random?: RandomSource;
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
  /** The clock that times the waits. Default {@linkcode realClock}. */
  clock?: Clock;
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
  const { signal, clock, onError, shouldRetry = () => true } = options;
  for (let attempt = 1;; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!shouldRetry(error)) throw error;
      const delayMs = backoffDelay(attempt, options);
      onError?.(error, attempt, delayMs);
      await delay(delayMs, { signal, clock });
    }
  }
}
