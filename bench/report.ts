/** The tables a bench run prints for people, in the order of issue 5. */
import Table from "cli-table3";
import { type BenchResults, ok, rankedPeers } from "./results.ts";
import { RPC_CASES, type RpcCase, type RpcMode } from "./rpc.ts";
import type { ScalingRow } from "./scaling.ts";
import { round, type Summary } from "./stats.ts";

function table(title: string, head: string[], rows: (string | number | null)[][]): string {
  const output = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) output.push(row.map((cell) => cell === null ? "—" : String(cell)));
  return `${title}\n${output.toString()}`;
}

function summaryRow(name: string, summary: Summary): (string | number | null)[] {
  return [
    name,
    summary.n,
    round(summary.p50, 1),
    round(summary.p90, 1),
    round(summary.p99, 1),
    round(summary.max, 1),
  ];
}

/** The six measured cells of an RPC row: calls/s, p50 and p99, sequential then concurrent. */
function measuredCells(
  row: Record<RpcMode, { callsPerSecond: number; p50Ms: number; p99Ms: number }>,
): (number | null)[] {
  return (["sequential", "concurrent"] as const).flatMap((mode) => [
    round(row[mode].callsPerSecond, 0),
    round(row[mode].p50Ms, 2),
    round(row[mode].p99Ms, 2),
  ]);
}

function failed(title: string, section: { error: string }): string {
  return `${title}\n  not measured: ${section.error}`;
}

