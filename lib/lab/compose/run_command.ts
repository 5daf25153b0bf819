/** Running other programs (docker, docker-compose) from the CLI, with deadlines. */

/** The outcome of {@linkcode runCommand}. */
export interface CommandResult {
  readonly success: boolean;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@linkcode runCommand}. */
export interface RunOptions {
  /** Show the output to the user instead of capturing it. */
  readonly inherit?: boolean;
  readonly env?: Readonly<Record<string, string>>;
  /** Kills the command after this long; a missing program or a timeout count as failure. */
  readonly timeoutMs?: number;
}

/** Runs `command` and resolves with its exit status and output; never rejects. */
export async function runCommand(
  command: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const io = options.inherit ? "inherit" : "piped";
  try {
    const output = await new Deno.Command(command[0], {
      args: command.slice(1),
      env: options.env ? { ...options.env } : undefined,
      stdin: options.inherit ? "inherit" : "null",
      stdout: io,
      stderr: io,
      signal: options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined,
    }).output();
    // Inherited streams cannot be read (Deno throws on access), so only piped ones are decoded.
    const decode = (read: () => Uint8Array) =>
      options.inherit ? "" : new TextDecoder().decode(read());
    return {
      success: output.success,
      code: output.code,
      stdout: decode(() => output.stdout),
      stderr: decode(() => output.stderr),
    };
  } catch (error) {
    // Not installed, or killed by the timeout.
    return { success: false, code: -1, stdout: "", stderr: String(error) };
  }
}
