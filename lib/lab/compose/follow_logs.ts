/**
 * Following containers' output for the Compose backend: one `docker logs -f --timestamps` per
 * container, so every line comes with the engine's own time of writing (to the nanosecond), and a
 * container that is stopped and started again is followed again.
 */
import type { LogLineListener } from "../backend.ts";
import { delay } from "../../common/backoff.ts";

/** Splits docker's `2024-05-01T08:32:32.123456789Z text` into the time (ms) and the text. */
export function parseTimestampedLine(line: string): { at: number; text: string } {
  const space = line.indexOf(" ");
  const at = Date.parse(line.slice(0, space));
  return Number.isNaN(at) ? { at: Date.now(), text: line } : { at, text: line.slice(space + 1) };
}

/** Follows every container in `services` until `signal` aborts. */
export async function followContainerLogs(
  services: readonly string[],
  onLine: LogLineListener,
  options: { readonly signal: AbortSignal },
): Promise<void> {
  await Promise.all(services.map((service) => followOne(service, onLine, options.signal)));
}

async function followOne(service: string, onLine: LogLineListener, signal: AbortSignal) {
  // From now on: the first pass reads nothing old; each later pass resumes where the last ended.
  let since = new Date().toISOString();
  while (!signal.aborted) {
    try {
      const child = new Deno.Command("docker", {
        args: ["logs", "--follow", "--timestamps", "--since", since, service],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        signal,
      }).spawn();
      const read = async (stream: ReadableStream<Uint8Array>) => {
        let partial = "";
        for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
          const lines = (partial + chunk).split("\n");
          partial = lines.pop()!;
          for (const line of lines) {
            const { at, text } = parseTimestampedLine(line);
            since = new Date(at + 1).toISOString();
            onLine(service, text, at);
          }
        }
      };
      await Promise.all([read(child.stdout), read(child.stderr), child.status]);
    } catch {
      // docker is missing or the container is gone: try again below.
    }
    // `docker logs -f` ends when the container stops; look again shortly.
    if (!signal.aborted) await delay(500, { signal }).catch(() => {});
  }
}