/** The tables for people, in the order of issue 5. */
export function renderReport(results: BenchResults): string {
  const parts: string[] = [];
  const m = results.machine;
  parts.push(
    `Bench ${results.quick ? "(--quick) " : ""}${results.date}: ${m.cpus} CPUs (${m.cpuModel}), ` +
      `load ${m.loadAverageAtStart.join(" ")} at start; Deno ${m.deno.deno} (V8 ${m.deno.v8}), ` +
      `Node ${results.nodeVersion}, ZooKeeper ${m.zookeeper} (tick ${m.zookeeperTickMs} ms)`,
  );
  const head = ["ms", "n", "p50", "p90", "p99", "max"];
  const failoverRows: (string | number | null)[][] = [];
  const clean = results.cleanFailover;
  if (clean && "error" in clean) parts.push(failed("1. Clean failover", clean));
  if (clean && !("error" in clean)) {
    failoverRows.push(
      summaryRow("clean: SIGTERM → leader's node gone", clean.nodeGone),
      summaryRow("clean: SIGTERM → new leader decided", clean.decided),
      summaryRow("clean: SIGTERM → worker accepted it (failover)", clean.accepted),
      summaryRow("clean: SIGTERM → new leader got the reply", clean.confirmed),
      summaryRow("clean: node gone → worker accepted", clean.handover),
    );
    if (clean.acceptedLine) {
      failoverRows.push(
        summaryRow("clean: SIGTERM → worker's accepted line read here", clean.acceptedLine),
      );
    }
  }
  for (const crash of results.crashFailover) {
    if ("error" in crash) {
      parts.push(failed("2. Crash failover", crash));
      continue;
    }
    const timeout = crash.sessionTimeoutMs;
    failoverRows.push(
      summaryRow(`crash ${timeout}: SIGKILL → node gone, minus ${timeout}`, crash.nodeGone),
      summaryRow(`crash ${timeout}: SIGKILL → decided, minus ${timeout}`, crash.decided),
      summaryRow(`crash ${timeout}: SIGKILL → worker accepted, minus ${timeout}`, crash.accepted),
      summaryRow(`crash ${timeout}: node gone → worker accepted`, crash.handover),
    );
  }
  if (failoverRows.length) parts.push(table("1–2. Failover", head, failoverRows));
  const peerTable = renderPeers(results);
  if (peerTable) parts.push(peerTable);

  const rpc = results.rpc;
  if (rpc && "error" in rpc) parts.push(failed("3–4. RPC", rpc));
  if (rpc && !("error" in rpc)) {
    const labels: Record<RpcCase, string> = {
      lab: "lab: Deno client → worker PerformTask",
      node: "baseline: bare grpc-js, Node",
      denoBare: "same bare files under Deno",
      submit: "client path: SubmitTask → leader → worker",
      labTls: "lab over mutual TLS",
      nodeTls: "baseline over mutual TLS, Node",
      denoBareTls: "bare files over mutual TLS, Deno",
    };
    const plaintextCases = RPC_CASES.filter((rpcCase) => !rpcCase.endsWith("Tls"));
    const rows = plaintextCases.map((rpcCase) => {
      const row = rpc.cases[rpcCase];
      const ratio = (mode: RpcMode) => round(row[mode].ratioToNode, 2);
      return [
        labels[rpcCase],
        ...measuredCells(row),
        `${ratio("sequential")}× / ${ratio("concurrent")}×`,
        `${round(row.sequential.ratioToDenoBare, 2)}× / ${
          round(row.concurrent.ratioToDenoBare, 2)
        }×`,
        row.sequential.errors + row.concurrent.errors,
      ];
    });
    parts.push(table(
      `3–4. RPC (medians of ${rpc.repetitions} runs of ${rpc.durationMs} ms each)`,
      [
        "case",
        "seq calls/s",
        "p50",
        "p99",
        `c${rpc.concurrency} calls/s`,
        "p50",
        "p99",
        "vs Node",
        "vs bare Deno",
        "errors",
      ],
      rows,
    ));
    const tlsRows = RPC_CASES.filter((rpcCase) => rpcCase.endsWith("Tls")).map((rpcCase) => {
      // A results file from before the TLS cases has none of them.
      const row = rpc.cases[rpcCase];
      if (!row) return undefined;
      const ratio = (mode: RpcMode, key: "ratioToPlaintext" | "ratioToNode") =>
        round(row[mode][key] ?? NaN, 2);
      return [
        labels[rpcCase],
        ...measuredCells(row),
        `${ratio("sequential", "ratioToPlaintext")}× / ${ratio("concurrent", "ratioToPlaintext")}×`,
        `${ratio("sequential", "ratioToNode")}× / ${ratio("concurrent", "ratioToNode")}×`,
        row.sequential.errors + row.concurrent.errors,
      ];
    }).filter((row) => row !== undefined);
    if (tlsRows.length) {
      parts.push(table(
        "3–4b. RPC over mutual TLS (same runs; the same certificates for Deno and Node)",
        [
          "case",
          "seq calls/s",
          "p50",
          "p99",
          `c${rpc.concurrency} calls/s`,
          "p50",
          "p99",
          "vs plaintext",
          "vs Node mTLS",
          "errors",
        ],
        tlsRows,
      ));
    }
  }

  const idle = results.idle;
  if (idle && "error" in idle) parts.push(failed("5. Idle", idle));
  if (idle && !("error" in idle)) {
    parts.push(table(
      `5. Idle (${idle.windowMs / 1000} s)`,
      ["process", "CPU %", "CPU ms", "RSS MiB", "lines printed"],
      idle.processes.map((
        p,
      ) => [p.name, round(p.cpuPercent, 2), round(p.cpuMs, 0), round(p.rssMiB, 1), p.linesPrinted]),
    ));
  }

  const startup = results.startup;
  if (startup && "error" in startup) parts.push(failed("6. Start-up", startup));
  if (startup && !("error" in startup)) {
    parts.push(table(
      "6. Start-up (ZooKeeper up; worker and 2 masters launched together)",
      ["ms from launch", "n", "p50", "p90", "p99", "max"],
      [
        summaryRow("worker serving", startup.summary.workerServing),
        summaryRow("first leader decided", startup.summary.decided),
        summaryRow("worker accepted it", startup.summary.accepted),
      ],
    ));
  }

  const scaling = results.scaling;
  if (scaling && "error" in scaling) parts.push(failed("7. How the cost grows", scaling));
  if (scaling && !("error" in scaling)) parts.push(renderScaling(scaling));

  parts.push(table(
    "Targets (issues 5 and 9)",
    ["figure", "measured", "target", "verdict"],
    (results.targets ?? []).map((t) => [t.figure, t.measured, t.target, t.met ? "met" : "MISSED"]),
  ));
  const load = Object.entries(results.sectionLoad)
    .map(([name, value]) => `${name} ${round(value.foreignCpuPercent, 0)} %`).join(", ");
  parts.push(`Other work on the machine (share of all ${m.cpus} cores): ${load}`);
  parts.push(`How measured:\n${results.howMeasured.map((line) => `- ${line}`).join("\n")}`);
  return parts.join("\n\n");
}

