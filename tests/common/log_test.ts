/**
 * Unit tests of `lib/common/log.ts`: the original lab's text lines and the JSON-lines format, with a fixed
 * clock and an in-memory output.
 */
import assert from "node:assert/strict";
import {
  createLogger,
  formatGoTimestamp,
  formatIsoTime,
  type LogFormat,
  type Logger,
  parseIsoTime,
} from "../../lib/common/log.ts";

/** 2024-05-01 08:32:32 local time, as Go's `log` prints it. */
const NOW = new Date(2024, 4, 1, 8, 32, 32);
const STAMP = "2024/05/01 08:32:32";

function capture(format: LogFormat): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger(format, {
    write: (line) => lines.push(line),
    now: () => NOW.getTime(),
  });
  return { logger, lines };
}

// --- text ---------------------------------------------------------------------------------------

Deno.test("formatGoTimestamp pads every part to two digits", () => {
  assert.equal(formatGoTimestamp(new Date(2024, 0, 2, 3, 4, 5)), "2024/01/02 03:04:05");
  assert.equal(formatGoTimestamp(new Date(2024, 11, 31, 23, 59, 59)), "2024/12/31 23:59:59");
});

Deno.test("createLogger text writes the original lab's line", () => {
  const { logger, lines } = capture("text");
  logger.info("I am the leader");
  assert.deepEqual(lines, ["2024/05/01 08:32:32 I am the leader"]);
});

Deno.test("createLogger text appends fields as key=value in order", () => {
  const { logger, lines } = capture("text");
  logger.info("I am the leader", { epoch: 4294967338n, node: "master-0000000001", port: 50051 });
  assert.deepEqual(lines, [
    `${STAMP} I am the leader epoch=4294967338 node=master-0000000001 port=50051`,
  ]);
});

Deno.test("createLogger text prints booleans and leaves out undefined fields", () => {
  const { logger, lines } = capture("text");
  logger.info("Worker reachable", { healthy: true, peer: undefined, retried: false });
  assert.deepEqual(lines, [`${STAMP} Worker reachable healthy=true retried=false`]);
});

Deno.test("createLogger text quotes values that contain spaces", () => {
  const { logger, lines } = capture("text");
  logger.info("Lost leadership", { reason: "connection lost" });
  assert.deepEqual(lines, [`${STAMP} Lost leadership reason="connection lost"`]);
});

Deno.test("createLogger text quotes and escapes values that contain quotes, '=' or newlines", () => {
  const { logger, lines } = capture("text");
  logger.info("Task", { id: 'say "hi"', expr: "a=b", text: "two\nlines", empty: "" });
  assert.deepEqual(lines, [
    `${STAMP} Task id="say \\"hi\\"" expr="a=b" text="two\\nlines" empty=""`,
  ]);
});

Deno.test("createLogger text prefixes warnings with WARN: ", () => {
  const { logger, lines } = capture("text");
  logger.warn("ZooKeeper unreachable; retrying", { attempt: 2 });
  assert.deepEqual(lines, [`${STAMP} WARN: ZooKeeper unreachable; retrying attempt=2`]);
});

Deno.test("createLogger text prefixes errors with ERROR: ", () => {
  const { logger, lines } = capture("text");
  logger.error("Cannot start");
  assert.deepEqual(lines, [`${STAMP} ERROR: Cannot start`]);
});

Deno.test("createLogger text reads the clock for every line", () => {
  const lines: string[] = [];
  let second = 0;
  const logger = createLogger("text", {
    write: (line) => lines.push(line),
    now: () => new Date(2024, 4, 1, 8, 32, second++).getTime(),
  });
  logger.info("one");
  logger.info("two");
  assert.deepEqual(lines, ["2024/05/01 08:32:00 one", "2024/05/01 08:32:01 two"]);
});

// --- json ---------------------------------------------------------------------------------------

Deno.test("createLogger json writes one object with time, level and msg", () => {
  const { logger, lines } = capture("json");
  logger.info("I am the leader");
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]), {
    time: NOW.toISOString().replace("Z", "000Z"),
    level: "info",
    msg: "I am the leader",
  });
});

