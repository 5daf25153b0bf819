/**
 * Time and chance as values: the monotonic clock, timers and random numbers that the election,
 * the session and the fence use, behind one small interface each. Production code takes the real
 * ones by default; the deterministic simulation (tests/sim) passes a simulated clock and a seeded
 * source, so that one seed decides every timer and every guid and a run replays exactly.
 */

/** A timer handle, as returned by {@linkcode Clock.setTimeout} and {@linkcode Clock.setInterval}. */
export type TimerId = number;

/** A monotonic clock with timers. */
export interface Clock {
  /** Monotonic milliseconds (as `performance.now()`): only differences mean anything. */
  now(): number;
  /** Calls `callback` once after `ms`. */
  setTimeout(callback: () => void, ms: number): TimerId;
  /** Cancels a timer from {@linkcode Clock.setTimeout}; undefined or an expired id is ignored. */
  clearTimeout(id: TimerId | undefined): void;
  /** Calls `callback` every `ms`. */
  setInterval(callback: () => void, ms: number): TimerId;
  /** Cancels a timer from {@linkcode Clock.setInterval}; undefined is ignored. */
  clearInterval(id: TimerId | undefined): void;
}

/**
 * The process's own clock: `performance.now()` and the global timers. (`Number()` because the
 * Node types loaded with the npm packages type the timers' result as an object; in Deno it is the
 * number itself.)
 */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => Number(setTimeout(callback, ms)),
  clearTimeout: (id) => clearTimeout(id),
  setInterval: (callback, ms) => Number(setInterval(callback, ms)),
  clearInterval: (id) => clearInterval(id),
};

/** A source of random numbers in [0, 1), like `Math.random`. */
export type RandomSource = () => number;

/** A version 4 UUID made from `random`; for a seeded source, the same seed gives the same ids. */
export function uuidFrom(random: RandomSource): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = "4";
  hex[16] = (8 + Math.floor(random() * 4)).toString(16);
  const text = hex.join("");
  return `${text.slice(0, 8)}-${text.slice(8, 12)}-${text.slice(12, 16)}-${text.slice(16, 20)}-${
    text.slice(20)
  }`;
}
