/**
 * The gRPC adapter: owns proto loading (one set of loader options, paths relative to this file),
 * server start and stop, client creation and promise-returning unary calls with deadlines. Every
 * server also serves the standard health service and server reflection.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import {
  HealthImplementation,
  protoPath as healthProtoPath,
  service as healthService,
  type ServingStatus,
} from "grpc-health-check";
import { fileURLToPath } from "node:url";
import {
  channelSecurity,
  type RefusedConnection,
  serverCredentials,
  type TlsCredentials,
  watchRefusedConnections,
} from "./credentials.ts";

export { grpc };
export type { TlsCredentials };

/** The loader options for every proto: field names as in the proto, 64-bit integers as strings. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** The fully qualified name of the lab's service. */
export const SERVICE_NAME = "rpc_gen.MapReduceService";

/** `TaskRequest` as the loader hands it over (`epoch` is a decimal string). */
export interface TaskRequest {
  task_id: string;
  message: string;
  epoch: string;
}

/** `TaskResponse`. */
export interface TaskResponse {
  message: string;
}

/** What a PerformTask answers, as a call of its own or on the link: the reply, or its status. */
export type TaskAnswer = { readonly reply: TaskResponse } | {
  readonly code: grpc.status;
  readonly details: string;
};

/** `LinkedTask`, one request on PerformTasks (worker_link.ts); `task` null: a ping. */
export interface LinkedTask {
  id: string;
  task: Partial<TaskRequest> | null;
}

/** `LinkedAnswer`: `response` when `code` is OK, else the status PerformTask would end with. */
export interface LinkedAnswer {
  id: string;
  response: TaskResponse | null;
  code: grpc.status;
  details: string;
}

/** Handlers of the lab's service. */
export interface MapReduceHandlers {
  SubmitTask: grpc.handleUnaryCall<TaskRequest, TaskResponse>;
  PerformTask: grpc.handleUnaryCall<TaskRequest, TaskResponse>;
  /** Optional: grpc-js answers a method without a handler with UNIMPLEMENTED. */
  PerformTasks?: grpc.handleBidiStreamingCall<LinkedTask, LinkedAnswer>;
}

/** A client of the lab's service. */
export interface MapReduceClient extends grpc.Client {
  SubmitTask(
    request: Partial<TaskRequest>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<TaskResponse>,
  ): grpc.ClientUnaryCall;
  PerformTask(
    request: Partial<TaskRequest>,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: grpc.requestCallback<TaskResponse>,
  ): grpc.ClientUnaryCall;
  PerformTasks(metadata: grpc.Metadata): grpc.ClientDuplexStream<LinkedTask, LinkedAnswer>;
}

const protoPath = fileURLToPath(new URL("../../proto/mapreduce.proto", import.meta.url));
// The health proto is loaded too, only so that reflection describes it (grpcurl can call it).
const packageDefinition = protoLoader.loadSync([protoPath, healthProtoPath], PROTO_LOADER_OPTIONS);
const rpcGen = grpc.loadPackageDefinition(packageDefinition).rpc_gen as grpc.GrpcObject;
const MapReduceService = rpcGen.MapReduceService as grpc.ServiceClientConstructor;
const HealthService = grpc.makeClientConstructor(healthService, "grpc.health.v1.Health");

/** Channel options shared by every client: keep the channel warm, fail fast when unreachable. */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  // A follower's channel to the worker must be ready the moment it becomes leader.
  "grpc.client_idle_timeout_ms": 24 * 60 * 60 * 1000,
  "grpc.initial_reconnect_backoff_ms": 100,
  "grpc.max_reconnect_backoff_ms": 2000,
};

/** A server with the lab's service, health and reflection; health starts as SERVING. */
export function createServer(handlers: MapReduceHandlers): {
  server: grpc.Server;
  setHealth(status: ServingStatus): void;
} {
  const server = new grpc.Server();
  server.addService(
    MapReduceService.service,
    handlers as unknown as grpc.UntypedServiceImplementation,
  );
  const health = new HealthImplementation({ "": "SERVING", [SERVICE_NAME]: "SERVING" });
  health.addToServer(server);
  new ReflectionService(packageDefinition).addToServer(server);
  return {
    server,
    setHealth(status) {
      health.setStatus("", status);
      health.setStatus(SERVICE_NAME, status);
    },
  };
}

/** How a server is secured: mutual TLS with `tls` (else plaintext); `onRefused` hears of handshakes it refused. */
export interface ServerSecurity {
  readonly tls?: TlsCredentials;
  readonly onRefused?: (refused: RefusedConnection) => void;
}

/** Binds `host:port` (IPv6 hosts in brackets; port 0: any free one) and resolves with the bound port. */
export function startServer(
  server: grpc.Server,
  host: string,
  port: number,
  security: ServerSecurity = {},
): Promise<number> {
  const address = `${host}:${port}`;
  if (security.tls && security.onRefused) watchRefusedConnections(server, security.onRefused);
  return new Promise((resolve, reject) => {
    server.bindAsync(address, serverCredentials(security.tls), (error, boundPort) => {
      if (error) return reject(new Error(`Cannot listen on ${address}: ${error.message}`));
      resolve(boundPort);
    });
  });
}

