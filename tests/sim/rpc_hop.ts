/**
 * The gRPC hop, simulated: a unary call is a message to the callee's process and a reply back,
 * each with a random delay, either of which a fault may lose. The caller gets what grpc-js would
 * give: the reply, the callee's status, DEADLINE_EXCEEDED at its deadline, CANCELLED when its
 * signal aborts, UNAVAILABLE when nobody listens at the address.
 */
import { status } from "@grpc/grpc-js";
import type { SimProcess, SimScheduler } from "./scheduler.ts";
import type { Prng } from "./prng.ts";
import type { Clock } from "../../lib/common/clock.ts";

/** A gRPC error as grpc-js reports it. */
export interface RpcError extends Error {
  readonly code: status;
  readonly details: string;
}

/** What a handler answers. */
export type RpcResult<T> = { readonly ok: T } | { readonly code: status; readonly details: string };

/** Facts about a call that travel beside it, for the checker (the real call has no such thing). */
export interface CallMeta {
  readonly caller: string;
  readonly sentAt: number;
  readonly history: number;
}

/** A server at an address. */
export interface RpcEndpoint<Q, R> {
  readonly process: SimProcess;
  handle(request: Q, meta: CallMeta): Promise<RpcResult<R>>;
}

/** Makes a grpc-js-like error. */
export function rpcError(code: status, details: string): RpcError {
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details });
}

/** See the module comment. */
export class RpcNetwork {
  readonly #endpoints = new Map<string, RpcEndpoint<unknown, unknown>>();
  /** Probability that a request or a reply is lost. */
  lossRate = 0;
  /** Pairs `caller>address` whose messages are all lost (a partition). */
  readonly cut = new Set<string>();
  /** Callers whose messages (both ways) take up to this much longer: a congested link. */
  readonly slow = new Map<string, number>();

  constructor(readonly scheduler: SimScheduler, readonly random: Prng) {}

  /** Serves `address` by `endpoint` (undefined: nobody listens). */
  listen(address: string, endpoint: RpcEndpoint<unknown, unknown> | undefined): void {
    if (endpoint) this.#endpoints.set(address, endpoint);
    else this.#endpoints.delete(address);
  }

  #delay(caller?: string): number {
    const extra = caller === undefined ? 0 : (this.slow.get(caller) ?? 0) * this.random.next();
    return extra +
      (this.random.chance(0.9) ? this.random.between(0.1, 1.5) : this.random.between(1.5, 30));
  }

  #lost(caller: string, address: string): boolean {
    return this.cut.has(`${caller}>${address}`) || this.random.chance(this.lossRate);
  }

  /** A unary call from `caller` (on its clock) to `address`. */
  call<Q, R>(
    caller: SimProcess,
    clock: Clock,
    address: string,
    request: Q,
    options: { timeoutMs: number; signal?: AbortSignal; history: number },
  ): Promise<R> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(rpcError(status.CANCELLED, "Cancelled on client"));
    const meta: CallMeta = {
      caller: caller.name,
      sentAt: this.scheduler.now,
      history: options.history,
    };
    return new Promise<R>((resolve, reject) => {
      let settled = false;
      const settle = (action: () => void) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        action();
      };
      const timer = clock.setTimeout(
        () => settle(() => reject(rpcError(status.DEADLINE_EXCEEDED, "Deadline exceeded"))),
        options.timeoutMs,
      );
      const onAbort = () => settle(() => reject(rpcError(status.CANCELLED, "Cancelled on client")));
      signal?.addEventListener("abort", onAbort, { once: true });
      const endpoint = this.#endpoints.get(address);
      if (!endpoint) {
        this.scheduler.after(
          this.#delay(),
          () => settle(() => reject(rpcError(status.UNAVAILABLE, "No connection established"))),
          caller,
        );
        return;
      }
      if (this.#lost(caller.name, address)) return;
      this.scheduler.after(this.#delay(caller.name), () => {
        if (this.#endpoints.get(address) !== endpoint) return; // restarted meanwhile: the call died
        endpoint.handle(request, meta).then((result) => {
          if (!endpoint.process.alive || this.#lost(caller.name, address)) return;
          this.scheduler.after(
            this.#delay(caller.name),
            () =>
              settle(() =>
                "ok" in result
                  ? resolve(result.ok as R)
                  : reject(rpcError(result.code, result.details))
              ),
            caller,
          );
        });
      }, endpoint.process);
    });
  }
}
