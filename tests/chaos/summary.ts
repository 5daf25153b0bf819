/**
 * The chaos suite's summary: what each fault family saw, printed as one Markdown table at the end
 * of the suite (so it can be pasted into the issue as it is).
 */

/** What one fault family saw over its rounds. */
export interface FamilyStats {
  readonly fault: string;
  rounds: number;
  submitted: number;
  completed: number;
  duplicated: number;
  lost: number;
  /** Calls the worker refused because their epoch was stale ("Refused a task from a stale leader"). */
  staleRejected: number;
  /** From each fault to the worker accepting the new leader's epoch. */
  readonly failoversMs: number[];
  /** The longest time a task took to get its answer. */
  longestTaskMs: number;
  /** Calls of the cached-leader clients that a master refused as not the leader. */
  callsToFollowers: number;
  /** "passed", "FAILED" or "skipped: <reason>". */
  result: string;
  /** Facts worth a line under the table, e.g. which ZooKeeper server was killed. */
  readonly notes: string[];
}

/** Collects the families' stats in the order they ran. */
export class ChaosSummary {
  readonly families: FamilyStats[] = [];
  readonly startedAt = performance.now();

  /** Starts the stats of one family; its result is "FAILED" until the family says otherwise. */
  family(fault: string): FamilyStats {
    const stats: FamilyStats = {
      fault,
      rounds: 0,
      submitted: 0,
      completed: 0,
      duplicated: 0,
      lost: 0,
      staleRejected: 0,
      failoversMs: [],
      longestTaskMs: 0,
      callsToFollowers: 0,
      result: "FAILED",
      notes: [],
    };
    this.families.push(stats);
    return stats;
  }
}

/** The summary as a Markdown table (faults in name order), a total row, notes and wall time. */
export function formatSummary(unordered: readonly FamilyStats[], wallTimeMs: number): string {
  const families = [...unordered].sort((a, b) =>
    a.fault.localeCompare(b.fault, "en", { numeric: true })
  );
  const header = [
    "Fault",
    "Rounds",
    "Submitted",
    "Completed",
    "Duplicated",
    "Lost",
    "Stale calls rejected",
    "Failover times (ms)",
    "Longest task (ms)",
    "Result",
  ];
  const sum = (pick: (stats: FamilyStats) => number) =>
    families.reduce((total, stats) => total + pick(stats), 0);
  const allFailovers = families.flatMap((stats) => stats.failoversMs);
  const rows = [
    ...families.map((stats) => [
      stats.fault,
      String(stats.rounds),
      String(stats.submitted),
      String(stats.completed),
      String(stats.duplicated),
      String(stats.lost),
      String(stats.staleRejected),
      stats.failoversMs.length ? stats.failoversMs.map((ms) => Math.round(ms)).join(", ") : "-",
      String(Math.round(stats.longestTaskMs)),
      stats.result,
    ]),
    [
      "**Total**",
      String(sum((s) => s.rounds)),
      String(sum((s) => s.submitted)),
      String(sum((s) => s.completed)),
      String(sum((s) => s.duplicated)),
      String(sum((s) => s.lost)),
      String(sum((s) => s.staleRejected)),
      allFailovers.length
        ? `${allFailovers.length} failovers, ${Math.round(Math.min(...allFailovers))}-${
          Math.round(Math.max(...allFailovers))
        }`
        : "-",
      String(Math.round(Math.max(0, ...families.map((s) => s.longestTaskMs)))),
      families.every((s) => s.result !== "FAILED") ? "passed" : "FAILED",
    ],
  ];
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i].length))
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ")} |`;
  const notes = families.flatMap((stats) => stats.notes.map((note) => `- ${stats.fault}: ${note}`));
  return [
    line(header),
    `|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`,
    ...rows.map(line),
    "",
    "Failover time: from the fault to the worker accepting the new leader's epoch.",
    ...notes,
    `Wall time of the suite: ${(wallTimeMs / 1000).toFixed(1)} s`,
  ].join("\n");
}
