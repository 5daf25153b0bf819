/**
 * What the worker, the masters and the submitting clients must agree on about a task: the id a
 * new leader announces itself with, and which gRPC codes are final verdicts and which mean "try
 * again". The two code sets live together because they depend on each other: a master passes the
 * worker's verdicts through and turns every other failure into UNAVAILABLE, and a client retries
 * exactly the codes a failover explains, so everything a master can answer is either a verdict or
 * retried (tests/tasks/protocol_test.ts checks it).
 */
import { grpc } from "../grpc/grpc.ts";

/**
 * The task id of the call a new leader makes to the worker, as in the original lab. The worker
 * performs it once per epoch (not once ever), and clients may not submit it.
 */
export const ANNOUNCEMENT_TASK = "leader_election";

/**
 * Codes with which the worker itself refuses a task: a master passes them through to the client
 * as they are, since retrying through another master cannot change them. FAILED_PRECONDITION (a
 * stale epoch) is also in {@linkcode RETRIED_CODES}: the client's retry finds the new leader.
 */
export const WORKER_VERDICTS: ReadonlySet<grpc.status> = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.RESOURCE_EXHAUSTED,
]);

/** What a master answers when the worker did not answer at all (it died or restarted mid-call). */
export const WORKER_DID_NOT_ANSWER = grpc.status.UNAVAILABLE;

/**
 * Failures that a new leader may cure: a submitting client asks ZooKeeper for the leader again and
 * retries with the same task id. It includes {@linkcode WORKER_DID_NOT_ANSWER} and a master's
 * "not the leader" (FAILED_PRECONDITION).
 */
export const RETRIED_CODES: ReadonlySet<grpc.status> = new Set([
  WORKER_DID_NOT_ANSWER,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.CANCELLED,
]);
