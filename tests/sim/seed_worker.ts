/**
 * A Deno worker that runs a share of the seeds (every `stride`-th from `first`) and posts each
 * result back; `main.ts` starts one per core.
 */
/// <reference lib="deno.worker" />
import { runSeed } from "./run_seed.ts";
import type { Family } from "./faults.ts";

/** The job a worker gets. */
export interface SeedJob {
  readonly first: number;
  readonly count: number;
  readonly stride: number;
  readonly families: readonly Family[];
  readonly journalDir: string;
}

/** What a worker posts per seed; `done` at the end. */
export type SeedReport =
  | {
    readonly kind: "seed";
    readonly seed: number;
    readonly violations: readonly string[];
    readonly summary: string;
    readonly steps: number;
    readonly recoveryMs?: number;
  }
  | { readonly kind: "done" };

self.onmessage = async (event: MessageEvent<SeedJob>) => {
  const { first, count, stride, families, journalDir } = event.data;
  for (let i = 0; i < count; i++) {
    const seed = first + i * stride;
    const result = await runSeed({ seed, families, journalDir });
    const report: SeedReport = {
      kind: "seed",
      seed,
      violations: result.violations,
      summary: result.summary,
      steps: result.steps,
      recoveryMs: result.recoveryMs,
    };
    self.postMessage(report);
  }
  self.postMessage({ kind: "done" } satisfies SeedReport);
};
