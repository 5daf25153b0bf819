/**
 * Reads a V8 `.cpuprofile` (what `deno run --cpu-prof` writes) into a table of the functions with
 * the most self time, and the same per package, so a profile can be read without a browser.
 */

/** A V8 CPU profile, as much of it as the summary reads. */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: {
      readonly functionName: string;
      readonly url: string;
      readonly lineNumber: number;
    };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a script lives, shortened: `grpc-js/1.14.7/build/src/server.js`, `lib/grpc/grpc.ts`. */
function shortUrl(url: string): string {
  const npm = /\/npm\/registry\.npmjs\.org\/(.+)$/.exec(url) ??
    /\/node_modules\/(.+)$/.exec(url);
  if (npm) return npm[1];
  const repo = /\/(lib|bench|tests)\/(.+)$/.exec(url);
  if (repo) return `${repo[1]}/${repo[2]}`;
  return url.replace(/^.*\/ext:/, "ext:") || "(native)";
}

/** The package or area of a short url: `@grpc/grpc-js`, `lib`, `ext:deno_node`. */
function areaOf(short: string): string {
  if (short.startsWith("@")) return short.split("/").slice(0, 2).join("/");
  if (short.startsWith("ext:")) return short.split("/")[0];
  return short.split("/")[0];
}

/** The top `top` functions and areas by self time, as text. */
export function summarizeProfile(profile: CpuProfile, options: { top: number }): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    totalUs += delta;
  });
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const short = shortUrl(url);
    const key = `${functionName || "(anonymous)"} ${short}:${lineNumber + 1}`;
    functions.set(key, (functions.get(key) ?? 0) + us);
    const area = url ? areaOf(short) : functionName;
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const rows = (map: Map<string, number>) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, options.top).map(([key, us]) =>
      `${(us / 1000).toFixed(0).padStart(7)} ms ${
        (100 * us / totalUs).toFixed(1).padStart(5)
      } %  ${key}`
    ).join("\n");
  return `total ${(totalUs / 1000).toFixed(0)} ms sampled\n-- by area\n${
    rows(areas)
  }\n-- by function\n${rows(functions)}`;
}
