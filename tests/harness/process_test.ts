/**
 * The process harness against small real scripts: what the lab's tests rely on when they wait for
 * log lines, signal processes and clean up.
 */
import assert from "node:assert/strict";
import { spawnLab } from "./process.ts";

/** Writes `source` to a temporary script, runs `body` with its path, and removes it. */
async function withScript(source: string, body: (path: string) => Promise<void>): Promise<void> {
  const path = await Deno.makeTempFile({ prefix: "lab-harness-", suffix: ".ts" });
  try {
    await Deno.writeTextFile(path, source);
    await body(path);
  } finally {
    await Deno.remove(path);
  }
}

Deno.test("spawnLab collects both streams line by line and exited waits for the last line", async () => {
  const source = `
    console.log("out one");
    console.error("err one");
    console.log("color " + Deno.env.get("NO_COLOR") + " given " + Deno.env.get("GIVEN") +
      " parent " + Deno.env.get("LAB_HARNESS_PARENT_ONLY"));
    await Deno.stdout.write(new TextEncoder().encode("no newline at the end"));
  `;
  Deno.env.set("LAB_HARNESS_PARENT_ONLY", "leaked");
  await withScript(source, async (path) => {
    const process = spawnLab(path, { name: "fixture", env: { GIVEN: "yes" } });
    const seen = await process.waitForLine(/^err/);
    assert.equal(seen.text, "err one");
    assert.equal(process.lines[seen.index].stream, "stderr");
    const status = await process.exited;
    assert.equal(status.code, 0);
    assert.equal(process.hasExited, true);
    assert.deepEqual(process.lines.map((line) => line.text).toSorted(), [
      "color 1 given yes parent undefined",
      "err one",
      "no newline at the end",
      "out one",
    ]);
    assert.equal(process.count("one"), 2);
    assert.ok(process.lines.every((line) => line.at <= performance.now()));
  });
});

Deno.test("waitForLine rejects as soon as the process exits without the line", async () => {
  await withScript(`console.log("starting"); Deno.exit(3);`, async (path) => {
    const process = spawnLab(path, { name: "quitter", env: {} });
    const startedAt = performance.now();
    await assert.rejects(
      process.waitForLine("never printed", { timeoutMs: 20_000 }),
      /^Error: quitter \(pid \d+\) exited \(code 3\) before printing a line matching "never printed"; its last lines:\n {2}starting$/,
    );
    assert.ok(performance.now() - startedAt < 10_000);
  });
});

Deno.test("waitForLine rejects on its deadline naming the matcher", async () => {
  await withScript(`console.log("waiting"); setTimeout(() => {}, 60_000);`, async (path) => {
    await using process = spawnLab(path, { name: "sleeper", env: {} });
    await process.waitForLine("waiting");
    await assert.rejects(
      process.waitForLine(/ready/, { timeoutMs: 200, from: 1 }),
      /sleeper \(pid \d+\) printed no line matching \/ready\/ within 200 ms \(from line 1\)/,
    );
  });
});

Deno.test("stop falls back to SIGKILL when SIGTERM is ignored", async () => {
  const source = `
    Deno.addSignalListener("SIGTERM", () => console.log("ignoring SIGTERM"));
    console.log("ready");
    setTimeout(() => {}, 60_000);
  `;
  await withScript(source, async (path) => {
    const process = spawnLab(path, { name: "stubborn", env: {} });
    await process.waitForLine("ready");
    const status = await process.stop(300);
    assert.equal(status.signal, "SIGKILL");
    assert.equal(process.count("ignoring SIGTERM"), 1);
  });
});

Deno.test("disposing a paused process resumes it so SIGTERM ends it", async () => {
  await withScript(`console.log("ready"); setTimeout(() => {}, 60_000);`, async (path) => {
    const process = spawnLab(path, { name: "paused", env: {} });
    await process.waitForLine("ready");
    assert.equal(process.signal("SIGSTOP"), true);
    await process[Symbol.asyncDispose]();
    assert.equal((await process.exited).signal, "SIGTERM");
    assert.equal(process.signal("SIGTERM"), false);
  });
});
