/**
 * Unit tests of `lib/nodes/master/forward_task.ts` with its effects injected: a forwarded task
 * belongs to the leader's term (cancelled when it ends, which includes the lease running out), the
 * client's cancellation reaches the worker call, and "not the leader" never names itself.
 */
import assert from "node:assert/strict";
import type { Candidate } from "../../lib/election/decisions.ts";
import { grpc } from "../../lib/grpc/grpc.ts";
import { type ForwardDeps, forwardTask } from "../../lib/nodes/master/forward_task.ts";
import type { CallWorker } from "../../lib/nodes/master/term.ts";

const SELF: Candidate = {
  name: "master1",
  address: "127.0.0.1:5001",
  node: "master-0a1b2c3d-0000-4000-8000-000000000001-0000000001",
  guid: "0a1b2c3d-0000-4000-8000-000000000001",
  sequence: 1,
  epoch: 0x10n,
  owner: 0x1n,
};
const TASK = { taskId: "job-1", message: "hi", epoch: 0n };

/** A leader with a term; `callWorker` is the test's. */
function leading(callWorker: CallWorker) {
  const term = new AbortController();
  const deps: ForwardDeps = {
    name: SELF.name,
    address: SELF.address,
    latch: { leadership: () => SELF, recheck: () => {} },
    term: () => ({ self: SELF, signal: term.signal }),
    callWorker,
    workerTimeoutMs: 5000,
    findLeader: () => Promise.resolve(SELF),
  };
  return { deps, term };
}

/** A worker call that answers only by failing when its signal aborts (or never). */
const hangingWorker: CallWorker = (_request, options) =>
  new Promise((_, reject) =>
    options.signal?.addEventListener("abort", () =>
      reject(Object.assign(new Error("cancelled"), {
        code: grpc.status.CANCELLED,
        details: "Cancelled on client",
      })), { once: true })
  );

/** `promise`, or a rejection after `ms` of real time so that a hang fails the test instead. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

Deno.test("forwardTask sends the task with the leader's epoch, under the term's signal", async () => {
  let seen: { epoch?: string; timeoutMs: number; signal?: AbortSignal } | undefined;
  const { deps, term } = leading((request, options) => {
    seen = { epoch: request.epoch, timeoutMs: options.timeoutMs, signal: options.signal };
    return Promise.resolve({ message: "hi gatech" });
  });
  assert.deepEqual(await forwardTask(TASK, deps), { reply: { message: "hi gatech" } });
  assert.equal(seen?.epoch, String(SELF.epoch));
  assert.equal(seen?.timeoutMs, 5000);
  // The term ends when the lease runs out (the latch's timer), and that ends the call.
  assert.equal(seen?.signal?.aborted, false);
  term.abort(new Error("the lease ran out"));
  assert.equal(seen?.signal?.aborted, true);
});

Deno.test("forwardTask cancels the worker call when the term ends and tells the client to retry", async () => {
  const { deps, term } = leading(hangingWorker);
  const answer = forwardTask(TASK, deps);
  term.abort(new Error("the term ended"));
  const result = await within(answer, 1000, "forwardTask after the term ended");
  assert.ok("code" in result);
  assert.equal(result.code, grpc.status.UNAVAILABLE);
  assert.match(result.details, /master1 stopped leading .* retry with the same task_id/);
});

Deno.test("forwardTask passes the client's cancellation on to the worker call", async () => {
  const { deps } = leading(hangingWorker);
  const client = new AbortController();
  const answer = forwardTask(TASK, deps, client.signal);
  client.abort(new Error("the client cancelled the call"));
  const result = await within(answer, 1000, "forwardTask after the client cancelled");
  assert.ok("code" in result);
  assert.equal(result.code, grpc.status.UNAVAILABLE);
});

Deno.test("forwardTask without a term does not name this master as the leader to go to", async () => {
  const { deps } = leading(() => Promise.reject(new Error("must not be called")));
  // ZooKeeper names us, but the latch does not (its lease ran out a moment ago).
  const result = await forwardTask(TASK, {
    ...deps,
    latch: { ...deps.latch, leadership: () => undefined },
  });
  assert.ok("code" in result);
  assert.equal(result.code, grpc.status.FAILED_PRECONDITION);
  assert.doesNotMatch(result.details, /the leader is master1/);
  assert.match(result.details, /^master1 leads in ZooKeeper but cannot act as leader right now/);
});
