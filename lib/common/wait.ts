/** Waiting with deadlines: every wait in the CLI ends, with a message that says what was awaited. */

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Options for {@linkcode waitFor}. */
export interface WaitOptions {
  readonly timeoutMs: number;
  /** Pause between attempts. Default 50 ms. */
  readonly intervalMs?: number;
  /** Completes the timeout message: `Timed out after 10000 ms waiting for <what>`. */
  readonly what: string;
}

/**
 * Calls `probe` until it returns a value other than undefined; errors count as "not yet", and the
 * last one is named in the timeout message.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: WaitOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (true) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(
        `Timed out after ${options.timeoutMs} ms waiting for ${options.what}${cause}`,
      );
    }
    await delay(options.intervalMs ?? 50);
  }
}

/** Resolves or rejects as `promise` does, or rejects after `timeoutMs` naming `what`. */
export function deadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
