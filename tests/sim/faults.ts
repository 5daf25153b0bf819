/**
 * The faults, by family, and a seeded plan of them for one run. Each fault happens at a random
 * time of the fault window and, if it lasts, heals by itself; the run's quiet point is when the
 * last one has healed. Families are enabled by name, so a family whose bug is not fixed on main
 * yet can stay off (see FAMILIES_ON_BY_DEFAULT) while the others run.
 */
import type { Prng } from "./prng.ts";

/** Every family the simulation knows. */
export const FAMILIES = [
  "disconnect",
  "partition",
  "rpc-partition",
  "rpc-loss",
  "isolated-leader",
  "pause",
  "pause-mid-check",
  "delete-node",
  "wipe-path",
  "junk",
  "lag",
  "server-restart",
  "lost-reply",
  "data-loss",
  "worker-restart",
  "worker-restart-no-journal",
  "master-stop",
  "master-crash",
  "capped-timeout",
] as const;

/** A fault family's name. */
export type Family = typeof FAMILIES[number];

/**
 * The families that find a bug main has not fixed yet (see FAMILIES_ON_BY_DEFAULT). data-loss:
 * a worker that crashes before it learns of a new ensemble and restarts with its old journal
 * refuses the new leader forever (about 2 seeds in 1000 of --families all, e.g. seed 489).
 */
const OFF_UNTIL_FIXED: ReadonlySet<Family> = new Set<Family>([]);

/** The families `deno task test:sim` runs unless told otherwise: those the code on main survives. */
export const FAMILIES_ON_BY_DEFAULT: readonly Family[] = FAMILIES.filter((family) =>
  !OFF_UNTIL_FIXED.has(family)
);

/** One planned fault. */
export interface PlannedFault {
  readonly family: Family;
  readonly at: number;
  /** How long it lasts (0 for instant ones). */
  readonly durationMs: number;
  /** Which process or server it hits, as an index the run maps to one. */
  readonly target: number;
  /** A family-specific choice (e.g. what junk, which master to delete). */
  readonly variant: number;
}

/** The faults of one run: 1-4 of the enabled families in [fromMs, toMs). */
export function planFaults(
  random: Prng,
  families: readonly Family[],
  options: { fromMs: number; toMs: number; sessionTimeoutMs: number },
): PlannedFault[] {
  const instant = families.filter((f) => f !== "capped-timeout");
  if (instant.length === 0) return [];
  const count = 1 + random.int(4);
  const faults: PlannedFault[] = [];
  const t = options.sessionTimeoutMs;
  for (let i = 0; i < count; i++) {
    const family = random.pick(instant);
    const at = random.between(options.fromMs, options.toMs);
    const durationMs = durationOf(family, random, t);
    faults.push({
      family,
      at,
      durationMs,
      target: random.int(1 << 16),
      variant: random.int(1 << 16),
    });
  }
  return faults.sort((a, b) => a.at - b.at);
}

function durationOf(family: Family, random: Prng, t: number): number {
  switch (family) {
    case "partition":
    case "rpc-partition":
      // Short blips, about the read timeout, and past the session timeout (the session expires).
      return random.pick([
        random.between(50, 400),
        random.between(0.5 * t, 1.1 * t),
        random.between(1.2 * t, 3 * t),
      ]);
    case "pause-mid-check":
      return random.between(0.7 * t, 1.5 * t);
    case "pause":
      return random.pick([
        random.between(20, 300),
        random.between(0.4 * t, 0.9 * t),
        random.between(1.1 * t, 3 * t),
      ]);
    case "isolated-leader":
      return random.between(1.2 * t, 2.5 * t);
    case "rpc-loss":
    case "lag":
      return random.between(200, 2 * t);
    case "worker-restart":
    case "worker-restart-no-journal":
    case "master-stop":
    case "master-crash":
      return random.between(5, 1.5 * t);
    default:
      return 0;
  }
}