/** Ours beside the peers (issue 9), with the ratio to the best; undefined without a clean run. */
function renderPeers(results: BenchResults): string | undefined {
  const clean = ok(results.cleanFailover);
  if (!clean || !results.peers) return undefined;
  const rows: (string | number | null)[][] = [
    summaryRow("ours: SIGTERM → worker accepted the new leader", clean.accepted),
    summaryRow("ours: SIGTERM → new leader decided (no RPC)", clean.decided),
    ...(clean.acceptedLine
      ? [summaryRow("ours: the worker's accepted line read here", clean.acceptedLine)]
      : []),
  ];
  const notes: string[] = [];
  for (const [name, section] of Object.entries(results.peers)) {
    if (!section) continue;
    if ("callback" in section) {
      rows.push(summaryRow(`${section.version}: SIGTERM → other's callback`, section.callback));
      if (clean.acceptedLine) {
        rows.push(summaryRow(`${section.version}: the callback's line read here`, section.line));
      }
    } else {
      notes.push(
        `  ${name} not measured: ${"skipped" in section ? section.skipped : section.error}`,
      );
    }
  }
  const best = rankedPeers(results.peers)[0];
  if (best) {
    const ratio = (ours: number, peer: number) => round(ours / peer, 2);
    const b = best.figures.callback;
    const a = clean.accepted;
    rows.push([
      `ratio ours (accepted) / ${best.name}`,
      "",
      ratio(a.p50, b.p50),
      ratio(a.p90, b.p90),
      ratio(a.p99, b.p99),
      ratio(a.max, b.max),
    ]);
  }
  const title = "1a. Clean failover beside the peers (rounds interleaved, one ZooKeeper)";
  return [table(title, ["ms", "n", "p50", "p90", "p99", "max"], rows), ...notes].join("\n");
}

/** Section 7: per number of contenders, ours and kazoo's (medians and p99 of a few rounds). */
function renderScaling(rows: ScalingRow[]): string {
  type Cell = string | number | null;
  // One row per side: its figures, or why there are none (the row keeps the table's width).
  const side = <S extends object>(
    label: string,
    figures: S,
    cells: (f: Exclude<S, { readonly error: string }>) => Cell[],
  ): Cell[] =>
    "error" in figures
      ? [label, `not measured: ${figures.error}`, ...Array(6).fill(null)]
      : [label, ...cells(figures as Exclude<S, { readonly error: string }>)];
  const body: Cell[][] = [];
  for (const row of rows) {
    body.push(side(`ours, ${row.contenders}`, row.ours, (ours) => [
      ours.failover.n,
      round(ours.failover.p50, 1),
      round(ours.failover.p99, 1),
      round(ours.notifications.p50, 0),
      round(ours.workerCpuMs.p50, 0),
      round(ours.successorCpuMs.p50, 0),
      round(ours.otherMastersCpuMs.p50, 0),
    ]));
    if (!row.kazoo) continue;
    body.push(side(`kazoo, ${row.contenders}`, row.kazoo, (kazoo) => [
      kazoo.failover.n,
      round(kazoo.failover.p50, 1),
      round(kazoo.failover.p99, 1),
      round(kazoo.notifications.p50, 0),
      null,
      null,
      null,
    ]));
  }
  return table(
    "7. How the cost grows (clean failovers; CPU ms per leader change, 10 ms resolution)",
    [
      "contenders",
      "n",
      "p50 ms",
      "p99 ms",
      "notifications",
      "worker CPU",
      "successor CPU",
      "other masters CPU",
    ],
    body,
  );
}
