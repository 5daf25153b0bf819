/**
 * The dashboard's once-a-second look at every service, as `status` does it: `srvr` for each
 * ZooKeeper server (mode and last zxid), gRPC health for the worker and the masters, and whether
 * each process runs, is paused or is stopped. Every probe has a short deadline and they run at
 * once, so a dead or frozen service costs one deadline, never a stuck loop.
 */
import { checkHealth, describeGrpcError, type TlsCredentials } from "../grpc/grpc.ts";
import type { Backend } from "../lab/backend.ts";
import { fourLetterWord } from "../zookeeper/four_letter_words.ts";
import { delay } from "../common/backoff.ts";
import type { DashboardInput, ServiceView } from "./state_model.ts";

/** Deadline of each probe. */
const PROBE_TIMEOUT_MS = 700;
/** Pause between rounds. */
const PROBE_INTERVAL_MS = 1000;

/** Mode and last zxid from a `srvr` reply, or why the server is not serving. */
export function parseSrvr(
  reply: string,
): { ok: boolean; detail: string; mode?: string; zxid?: string } {
  const mode = /^Mode: (.+)$/m.exec(reply)?.[1]?.trim();
  const zxid = /^Zxid: (0x[0-9a-f]+)$/m.exec(reply)?.[1];
  if (mode) return { ok: true, detail: `serving (${mode})`, mode, zxid };
  if (/not currently serving/.test(reply)) return { ok: false, detail: "not serving (no quorum)" };
  return { ok: false, detail: reply.trim() || "no reply" };
}

/** Probes one service once; gRPC health over mutual TLS with `tls` (lib/lab/lab_tls.ts). */
export async function probeService(
  backend: Backend,
  service: Pick<ServiceView, "name" | "kind" | "address">,
  tls?: TlsCredentials,
): Promise<DashboardInput> {
  const processState = backend.processState(service.name).catch(() => "unknown" as const);
  const at = Date.now();
  if (service.kind === "zookeeper") {
    const srvr = await fourLetterWord(service.address, "srvr", { timeoutMs: PROBE_TIMEOUT_MS })
      .then(
        parseSrvr,
        (error: Error) => ({ ok: false, detail: error.message, mode: undefined, zxid: undefined }),
      );
    const { ok, detail, mode, zxid } = srvr;
    return {
      type: "probe",
      at,
      service: service.name,
      process: await processState,
      health: { ok, detail },
      mode,
      zxid,
    };
  }
  const health = await checkHealth(service.address, { timeoutMs: PROBE_TIMEOUT_MS, tls }).then(
    (status) => ({ ok: status === "SERVING", detail: status }),
    // The status name says enough on a card ("UNAVAILABLE", "DEADLINE_EXCEEDED").
    (error) => ({ ok: false, detail: describeGrpcError(error).split(":")[0] }),
  );
  return { type: "probe", at, service: service.name, process: await processState, health };
}

/** Probes `services()` every second until `signal` aborts; `poke()` starts a round now. */
export function startProbes(
  backend: Backend,
  services: () => readonly Pick<ServiceView, "name" | "kind" | "address">[],
  onInput: (input: DashboardInput) => void,
  signal: AbortSignal,
  tls?: TlsCredentials,
): { poke(): void; done: Promise<void> } {
  let wake: (() => void) | undefined;
  const done = (async () => {
    while (!signal.aborted) {
      const inputs = await Promise.all(
        services().map((service) => probeService(backend, service, tls)),
      );
      if (signal.aborted) break;
      inputs.forEach(onInput);
      await Promise.race([
        delay(PROBE_INTERVAL_MS, { signal }).catch(() => {}),
        new Promise<void>((resolve) => wake = resolve),
      ]);
    }
  })();
  return { poke: () => wake?.(), done };
}
