/**
 * The link from a master to the worker (grpc/worker_link.ts) against a real worker process: calls
 * on it answer as PerformTask does, a broken or silent link fails what it carried with a code the
 * callers retry and comes back, and a worker without the method gets unary calls.
 */
import assert from "node:assert/strict";
import { createLogger, type LogFields } from "../../lib/common/log.ts";
import { waitFor } from "../../lib/common/wait.ts";
import {
  createMapReduceClient,
  createServer,
  grpc,
  type MapReduceClient,
  startServer,
  stopServer,
} from "../../lib/grpc/grpc.ts";
import { WorkerLink } from "../../lib/grpc/worker_link.ts";
import { eventsOf, waitForEvent } from "../harness/events.ts";
import { startLab } from "../harness/lab.ts";
import type { LabProcess } from "../harness/process.ts";

/** A link to `address` whose unary calls are counted, and what it logged. */
function countedLink(address: string) {
  const client = createMapReduceClient(address);
  let unaryCalls = 0;
  const unary = client.PerformTask.bind(client);
  client.PerformTask = ((...args: Parameters<MapReduceClient["PerformTask"]>) => {
    unaryCalls++;
    return unary(...args);
  }) as MapReduceClient["PerformTask"];
  const logged: { message: string; fields?: LogFields }[] = [];
  const logger = createLogger("json", {
    write: (line) => {
      const { msg, ...fields } = JSON.parse(line);
      logged.push({ message: msg, fields });
    },
  });
  const link = new WorkerLink({
    unary: client,
    link: createMapReduceClient(address, undefined, { ownConnection: true }),
    logger,
  });
  return {
    link,
    logged,
    unaryCalls: () => unaryCalls,
    [Symbol.dispose]() {
      link.close();
      client.close();
    },
  };
}

function untilUp(link: WorkerLink, timeoutMs = 10_000): Promise<true> {
  return waitFor(() => link.up || undefined, { timeoutMs, message: "the link is up" });
}

function refusedWith(code: grpc.status, details?: RegExp) {
  return (error: grpc.ServiceError) => {
    assert.equal(error.code, code, `${grpc.status[error.code]}: ${error.details}`);
    if (details) assert.match(error.details, details);
    return true;
  };
}

/** A lab with a worker and no master, and a counted link to the worker, up. */
async function linkedToWorker() {
  const lab = await startLab({ masters: 0 });
  const counted = countedLink(lab.workerAddress);
  counted.link.open();
  await untilUp(counted.link);
  return {
    lab,
    worker: lab.worker!,
    ...counted,
    async [Symbol.asyncDispose]() {
      counted[Symbol.dispose]();
      await lab.close();
    },
  };
}

/** Runs `action` while `process` is stopped (SIGSTOP), and lets it go on after (SIGCONT). */
async function whileStopped<T>(process: LabProcess, action: () => Promise<T>): Promise<T> {
  await process.pause();
  try {
    return await action();
  } finally {
    process.signal("SIGCONT");
  }
}

Deno.test("calls on the link answer as PerformTask does, each its own, and none goes unary", async () => {
  await using linked = await linkedToWorker();
  const { link, worker } = linked;
  const options = { timeoutMs: 5000 };
  assert.deepEqual(await link.call({ task_id: "one", message: "Hello" }, options), {
    message: "Hello gatech",
  });
  // At most once: the same id answers the first result and is not performed again.
  assert.deepEqual(await link.call({ task_id: "one", message: "other" }, options), {
    message: "Hello gatech",
  });
  await waitForEvent(worker, "Task already performed; returning its first result");
  assert.equal(worker.count("Performing task: one"), 1);
  // Answers come back to their own callers, whatever order the worker answers in.
  const replies = await Promise.all(
    Array.from(
      { length: 50 },
      (_, i) => link.call({ task_id: `many-${i}`, message: `m${i}` }, options),
    ),
  );
  assert.deepEqual(replies.map((r) => r.message), replies.map((_, i) => `m${i} gatech`));
  // The worker's refusals keep their codes.
  await assert.rejects(
    link.call({ task_id: "", message: "x" }, options),
    refusedWith(grpc.status.INVALID_ARGUMENT, /task_id/),
  );
  await assert.rejects(
    link.call({ task_id: "stale", message: "x", epoch: "12345" }, options),
    refusedWith(grpc.status.FAILED_PRECONDITION),
  );
  assert.equal(worker.count("Performing task: stale"), 0);
  assert.equal(linked.unaryCalls(), 0, "every call went on the link");
  assert.ok(link.up);
});

