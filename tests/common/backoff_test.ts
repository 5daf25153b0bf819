/**
 * Unit tests of `lib/common/backoff.ts`: the jittered, capped delays, and `retry` and `delay` with an
 * `AbortSignal`. Waits are 1 ms at most; aborts are triggered from the callbacks, never by a timer.
 */
import assert from "node:assert/strict";
import { backoffDelay, delay, retry } from "../../lib/common/backoff.ts";

const LOWEST = () => 0;
const HIGHEST = () => 0.999;

/** Backoff that waits 1 ms, for tests that do not care about the delay. */
const TINY = { minDelayMs: 1, maxDelayMs: 1, random: LOWEST };

// --- backoffDelay -------------------------------------------------------------------------------

Deno.test("backoffDelay is half the first ceiling with the lowest jitter", () => {
  assert.equal(backoffDelay(1, { random: LOWEST }), 25);
});

Deno.test("backoffDelay is about the first ceiling with the highest jitter", () => {
  assert.equal(backoffDelay(1, { random: HIGHEST }), 50);
});

Deno.test("backoffDelay doubles with every attempt", () => {
  const delays = [1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, { random: LOWEST }));
  assert.deepEqual(delays, [25, 50, 100, 200, 400]);
});

Deno.test("backoffDelay stays between half the ceiling and the ceiling", () => {
  for (let attempt = 1; attempt <= 12; attempt++) {
    const ceiling = Math.min(5000, 50 * 2 ** (attempt - 1));
    for (const random of [LOWEST, HIGHEST]) {
      const delayMs = backoffDelay(attempt, { random });
      assert.ok(delayMs >= ceiling / 2 && delayMs <= ceiling, `attempt ${attempt}: ${delayMs}`);
    }
  }
});

Deno.test("backoffDelay is capped at maxDelayMs", () => {
  assert.equal(backoffDelay(20, { random: LOWEST }), 2500);
  assert.equal(backoffDelay(20, { random: HIGHEST }), 4998);
  assert.equal(backoffDelay(5, { minDelayMs: 100, maxDelayMs: 1000, random: LOWEST }), 500);
  assert.equal(backoffDelay(5, { minDelayMs: 100, maxDelayMs: 1000, random: HIGHEST }), 1000);
});

Deno.test("backoffDelay stays finite and capped for a huge attempt number", () => {
  assert.equal(backoffDelay(10_000, { random: HIGHEST }), 4998);
});

Deno.test("backoffDelay is never zero", () => {
  assert.equal(backoffDelay(1, { minDelayMs: 1, random: LOWEST }), 1);
});

// --- retry --------------------------------------------------------------------------------------

Deno.test("retry resolves with the first success after failures", async () => {
  const attempts: number[] = [];
  const errors: [unknown, number, number][] = [];
  const failures = [new Error("first"), new Error("second")];
  const result = await retry((attempt) => {
    attempts.push(attempt);
    const failure = failures[attempt - 1];
    return failure ? Promise.reject(failure) : Promise.resolve("done");
  }, { ...TINY, onError: (error, attempt, delayMs) => errors.push([error, attempt, delayMs]) });
  assert.equal(result, "done");
  assert.deepEqual(attempts, [1, 2, 3]);
  assert.deepEqual(errors, [[failures[0], 1, 1], [failures[1], 2, 1]]);
});

Deno.test("retry tells onError the backoff delay that follows", async () => {
  const delays: number[] = [];
  await retry((attempt) => attempt < 3 ? Promise.reject(new Error("down")) : Promise.resolve(), {
    minDelayMs: 1,
    maxDelayMs: 4,
    random: HIGHEST,
    onError: (_error, _attempt, delayMs) => delays.push(delayMs),
  });
  assert.deepEqual(delays, [1, 2]);
});

Deno.test("retry stops with the signal's reason when aborted during the wait", async () => {
  const controller = new AbortController();
  const reason = new Error("shutting down");
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.reject(new Error("unreachable"));
    }, {
      // A wait this long can only end early through the abort.
      minDelayMs: 60_000,
      maxDelayMs: 60_000,
      signal: controller.signal,
      // onError runs just before the wait starts; abort once the wait has begun.
      onError: () => queueMicrotask(() => controller.abort(reason)),
    }),
    (error) => error === reason,
  );
  assert.equal(calls, 1);
});

Deno.test("retry rejects with the signal's reason when aborted while fn runs", async () => {
  const controller = new AbortController();
  const reason = new Error("shutting down");
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      controller.abort(reason);
      return Promise.reject(new Error("interrupted"));
    }, { ...TINY, signal: controller.signal }),
    (error) => error === reason,
  );
  assert.equal(calls, 1);
});

Deno.test("retry does not call fn when the signal is already aborted", async () => {
  const reason = new Error("already stopped");
  let calls = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.resolve();
    }, { signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
  assert.equal(calls, 0);
});

Deno.test("retry rethrows the error at once when shouldRetry answers false", async () => {
  const fatal = new Error("permission denied");
  const judged: unknown[] = [];
  let calls = 0;
  let reported = 0;
  await assert.rejects(
    retry(() => {
      calls++;
      return Promise.reject(fatal);
    }, {
      ...TINY,
      shouldRetry: (error) => {
        judged.push(error);
        return false;
      },
      onError: () => reported++,
    }),
    (error) => error === fatal,
  );
  assert.equal(calls, 1);
  assert.deepEqual(judged, [fatal]);
  assert.equal(reported, 0);
});

Deno.test("retry retries only the errors shouldRetry accepts", async () => {
  const transient = new Error("transient");
  const fatal = new Error("fatal");
  let calls = 0;
  await assert.rejects(
    retry(() => Promise.reject(++calls === 1 ? transient : fatal), {
      ...TINY,
      shouldRetry: (error) => error === transient,
    }),
    (error) => error === fatal,
  );
  assert.equal(calls, 2);
});

// --- delay --------------------------------------------------------------------------------------

Deno.test("delay resolves after the time has passed", async () => {
  assert.equal(await delay(1), undefined);
});

Deno.test("delay rejects immediately on an aborted signal", async () => {
  const reason = new Error("stopped");
  await assert.rejects(
    delay(60_000, { signal: AbortSignal.abort(reason) }),
    (error) => error === reason,
  );
});

Deno.test("delay rejects with the reason when the signal aborts while waiting", async () => {
  const controller = new AbortController();
  const reason = new Error("stopped");
  const waiting = delay(60_000, { signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);
});

Deno.test("delay resolves when given a signal that never aborts", async () => {
  const controller = new AbortController();
  assert.equal(await delay(1, { signal: controller.signal }), undefined);
});