Deno.test("createLogger json writes bigint fields as strings and keeps other types", () => {
  const { logger, lines } = capture("json");
  logger.warn("Stale epoch", {
    epoch: 18446744073709551615n,
    port: 50051,
    leader: false,
    reason: "connection lost",
    peer: undefined,
  });
  assert.deepEqual(JSON.parse(lines[0]), {
    time: NOW.toISOString().replace("Z", "000Z"),
    level: "warn",
    msg: "Stale epoch",
    epoch: "18446744073709551615",
    port: 50051,
    leader: false,
    reason: "connection lost",
  });
});

Deno.test("formatIsoTime writes UTC with microseconds, which Date.parse reads to the millisecond", () => {
  const ms = Date.UTC(2024, 4, 1, 6, 32, 32, 123) + 0.456;
  assert.equal(formatIsoTime(ms), "2024-05-01T06:32:32.123456Z");
  assert.equal(formatIsoTime(Date.UTC(2024, 4, 1)), "2024-05-01T00:00:00.000000Z");
  assert.equal(formatIsoTime(Date.UTC(2024, 4, 1) + 0.25), "2024-05-01T00:00:00.000250Z");
  assert.equal(Date.parse(formatIsoTime(ms)), Date.UTC(2024, 4, 1, 6, 32, 32, 123));
});

Deno.test("parseIsoTime reads formatIsoTime back to the microsecond and refuses anything else", () => {
  const ms = Date.UTC(2024, 4, 1, 6, 32, 32, 123) + 0.456;
  assert.ok(Math.abs(parseIsoTime(formatIsoTime(ms)) - ms) < 0.001);
  assert.ok(Number.isNaN(parseIsoTime("2024-05-01T06:32:32.123Z")));
  assert.ok(Number.isNaN(parseIsoTime("2024/05/01 06:32:32")));
});

Deno.test("createLogger json names the error level", () => {
  const { logger, lines } = capture("json");
  logger.error("Cannot start");
  assert.equal(JSON.parse(lines[0]).level, "error");
});

Deno.test("createLogger json keeps a message with a newline on one line", () => {
  const { logger, lines } = capture("json");
  logger.info("two\nlines");
  assert.ok(!lines[0].includes("\n"));
  assert.equal(JSON.parse(lines[0]).msg, "two\nlines");
});

/** Runs `code` in a child Deno with the logger module imported as `log`; returns its stdout. */
async function stdoutOf(code: string): Promise<string> {
  const module = new URL("../../lib/common/log.ts", import.meta.url).href;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `import * as log from "${module}";\n${code}`],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout);
}

Deno.test("createLogger on stdout writes every line of a turn, in order, before Deno.exit", async () => {
  const text = await stdoutOf(`
    const logger = log.createLogger("json");
    for (let i = 0; i < 2000; i++) logger.info("line", { i });
    Deno.exit(0);
  `);
  const lines = text.trimEnd().split("\n").map((line) => JSON.parse(line).i);
  assert.deepEqual(lines, Array.from({ length: 2000 }, (_, i) => i));
});

Deno.test("createLogger on stdout writes lines of later turns too, in the exact format", async () => {
  const text = await stdoutOf(`
    const logger = log.createLogger("text", { now: () => new Date(2024, 4, 1, 8, 32, 32).getTime() });
    logger.info("I am the leader");
    await new Promise((resolve) => setTimeout(resolve, 20));
    logger.warn("Cannot connect", { attempt: 2 });
  `);
  assert.equal(
    text,
    "2024/05/01 08:32:32 I am the leader\n2024/05/01 08:32:32 WARN: Cannot connect attempt=2\n",
  );
});

Deno.test("createLogger frequent lines on stdout come out in order with the others, all before Deno.exit", async () => {
  const text = await stdoutOf(`
    const tasks = log.createLogger("json", { frequent: true });
    const events = log.createLogger("json");
    for (let i = 0; i < 300; i++) {
      (i % 50 === 0 ? events : tasks).info("line", { i });
      if (i % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    Deno.exit(0);
  `);
  const lines = text.trimEnd().split("\n").map((line) => JSON.parse(line).i);
  assert.deepEqual(lines, Array.from({ length: 300 }, (_, i) => i));
});
