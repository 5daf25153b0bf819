/**
 * ARCHITECTURE.md's import directions, checked over the import statements of every lib/**.ts:
 * lib/common imports nothing in lib; the pure decisions import no adapter; adapters never import
 * the recipe or the nodes; nothing below the CLI (lib/lab, lib/dashboard) imports it.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { findViolations, importSpecifiers, type Violation } from "./import_rules.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Imports that break a rule today and are being removed, as [from, to] with a comment saying by
 * whom; the last test fails once an entry is no longer needed. Empty: keep it so.
 */
const KNOWN_EXCEPTIONS: readonly (readonly [string, string])[] = [];

async function libSources(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for await (const entry of Deno.readDir(`${ROOT}${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile && /\.tsx?$/.test(entry.name)) {
        files.set(path, await Deno.readTextFile(`${ROOT}${path}`));
      }
    }
  };
  await walk("lib");
  return files;
}

function isKnown(violation: Violation): boolean {
  return KNOWN_EXCEPTIONS.some(([from, to]) => violation.from === from && violation.to === to);
}

function describe(violations: readonly Violation[]): string {
  return violations.map(({ from, to, rule }) => `${from} -> ${to}: ${rule}`).join("\n");
}

Deno.test("lib imports follow ARCHITECTURE.md's directions", async () => {
  const files = await libSources();
  assert.ok(files.size > 30, `expected the lib/ sources, found ${files.size} files`);
  const broken = findViolations(files).filter((violation) => !isKnown(violation));
  assert.equal(broken.length, 0, `Imports against ARCHITECTURE.md:\n${describe(broken)}`);
});

Deno.test("import rules report each forbidden direction", () => {
  const files = new Map([
    ["lib/common/wait.ts", 'import { x } from "../config/config.ts";'],
    ["lib/zookeeper/client.ts", 'import type { Candidate } from "../election/decisions.ts";'],
    ["lib/grpc/grpc.ts", 'export { runMaster } from "../nodes/master.ts";'],
    ["lib/election/decisions.ts", 'import { connectZk } from "../zookeeper/client.ts";'],
    ["lib/nodes/worker.ts", 'const cli = await import("../lab/cli.ts");'],
    ["lib/tasks/ledger.ts", 'import {\n  LabError,\n} from "../lab/backend.ts";'],
    ["lib/config/config.ts", 'import { freePort } from "../../tests/harness/ports.ts";'],
    ["lib/stray.ts", ""],
  ]);
  assert.deepEqual(findViolations(files).map(({ from, to }) => `${from} -> ${to}`), [
    "lib/common/wait.ts -> lib/config/config.ts",
    "lib/zookeeper/client.ts -> lib/election/decisions.ts",
    "lib/grpc/grpc.ts -> lib/nodes/master.ts",
    "lib/election/decisions.ts -> lib/zookeeper/client.ts",
    "lib/nodes/worker.ts -> lib/lab/cli.ts",
    "lib/tasks/ledger.ts -> lib/lab/backend.ts",
    "lib/config/config.ts -> tests/harness/ports.ts",
    "lib/stray.ts -> lib/stray.ts",
  ]);
});

Deno.test("import rules allow the planned placements", () => {
  const files = new Map([
    ["lib/common/clock.ts", 'import { delay } from "./wait.ts";'],
    ["lib/zookeeper/lease.ts", ""],
    ["lib/zookeeper/session.ts", 'import { readTimeoutMs } from "./lease.ts";'],
    ["lib/election/decisions.ts", 'import { leaseHolds } from "../zookeeper/lease.ts";'],
    ["lib/nodes/master/handlers.ts", 'import { retry } from "../../common/backoff.ts";'],
    ["lib/config/tls.ts", 'import type { Env } from "./config.ts";'],
    ["lib/grpc/credentials.ts", 'import type { TlsConfig } from "../config/tls.ts";'],
    ["lib/dashboard/server.ts", 'import { chooseBackend } from "../lab/choose_backend.ts";'],
    ["lib/lab/cli.ts", 'import { serveDashboard } from "../dashboard/server.ts";'],
  ]);
  assert.deepEqual(findViolations(files), []);
});

Deno.test("importSpecifiers finds multi-line, type-only and dynamic imports, not comments", () => {
  const source = [
    "// import { a } from './commented.ts';",
    "/* import { b } from './block.ts'; */",
    'import type {\n  C,\n  D,\n} from "./multi.ts";',
    'export * from "./reexport.ts";',
    'import "./side_effect.ts";',
    'const m = await import("./dynamic.ts");',
    'import zookeeper from "node-zookeeper-client";',
  ].join("\n");
  assert.deepEqual(importSpecifiers(source).sort(), [
    "./dynamic.ts",
    "./multi.ts",
    "./reexport.ts",
    "./side_effect.ts",
    "node-zookeeper-client",
  ]);
});

Deno.test("every known exception is still needed", async () => {
  const violations = findViolations(await libSources());
  for (const [from, to] of KNOWN_EXCEPTIONS) {
    assert.ok(
      violations.some((violation) => violation.from === from && violation.to === to),
      `${from} no longer imports ${to}: remove it from KNOWN_EXCEPTIONS`,
    );
  }
});
