/**
 * Unit tests of `lib/tasks/request.ts`: what a `TaskRequest` must look like, and the exact
 * INVALID_ARGUMENT details for each bad field.
 */
import assert from "node:assert/strict";
import { grpc } from "../../lib/grpc/grpc.ts";
import {
  isRejection,
  MAX_MESSAGE_BYTES,
  MAX_TASK_ID_LENGTH,
  validateTaskRequest,
} from "../../lib/tasks/request.ts";

function invalid(details: string) {
  return { code: grpc.status.INVALID_ARGUMENT, details };
}

Deno.test("validateTaskRequest returns the task with its epoch as a bigint", () => {
  const result = validateTaskRequest({ task_id: "task-1", message: "hello", epoch: "4294967338" });
  assert.deepEqual(result, { taskId: "task-1", message: "hello", epoch: 4294967338n });
  assert.equal(isRejection(result), false);
});

Deno.test("validateTaskRequest reads an empty epoch as 0n (no epoch)", () => {
  assert.deepEqual(validateTaskRequest({ task_id: "t", message: "m", epoch: "" }), {
    taskId: "t",
    message: "m",
    epoch: 0n,
  });
});

Deno.test("validateTaskRequest reads a missing epoch as 0n (no epoch)", () => {
  assert.deepEqual(validateTaskRequest({ task_id: "t", message: "m" }), {
    taskId: "t",
    message: "m",
    epoch: 0n,
  });
});

Deno.test("validateTaskRequest accepts the largest unsigned 64-bit epoch", () => {
  const result = validateTaskRequest({ task_id: "t", message: "m", epoch: "18446744073709551615" });
  assert.deepEqual(result, { taskId: "t", message: "m", epoch: 18446744073709551615n });
});

Deno.test("validateTaskRequest rejects an epoch above 64 bits", () => {
  const result = validateTaskRequest({ task_id: "t", message: "m", epoch: "18446744073709551616" });
  assert.deepEqual(
    result,
    invalid('epoch must be an unsigned 64-bit integer: got "18446744073709551616"'),
  );
  assert.equal(isRejection(result), true);
});

for (const epoch of ["-1", "abc", "1.5", "123456789012345678901"]) {
  Deno.test(`validateTaskRequest rejects the epoch "${epoch}"`, () => {
    assert.deepEqual(
      validateTaskRequest({ task_id: "t", message: "m", epoch }),
      invalid(`epoch must be an unsigned 64-bit integer: got "${epoch}"`),
    );
  });
}

Deno.test("validateTaskRequest rejects an empty task_id", () => {
  assert.deepEqual(
    validateTaskRequest({ task_id: "", message: "m" }),
    invalid("task_id must not be empty"),
  );
});

Deno.test("validateTaskRequest rejects a missing task_id", () => {
  assert.deepEqual(validateTaskRequest({ message: "m" }), invalid("task_id must not be empty"));
});

Deno.test("validateTaskRequest accepts a task_id of 256 characters", () => {
  const taskId = "t".repeat(MAX_TASK_ID_LENGTH);
  assert.equal(MAX_TASK_ID_LENGTH, 256);
  assert.deepEqual(validateTaskRequest({ task_id: taskId, message: "m" }), {
    taskId,
    message: "m",
    epoch: 0n,
  });
});

Deno.test("validateTaskRequest rejects a task_id over 256 characters", () => {
  assert.deepEqual(
    validateTaskRequest({ task_id: "t".repeat(257), message: "m" }),
    invalid("task_id must be at most 256 characters: got 257"),
  );
});

for (
  const [what, taskId] of [["a newline", "task\n1"], ["NUL", "task\u00001"], ["a tab", "task\t1"], [
    "DEL",
    "task\u007f",
  ], ["an escape", "\u001b[31mred"]]
) {
  Deno.test(`validateTaskRequest rejects a task_id with ${what}`, () => {
    assert.deepEqual(
      validateTaskRequest({ task_id: taskId, message: "m" }),
      invalid("task_id must not contain control characters"),
    );
  });
}

Deno.test("validateTaskRequest accepts a task_id with spaces and non-ASCII letters", () => {
  assert.equal(isRejection(validateTaskRequest({ task_id: "tâche 1", message: "m" })), false);
});

Deno.test("validateTaskRequest rejects an empty message", () => {
  assert.deepEqual(
    validateTaskRequest({ task_id: "t", message: "" }),
    invalid("message must not be empty"),
  );
});

Deno.test("validateTaskRequest rejects a missing message", () => {
  assert.deepEqual(validateTaskRequest({ task_id: "t" }), invalid("message must not be empty"));
});

Deno.test("validateTaskRequest accepts a message of 65536 bytes", () => {
  const message = "m".repeat(MAX_MESSAGE_BYTES);
  assert.equal(MAX_MESSAGE_BYTES, 65536);
  assert.equal(isRejection(validateTaskRequest({ task_id: "t", message })), false);
});

Deno.test("validateTaskRequest rejects a message over 65536 bytes", () => {
  assert.deepEqual(
    validateTaskRequest({ task_id: "t", message: "m".repeat(65537) }),
    invalid("message must be at most 65536 bytes: got 65537"),
  );
});

Deno.test("validateTaskRequest counts the message in UTF-8 bytes, not characters", () => {
  // 32769 two-byte characters: under the limit in characters, over it in bytes.
  assert.deepEqual(
    validateTaskRequest({ task_id: "t", message: "é".repeat(32769) }),
    invalid("message must be at most 65536 bytes: got 65538"),
  );
});

Deno.test("validateTaskRequest counts three-byte characters to the byte at the limit", () => {
  // "€" is one UTF-16 unit and three UTF-8 bytes: 21845 of them are 65535 bytes, 21846 are 65538.
  assert.equal(
    isRejection(validateTaskRequest({ task_id: "t", message: "€".repeat(21845) })),
    false,
  );
  assert.deepEqual(
    validateTaskRequest({ task_id: "t", message: "€".repeat(21846) }),
    invalid("message must be at most 65536 bytes: got 65538"),
  );
});

Deno.test("validateTaskRequest reports the task_id before the message", () => {
  assert.deepEqual(validateTaskRequest({}), invalid("task_id must not be empty"));
});

Deno.test("validateTaskRequest rejects with INVALID_ARGUMENT (code 3)", () => {
  const result = validateTaskRequest({});
  assert.ok(isRejection(result));
  assert.equal(result.code, 3);
});