/** Stops a server: finishes calls in flight for up to `graceMs`, then cuts the rest. */
export function stopServer(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * A client of the lab's service at `address` (`host:port`); mutual TLS with `tls`. Clients of the
 * same address share one connection, unless one asks for a connection of its own.
 */
export function createMapReduceClient(
  address: string,
  tls?: TlsCredentials,
  { ownConnection = false } = {},
): MapReduceClient {
  const { credentials, options } = channelSecurity(address, tls);
  return new MapReduceService(
    address,
    credentials,
    {
      ...CHANNEL_OPTIONS,
      ...options,
      ...(ownConnection ? { "grpc.use_local_subchannel_pool": 1 } : {}),
    },
  ) as unknown as MapReduceClient;
}

/**
 * Encodes and decodes one message of every method of the lab's service, in this process only.
 * protobufjs generates each message's code on its first use, which costs milliseconds: a follower
 * pays it now, not in its first call as leader, when every millisecond of the failover counts.
 */
export function warmUpCodecs(): void {
  const task = { task_id: "warm-up", message: "warm-up", epoch: "1" };
  const response = { message: "warm-up" };
  const samples: Record<string, [object, object]> = {
    PerformTasks: [{ id: "1", task }, { id: "1", response, code: 0, details: "" }],
  };
  for (const [name, method] of Object.entries(MapReduceService.service)) {
    const [request, reply] = samples[name] ?? [task, response];
    method.requestDeserialize(method.requestSerialize(request));
    method.responseDeserialize(method.responseSerialize(reply));
  }
}

/** Options of one call. */
export interface CallOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Calls a unary method; rejects with the `grpc.ServiceError` (it has `code` and `details`). */
export function callUnary(
  client: MapReduceClient,
  method: "SubmitTask" | "PerformTask",
  request: Partial<TaskRequest>,
  options: CallOptions,
): Promise<TaskResponse> {
  return new Promise((resolve, reject) => {
    const call = client[method](
      request,
      new grpc.Metadata(),
      { deadline: Date.now() + options.timeoutMs },
      (error, response) => {
        options.signal?.removeEventListener("abort", onAbort);
        if (error) return reject(error);
        resolve(response!);
      },
    );
    const onAbort = () => call.cancel();
    options.signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Asks the health service at `address`; resolves with its status, e.g. `SERVING`. With `via`,
 * the call goes over that client's channel (its connection) instead of a new one; with `tls`, a
 * new one uses mutual TLS.
 */
export function checkHealth(
  address: string,
  options: CallOptions & { service?: string; via?: grpc.Client; tls?: TlsCredentials },
): Promise<string> {
  const { credentials, options: channelOptions } = channelSecurity(address, options.tls);
  const client = new HealthService(
    address,
    credentials,
    options.via ? { channelOverride: options.via.getChannel() } : channelOptions,
  ) as unknown as HealthClient;
  return new Promise<string>((resolve, reject) => {
    client.Check(
      { service: options.service ?? "" },
      { deadline: Date.now() + options.timeoutMs },
      (error, response) => {
        // Closing a client closes its channel: never the borrowed one.
        if (!options.via) client.close();
        if (error) return reject(error);
        resolve(response!.status);
      },
    );
  });
}

interface HealthClient extends grpc.Client {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: grpc.requestCallback<{ status: string }>,
  ): grpc.ClientUnaryCall;
}

/** A gRPC error as grpc-js makes them (`code`, `details`, `metadata`; the same message shape). */
export function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), {
    code,
    details,
    metadata: new grpc.Metadata(),
  });
}

/** True when `error` is a gRPC error with this status code. */
export function hasCode(error: unknown, code: grpc.status): boolean {
  return (error as grpc.ServiceError)?.code === code;
}

/**
 * True when a call failed because its connection broke (the peer died, restarted or closed),
 * not because the server answered. grpc-js reports most of these as UNAVAILABLE, but a write to
 * a socket the peer has already closed (EPIPE, which Deno's sockets raise where Node's usually
 * raise ECONNRESET) comes back as INTERNAL "Received RST_STREAM with code 2 triggered by internal
 * client error: ...", and a stream reset without any status as INTERNAL "(Call ended without
 * gRPC status)". Such a call may or may not have reached the server.
 */
export function isConnectionFailure(error: unknown): boolean {
  const { code, details } = (error ?? {}) as Partial<grpc.ServiceError>;
  if (code === grpc.status.UNAVAILABLE) return true;
  return code === grpc.status.INTERNAL &&
    /^Received RST_STREAM with code \d+ (triggered by internal client error|\(Call ended without gRPC status\))/
      .test(details ?? "");
}

/**
 * A short description of a gRPC error for people, e.g. `UNAVAILABLE: No connection established.
 * Last error: connect ECONNREFUSED 127.0.0.1:7070`. grpc-js ends an unreachable channel's details
 * with `Resolution note: ` even when it has no note (a plain IP address resolves without one);
 * that empty tail and the nested `Error: ` are dropped.
 */
export function describeGrpcError(error: unknown): string {
  const serviceError = error as grpc.ServiceError;
  if (typeof serviceError?.code === "number") {
    const details = String(serviceError.details ?? "")
      .replace(/\.?\s*Resolution note:\s*$/, "")
      .replace(/Last error: Error: /, "Last error: ");
    return `${grpc.status[serviceError.code]}: ${details}`;
  }
  return error instanceof Error ? error.message : String(error);
}
