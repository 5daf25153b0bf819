/**
 * The load loop every RPC client of the bench runs, under Node.js and under Deno alike, so the
 * two sides are measured by the same code: `concurrency` loops each keep one call in flight; a
 * warm-up phase (discarded) lets the JIT and the connection settle; then every call's latency is
 * recorded for `durationMs`. Plain JavaScript with no imports, so Node runs it as is.
 */

/**
 * @typedef {object} LoadOptions
 * @property {number} concurrency Calls kept in flight at once.
 * @property {number} warmupMs How long to run before measuring.
 * @property {number} durationMs How long to measure.
 */

/**
 * @typedef {object} LoadResult
 * @property {number} calls Calls completed in the measured phase.
 * @property {number} errors Calls that failed in the measured phase.
 * @property {number} elapsedMs From the first measured call to the last answer.
 * @property {number} callsPerSecond Completed calls per second.
 * @property {number} p50Ms
 * @property {number} p90Ms
 * @property {number} p99Ms
 * @property {number} maxMs
 * @property {string} [firstError]
 */

/**
 * Runs `callOnce(sequence)` as described in the module comment; `sequence` is unique per call.
 * @param {(sequence: number) => Promise<unknown>} callOnce
 * @param {LoadOptions} options
 * @returns {Promise<LoadResult>}
 */
export async function runLoad(callOnce, options) {
  const { concurrency, warmupMs, durationMs } = options;
  let sequence = 0;
  /** @param {number} untilMs @param {number[] | undefined} latencies @param {{errors: number, first?: string}} failures */
  const loop = async (untilMs, latencies, failures) => {
    while (performance.now() < untilMs) {
      const startedAt = performance.now();
      try {
        await callOnce(sequence++);
        latencies?.push(performance.now() - startedAt);
      } catch (error) {
        failures.errors++;
        failures.first ??= String(error?.message ?? error);
      }
    }
  };
  const phase = (ms, latencies, failures) => {
    const until = performance.now() + ms;
    return Promise.all(Array.from({ length: concurrency }, () => loop(until, latencies, failures)));
  };
  await phase(warmupMs, undefined, { errors: 0 });
  /** @type {number[]} */
  const latencies = [];
  const failures = { errors: 0, first: undefined };
  const startedAt = performance.now();
  await phase(durationMs, latencies, failures);
  const elapsedMs = performance.now() - startedAt;
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies.length ? latencies[Math.ceil(q * latencies.length) - 1] : NaN;
  return {
    calls: latencies.length,
    errors: failures.errors,
    elapsedMs,
    callsPerSecond: latencies.length / (elapsedMs / 1000),
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p99Ms: at(0.99),
    maxMs: latencies.at(-1) ?? NaN,
    ...(failures.first ? { firstError: failures.first } : {}),
  };
}

/**
 * Reads `--name=value` arguments into an object of strings.
 * @param {string[]} args
 * @returns {Record<string, string>}
 */
export function parseArgs(args) {
  return Object.fromEntries(args.map((arg) => {
    const match = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (!match) throw new Error(`Cannot parse argument "${arg}": expected --name=value`);
    return [match[1], match[2]];
  }));
}

/** The line a client prints with its result, so the bench can find it among other output. */
export const RESULT_TAG = "bench-result";
