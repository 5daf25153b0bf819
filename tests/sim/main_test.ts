/** Unit tests of the simulation's command line (tests/sim/main.ts). */
import assert from "node:assert/strict";
import { parseSimArgs } from "./main.ts";
import { FAMILIES, FAMILIES_ON_BY_DEFAULT } from "./faults.ts";

Deno.test("parseSimArgs defaults to 2000 seeds on 2 workers with the default families", () => {
  const options = parseSimArgs([]);
  assert.equal(options.seeds, 2000);
  assert.equal(options.workers, 2);
  assert.equal(options.seed, undefined);
  assert.deepEqual(options.families, FAMILIES_ON_BY_DEFAULT);
});

Deno.test("parseSimArgs reads a fixed range, one seed and chosen families", () => {
  const options = parseSimArgs([
    "--seeds",
    "10",
    "--start",
    "5",
    "--seed",
    "42",
    "--families",
    "pause,lag",
  ]);
  assert.deepEqual([options.seeds, options.start, options.seed], [10, 5, 42]);
  assert.deepEqual(options.families, ["pause", "lag"]);
  assert.deepEqual(parseSimArgs(["--families", "all"]).families, FAMILIES);
});

Deno.test("parseSimArgs names the option and the value it cannot use", () => {
  assert.throws(() => parseSimArgs(["--seeds", "many"]), {
    message: 'Cannot run the simulation: "--seeds" must be an integer of at least 1: got "many"',
  });
  assert.throws(() => parseSimArgs(["--families", "pause,earthquake"]), {
    message: /unknown fault family "earthquake" in "--families": known ones are disconnect, /,
  });
});