Deno.test("a call cancelled by its signal gets CANCELLED and the link stays up", async () => {
  await using linked = await linkedToWorker();
  const { link, worker } = linked;
  await whileStopped(worker, async () => {
    const controller = new AbortController();
    const call = link.call({ task_id: "cancelled", message: "x" }, {
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    controller.abort();
    await assert.rejects(call, refusedWith(grpc.status.CANCELLED));
    assert.ok(link.up);
  });
  const reply = await link.call({ task_id: "after", message: "x" }, { timeoutMs: 5000 });
  assert.equal(reply.message, "x gatech");
  assert.equal(linked.unaryCalls(), 0);
});

Deno.test("a deadline that passes on the link gets DEADLINE_EXCEEDED and a new link replaces it", async () => {
  await using linked = await linkedToWorker();
  const { link, worker } = linked;
  await whileStopped(worker, async () => {
    await assert.rejects(
      link.call({ task_id: "late", message: "x" }, { timeoutMs: 300 }),
      refusedWith(grpc.status.DEADLINE_EXCEEDED),
    );
    assert.equal(link.up, false, "a silent link is dropped at once");
  });
  await untilUp(link);
  assert.equal(
    linked.logged.filter((l) => l.message.startsWith("Linked to the worker")).length,
    2,
  );
  const reply = await link.call({ task_id: "after", message: "x" }, { timeoutMs: 5000 });
  assert.equal(reply.message, "x gatech");
});

Deno.test("a worker that dies fails the calls its link carried with UNAVAILABLE; calls go unary until a new worker is linked", async () => {
  await using linked = await linkedToWorker();
  const { link, worker } = linked;
  await worker.pause();
  const carried = link.call({ task_id: "carried", message: "x" }, { timeoutMs: 10_000 });
  worker.signal("SIGKILL");
  await assert.rejects(carried, refusedWith(grpc.status.UNAVAILABLE, /may or may not/));
  assert.equal(link.up, false);
  assert.ok(linked.logged.some((l) => l.message.startsWith("Lost the link to the worker")));
  await worker.exited;
  // No worker: the calls are unary, and fail as unary calls do.
  await assert.rejects(
    link.call({ task_id: "nobody", message: "x" }, { timeoutMs: 2000 }),
    refusedWith(grpc.status.UNAVAILABLE),
  );
  assert.equal(linked.unaryCalls(), 1);
  await linked.lab.startWorker();
  await untilUp(link);
  const reply = await link.call({ task_id: "back", message: "x" }, { timeoutMs: 5000 });
  assert.equal(reply.message, "x gatech");
  assert.equal(linked.unaryCalls(), 1, "back on the link");
});

Deno.test("a stopping worker ends its links with OK instead of having them cut", async () => {
  await using linked = await linkedToWorker();
  const { link, worker } = linked;
  const reply = await link.call({ task_id: "before", message: "x" }, { timeoutMs: 5000 });
  assert.equal(reply.message, "x gatech");
  const mark = worker.lines.length;
  worker.signal("SIGTERM");
  assert.equal((await worker.exited).code, 0);
  await waitFor(() => link.up ? undefined : true, { timeoutMs: 5000, message: "the link ends" });
  assert.ok(
    linked.logged.some((l) => l.message.startsWith("The worker closed the link")),
    JSON.stringify(linked.logged),
  );
  assert.deepEqual(eventsOf(worker, "Worker stopped", mark).length, 1);
});

Deno.test("a worker without PerformTasks gets every call as a unary PerformTask", async () => {
  // A worker of an older build: only the unary method.
  const { server } = createServer({
    PerformTask: (call, callback) => callback(null, { message: `${call.request.message} old` }),
    SubmitTask: (_call, callback) => callback({ code: grpc.status.UNIMPLEMENTED }),
  });
  const port = await startServer(server, "127.0.0.1", 0);
  try {
    using counted = countedLink(`127.0.0.1:${port}`);
    const { link } = counted;
    link.open();
    await waitFor(
      () => counted.logged.find((l) => l.message.startsWith("The worker has no PerformTasks")),
      { timeoutMs: 5000, message: "the link learns the method is missing" },
    );
    const reply = await link.call({ task_id: "t", message: "x" }, { timeoutMs: 5000 });
    assert.equal(reply.message, "x old");
    assert.equal(counted.unaryCalls(), 1);
    assert.equal(link.up, false);
  } finally {
    await stopServer(server, 100);
  }
});
