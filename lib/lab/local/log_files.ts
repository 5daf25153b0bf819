/**
 * The local backend's logs: the last lines of a file (read from the end, so a long run's log costs
 * no more than its tail) and following several files at once, prefixed like `docker-compose logs`.
 */
import { delay } from "../../common/backoff.ts";

/** `master1  | ` with the name padded to `width`, as docker-compose prints it. */
export function logPrefix(service: string, width: number): string {
  return `${service.padEnd(width)} | `;
}

/** The last `count` lines of the file (none when it does not exist), oldest first. */
export async function lastLines(path: string, count: number): Promise<string[]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  try {
    const size = (await file.stat()).size;
    // Read a growing window from the end until it holds `count` whole lines or the whole file.
    for (let window = 64 * 1024;; window *= 4) {
      const start = Math.max(0, size - window);
      const bytes = new Uint8Array(size - start);
      await file.seek(start, Deno.SeekMode.Start);
      let filled = 0;
      while (filled < bytes.length) {
        const read = await file.read(bytes.subarray(filled));
        if (read === null) break;
        filled += read;
      }
      const lines = new TextDecoder().decode(bytes.subarray(0, filled)).split("\n");
      if (lines.at(-1) === "") lines.pop();
      // The first line of a window that does not start the file may be cut.
      if (start > 0) lines.shift();
      if (lines.length >= count || start === 0) return lines.slice(-count);
    }
  } finally {
    file.close();
  }
}

/**
 * Calls `onLine` for every line appended to the files from now on, until `signal` aborts. With
 * `watchDir`, a change notice (inotify) of that folder also wakes the loop, so a line is read
 * within a millisecond or two instead of within `intervalMs`.
 */
export async function followFiles(
  files: readonly { readonly service: string; readonly path: string }[],
  onLine: (service: string, line: string) => void,
  options: { signal: AbortSignal; intervalMs?: number; watchDir?: string },
): Promise<void> {
  // A notice that comes while the files are being read must not be lost: it sets `changed`.
  let changed = false;
  let wake = () => {};
  const watcher = options.watchDir
    ? watchQuietly(options.watchDir, () => {
      changed = true;
      wake();
    })
    : undefined;
  options.signal.addEventListener("abort", () => watcher?.close(), { once: true });
  const sizeOf = async (path: string) => (await Deno.stat(path).catch(() => undefined))?.size ?? 0;
  const offsets = await Promise.all(files.map(({ path }) => sizeOf(path)));
  const partial = files.map(() => "");
  const decoder = new TextDecoder();
  while (!options.signal.aborted) {
    changed = false;
    for (const [index, { service, path }] of files.entries()) {
      const size = await sizeOf(path);
      // A file that shrank was recreated by a new `up`: read it from the start.
      if (size < offsets[index]) offsets[index] = 0;
      if (size === offsets[index]) continue;
      using file = await Deno.open(path);
      await file.seek(offsets[index], Deno.SeekMode.Start);
      const bytes = new Uint8Array(size - offsets[index]);
      const read = (await file.read(bytes)) ?? 0;
      offsets[index] += read;
      const lines = (partial[index] + decoder.decode(bytes.subarray(0, read))).split("\n");
      partial[index] = lines.pop()!;
      for (const line of lines) onLine(service, line);
    }
    if (changed) continue;
    await Promise.race([
      delay(options.intervalMs ?? 200, { signal: options.signal }).catch(() => {}),
      new Promise<void>((resolve) => wake = resolve),
    ]);
  }
  watcher?.close();
}

/** Calls `onChange` on each change in `dir`; undefined when it cannot be watched (polling only). */
function watchQuietly(dir: string, onChange: () => void): { close(): void } | undefined {
  let watcher: Deno.FsWatcher;
  try {
    watcher = Deno.watchFs(dir, { recursive: false });
  } catch {
    return undefined;
  }
  (async () => {
    for await (const _event of watcher) onChange();
  })().catch(() => {});
  return {
    close: () => {
      try {
        watcher.close();
      } catch {
        // Closed already.
      }
    },
  };
}
