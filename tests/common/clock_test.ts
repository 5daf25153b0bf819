/** Unit tests of `lib/common/clock.ts`: the real clock's timers and the seeded UUIDs. */
import assert from "node:assert/strict";
import { realClock, uuidFrom } from "../../lib/common/clock.ts";

Deno.test("realClock runs a timeout and cancels another", async () => {
  const fired: string[] = [];
  const cancelled = realClock.setTimeout(() => fired.push("cancelled"), 0);
  realClock.clearTimeout(cancelled);
  await new Promise<void>((resolve) =>
    realClock.setTimeout(() => {
      fired.push("kept");
      resolve();
    }, 1)
  );
  assert.deepEqual(fired, ["kept"]);
});

Deno.test("realClock runs an interval until it is cleared", async () => {
  let beats = 0;
  await new Promise<void>((resolve) => {
    const id = realClock.setInterval(() => {
      if (++beats === 3) {
        realClock.clearInterval(id);
        resolve();
      }
    }, 1);
  });
  assert.equal(beats, 3);
});

Deno.test("realClock.now is monotonic", () => {
  const first = realClock.now();
  assert.ok(realClock.now() >= first);
});

Deno.test("uuidFrom makes a version 4 UUID that parses as a master's guid", () => {
  let state = 1;
  const random = () => (state = (state * 16807) % 2147483647) / 2147483647;
  const id = uuidFrom(random);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

Deno.test("uuidFrom gives the same ids for the same source", () => {
  const source = () => {
    let state = 7;
    return () => (state = (state * 16807) % 2147483647) / 2147483647;
  };
  const a = source(), b = source();
  assert.deepEqual([uuidFrom(a), uuidFrom(a)], [uuidFrom(b), uuidFrom(b)]);
});
