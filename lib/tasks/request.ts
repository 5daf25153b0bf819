/**
 * Validation of `TaskRequest`s, shared by the worker (PerformTask) and the masters (SubmitTask):
 * each bad field gets INVALID_ARGUMENT and a message naming the field and what was wrong.
 */
import { status } from "@grpc/grpc-js";
import type { TaskRequest } from "../grpc/grpc.ts";

/** The longest task id accepted, in characters. */
export const MAX_TASK_ID_LENGTH = 256;
/** The largest message accepted, in UTF-8 bytes (gRPC's own 4 MiB limit applies before this). */
export const MAX_MESSAGE_BYTES = 64 * 1024;

const encoder = new TextEncoder();

/** A request that passed validation, with its epoch as a bigint. */
export interface ValidTask {
  readonly taskId: string;
  readonly message: string;
  readonly epoch: bigint;
}

/** A rejection to send back as the call's status. */
export interface TaskRejection {
  readonly code: status;
  readonly details: string;
}

/** Validates a request; returns the task or the status to reply with. */
export function validateTaskRequest(request: Partial<TaskRequest>): ValidTask | TaskRejection {
  const taskId = request.task_id ?? "";
  const message = request.message ?? "";
  const invalid = (details: string) => ({ code: status.INVALID_ARGUMENT, details });
  if (taskId === "") return invalid("task_id must not be empty");
  if (taskId.length > MAX_TASK_ID_LENGTH) {
    return invalid(
      `task_id must be at most ${MAX_TASK_ID_LENGTH} characters: got ${taskId.length}`,
    );
  }
  // Task ids are logged: a control character could forge or break log lines.
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(taskId)) {
    return invalid("task_id must not contain control characters");
  }
  if (message === "") return invalid("message must not be empty");
  // A UTF-16 code unit takes at most 3 bytes in UTF-8: only a long message needs counting.
  if (message.length * 3 > MAX_MESSAGE_BYTES) {
    const messageBytes = encoder.encode(message).byteLength;
    if (messageBytes > MAX_MESSAGE_BYTES) {
      return invalid(`message must be at most ${MAX_MESSAGE_BYTES} bytes: got ${messageBytes}`);
    }
  }
  const epochText = request.epoch === undefined || request.epoch === ""
    ? "0"
    : String(request.epoch);
  if (!/^\d{1,20}$/.test(epochText) || BigInt(epochText) > 0xffffffffffffffffn) {
    return invalid(`epoch must be an unsigned 64-bit integer: got "${epochText}"`);
  }
  return { taskId, message, epoch: BigInt(epochText) };
}

/** True when validation rejected the request. */
export function isRejection(result: ValidTask | TaskRejection): result is TaskRejection {
  return "code" in result;
}
