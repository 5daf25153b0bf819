import { runSeed } from "./run_seed.ts";
import { FAMILIES_ON_BY_DEFAULT } from "./faults.ts";
const dir = await Deno.makeTempDir();
const seed = Number(Deno.args[0] ?? 1);
const n = Number(Deno.args[1] ?? 1);
const t0 = performance.now();
let fails = 0, steps = 0;
const rec: number[] = [];
for (let s = seed; s < seed + n; s++) {
  const r = await runSeed({
    seed: s,
    families: FAMILIES_ON_BY_DEFAULT,
    journalDir: dir,
    trace: n === 1,
  });
  steps += r.steps;
  if (r.recoveryMs !== undefined) rec.push(r.recoveryMs);
  if (r.violations.length) {
    fails++;
    console.log(s, r.summary, r.violations[0]);
  }
  if (n === 1) console.log(r.trace.join("\n"));
}
const dt = (performance.now() - t0) / 1000;
rec.sort((a, b) => a - b);
console.log(
  `${n} seeds ${fails} failed in ${dt.toFixed(1)} s, ${(n / dt).toFixed(1)} seeds/s, ${
    (steps / n).toFixed(0)
  } steps/seed; recovery p50 ${rec[rec.length >> 1]?.toFixed(0)} max ${rec.at(-1)?.toFixed(0)}`,
);
Deno.exit(0);
