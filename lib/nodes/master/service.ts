/**
 * The master's gRPC service: SubmitTask validates the request and hands it to the leader's
 * forwarding (forward_task.ts); PerformTask and PerformTasks belong to the worker.
 */
import { grpc, type MapReduceHandlers } from "../../grpc/grpc.ts";
import { isRejection, validateTaskRequest, type ValidTask } from "../../tasks/request.ts";
import type { SubmitAnswer } from "./forward_task.ts";

/** The master's handlers; `submit` answers each valid SubmitTask. */
export function masterHandlers(
  submit: (task: ValidTask, signal: AbortSignal) => Promise<SubmitAnswer>,
): MapReduceHandlers {
  return {
    SubmitTask(call, callback) {
      const task = validateTaskRequest(call.request);
      if (isRejection(task)) return callback({ code: task.code, details: task.details });
      // The client's cancellation (or deadline) cancels the forwarded call too.
      const cancelled = new AbortController();
      call.once("cancelled", () => cancelled.abort(new Error("the client cancelled the call")));
      submit(task, cancelled.signal).then(
        (answer) =>
          "reply" in answer
            ? callback(null, answer.reply)
            : callback({ code: answer.code, details: answer.details }),
        (error) => callback({ code: grpc.status.INTERNAL, details: String(error) }),
      );
    },
    PerformTask(_call, callback) {
      return callback({
        code: grpc.status.UNIMPLEMENTED,
        details: "Masters take SubmitTask; PerformTask is served by the worker",
      });
    },
    PerformTasks(call) {
      call.emit("error", {
        code: grpc.status.UNIMPLEMENTED,
        details: "Masters take SubmitTask; PerformTasks is served by the worker",
      });
    },
  };
}
