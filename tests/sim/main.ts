/**
 * `deno task test:sim`: runs many seeds of the deterministic simulation on all cores and prints
 * the seed range, the speed and a last line `sim: N passed, N failed`; for a failing seed, its
 * violation, its readable trace and the command that replays it exactly.
 *
 *   deno task test:sim                      2000 seeds from a random start
 *   deno task test:sim --seeds 10000        more seeds
 *   deno task test:sim --start 1            a fixed range
 *   deno task test:sim --seed 4242          replay one seed, printing its whole trace
 *   deno task test:sim --families pause,lag only these fault families (--families all: every one)
 *   deno task test:sim --workers 1          one process (default: 2)
 */
import { parseArgs } from "node:util";
import { FAMILIES, FAMILIES_ON_BY_DEFAULT, type Family } from "./faults.ts";
import { runSeed } from "./run_seed.ts";
import type { SeedJob, SeedReport } from "./seed_worker.ts";

/** Parses the command line; throws a clear error for a bad value. */
export function parseSimArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      seeds: { type: "string", default: "2000" },
      start: { type: "string" },
      seed: { type: "string" },
      families: { type: "string" },
      workers: { type: "string", default: "2" },
    },
  });
  const integer = (name: string, text: string | undefined, min: number) => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || !Number.isSafeInteger(value)) {
      throw new Error(
        `Cannot run the simulation: "--${name}" must be an integer of at least ${min}: got "${text}"`,
      );
    }
    return value;
  };
  let families: readonly Family[] = FAMILIES_ON_BY_DEFAULT;
  if (values.families === "all") families = FAMILIES;
  else if (values.families !== undefined) {
    const names = values.families.split(",").map((name) => name.trim()).filter(Boolean);
    const unknown = names.filter((name) => !(FAMILIES as readonly string[]).includes(name));
    if (unknown.length > 0) {
      throw new Error(
        `Cannot run the simulation: unknown fault family "${
          unknown[0]
        }" in "--families": known ones are ${FAMILIES.join(", ")}`,
      );
    }
    families = names as Family[];
  }
  return {
    seeds: integer("seeds", values.seeds, 1)!,
    start: integer("start", values.start, 0) ?? Math.floor(Math.random() * 1_000_000_000),
    seed: integer("seed", values.seed, 0),
    workers: integer("workers", values.workers, 1)!,
    families,
  };
}

/** CPU seconds this process has used (all its threads), or undefined where /proc is missing. */
function cpuSeconds(): number | undefined {
  try {
    const fields = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks
  } catch {
    return undefined;
  }
}

function percentile(sorted: number[], p: number): string {
  if (sorted.length === 0) return "-";
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))].toFixed(0);
}

async function replay(
  seed: number,
  families: readonly Family[],
  journalDir: string,
): Promise<boolean> {
  const result = await runSeed({ seed, families, journalDir, trace: true });
  console.log(result.trace.join("\n"));
  for (const violation of result.violations) console.log(`VIOLATION ${violation}`);
  console.log(
    `sim: seed ${seed}: ${
      result.violations.length === 0 ? "passed" : "failed"
    } (${result.steps} steps, ${result.simulatedMs.toFixed(0)} simulated ms)`,
  );
  return result.violations.length === 0;
}

async function main(): Promise<number> {
  const options = parseSimArgs(Deno.args);
  const journalDir = await Deno.makeTempDir({ prefix: "zk-lab-sim-" });
  const familyFlag = options.families === FAMILIES_ON_BY_DEFAULT
    ? ""
    : ` --families ${options.families.join(",")}`;
  try {
    if (options.seed !== undefined) {
      const passed = await replay(options.seed, options.families, journalDir);
      console.log(`sim: ${passed ? 1 : 0} passed, ${passed ? 0 : 1} failed`);
      return passed ? 0 : 1;
    }
    const { seeds, start, workers } = options;
    const last = start + seeds - 1;
    console.log(
      `sim: seeds ${start}..${last}, ${workers} worker(s), families: ${
        options.families.join(", ")
      }`,
    );
    const began = performance.now();
    const cpuBefore = cpuSeconds();
    const failures: Extract<SeedReport, { kind: "seed" }>[] = [];
    const recovery: number[] = [];
    let done = 0, steps = 0;
    await Promise.all(
      Array.from(
        { length: Math.min(workers, seeds) },
        (_, index) =>
          new Promise<void>((resolve, reject) => {
            const worker = new Worker(new URL("./seed_worker.ts", import.meta.url).href, {
              type: "module",
            });
            worker.onerror = (event) => {
              event.preventDefault();
              reject(new Error(`A simulation worker failed: ${event.message}`));
            };
            worker.onmessage = (event: MessageEvent<SeedReport>) => {
              const report = event.data;
              if (report.kind === "done") {
                worker.terminate();
                return resolve();
              }
              done++;
              steps += report.steps;
              if (report.recoveryMs !== undefined) {
                recovery.push(report.recoveryMs);
              }
              if (report.violations.length > 0) {
                failures.push(report);
                console.log(`sim: seed ${report.seed} FAILED: ${report.violations[0]}`);
                console.log(`     ${report.summary}`);
              }
              if (done % 1000 === 0) console.log(`sim: ${done}/${seeds} seeds...`);
            };
            const count = Math.floor((seeds - 1 - index) / workers) + 1;
            worker.postMessage(
              {
                first: start + index,
                count,
                stride: workers,
                families: options.families,
                journalDir,
              } satisfies SeedJob,
            );
          }),
      ),
    );
    const seconds = (performance.now() - began) / 1000;
    const cpuAfter = cpuSeconds();
    const cpu = cpuBefore !== undefined && cpuAfter !== undefined
      ? ` (${(cpuAfter - cpuBefore).toFixed(1)} CPU s: ${
        (seeds / (cpuAfter - cpuBefore)).toFixed(1)
      } seeds per CPU s)`
      : "";
    recovery.sort((a, b) => a - b);
    console.log(
      `sim: ${seeds} seeds in ${seconds.toFixed(1)} s: ${
        (seeds / seconds).toFixed(1)
      } seeds/s${cpu}, ` +
        `${Math.round(steps / seeds)} steps per seed; recovery after the last fault p50 ${
          percentile(recovery, 0.5)
        } ms, ` +
        `p99 ${percentile(recovery, 0.99)} ms, max ${percentile(recovery, 1)} ms`,
    );
    if (failures.length > 0) {
      failures.sort((a, b) => a.seed - b.seed);
      const first = failures[0];
      console.log(`sim: the trace of seed ${first.seed}, the first that failed:`);
      await replay(first.seed, options.families, journalDir);
      console.log(
        `sim: failing seeds: ${failures.map((f) => f.seed).slice(0, 20).join(", ")}${
          failures.length > 20 ? ", ..." : ""
        }`,
      );
      console.log(`sim: replay one with: deno task test:sim --seed ${first.seed}${familyFlag}`);
    }
    console.log(`sim: ${seeds - failures.length} passed, ${failures.length} failed`);
    return failures.length === 0 ? 0 : 1;
  } finally {
    await Deno.remove(journalDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
