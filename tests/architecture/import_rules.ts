/**
 * The import directions of ARCHITECTURE.md as data, and a pure checker over import statements.
 * Every folder of lib/ belongs to one part; a part may import only the parts it lists. The pure
 * decisions are files with a stricter rule of their own: they import only lib/common and each other.
 */

const BELOW_ADAPTERS = ["common", "config"];
const ADAPTERS = ["zookeeper", "grpc"];
const RECIPE = ["election", "fencing", "tasks"];
const BELOW_CLI = [...BELOW_ADAPTERS, ...ADAPTERS, ...RECIPE, "nodes"];

/** The parts of lib/, by folder, and what each may import (itself always). */
export const PARTS: Readonly<Record<string, readonly string[]>> = {
  common: [],
  config: ["common"],
  // Adapters: one per callback library. They know ZooKeeper or gRPC, never the recipe.
  zookeeper: BELOW_ADAPTERS,
  grpc: BELOW_ADAPTERS,
  // The recipe: election, fencing and tasks, built on the adapters; they may use each other.
  election: [...BELOW_ADAPTERS, ...ADAPTERS, ...RECIPE],
  fencing: [...BELOW_ADAPTERS, ...ADAPTERS, ...RECIPE],
  tasks: [...BELOW_ADAPTERS, ...ADAPTERS, ...RECIPE],
  // The processes: wiring of the recipe and the adapters.
  nodes: [...BELOW_ADAPTERS, ...ADAPTERS, ...RECIPE],
  // The CLI layer: the lab and the dashboard may use everything, and each other.
  lab: [...BELOW_CLI, "dashboard"],
  dashboard: [...BELOW_CLI, "lab"],
};

/** The pure decisions: no adapter, no clock, no I/O; they import only lib/common and each other. */
export const PURE_MODULES: readonly string[] = [
  "lib/election/decisions.ts",
  "lib/fencing/rules.ts",
  "lib/zookeeper/lease.ts",
];

/** One import that breaks a rule, with the rule it breaks. */
export interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: string;
}

/** The specifiers of every static, type-only, re-export and dynamic import in `source`. */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const patterns = [
    /\b(?:import|export)\s[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((match) => match[1]));
}

/** `specifier` imported by `from` (both relative to the project root), as a root-relative path. */
export function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return undefined; // npm:, node:
  const parts = from.split("/").slice(0, -1);
  for (const segment of specifier.split("/")) {
    if (segment === "..") parts.pop();
    else if (segment !== ".") parts.push(segment);
  }
  return parts.join("/");
}

/** The part a lib/ file belongs to: its first folder below lib/. */
export function partOf(path: string): string | undefined {
  const match = /^lib\/([^/]+)\//.exec(path);
  return match?.[1];
}

/** Every import among `files` (root-relative path to source text) that breaks a rule. */
export function findViolations(files: ReadonlyMap<string, string>): Violation[] {
  const violations: Violation[] = [];
  for (const [from, source] of files) {
    const fromPart = partOf(from);
    if (fromPart === undefined || !(fromPart in PARTS)) {
      violations.push({
        from,
        to: from,
        rule: `every file of lib/ sits in a part folder (${Object.keys(PARTS).join(", ")}); ` +
          `a new part needs a line in ARCHITECTURE.md and in PARTS (tests/architecture/import_rules.ts)`,
      });
      continue;
    }
    for (const specifier of importSpecifiers(source)) {
      const to = resolveSpecifier(from, specifier);
      if (to === undefined) continue;
      if (!to.startsWith("lib/")) {
        violations.push({ from, to, rule: "lib/ imports nothing outside lib/" });
        continue;
      }
      const toPart = partOf(to) ?? "";
      if (toPart !== fromPart && !PARTS[fromPart].includes(toPart)) {
        violations.push({
          from,
          to,
          rule: `lib/${fromPart} may import only ${
            [fromPart, ...PARTS[fromPart]].map((part) => `lib/${part}`).join(", ")
          }`,
        });
      } else if (PURE_MODULES.includes(from) && toPart !== "common" && !PURE_MODULES.includes(to)) {
        violations.push({
          from,
          to,
          rule: "a pure decision imports only lib/common and other pure decisions",
        });
      }
    }
  }
  return violations;
}
