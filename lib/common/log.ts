/**
 * Process logging: one line per event on stdout.
 *
 * The default `text` format is the original lab's Go `log` format (`2024/05/01 08:32:32 I am the
 * leader`), so the walkthrough's output is unchanged; facts for the reader follow the message as
 * `key=value`. `json` writes one JSON object per line for machines. Timestamps are local time, as
 * Go's `log` package prints them.
 */
import { LineBuffer } from "./line_buffer.ts";

/** The log formats a process can be started with. */
export type LogFormat = "text" | "json";

/** Facts attached to a log line: printed as `key=value` (text) or object fields (json). */
export type LogFields = Record<string, string | number | bigint | boolean | undefined>;

/** A logger bound to one format and output. */
export interface Logger {
  /** Logs an ordinary event. */
  info(message: string, fields?: LogFields): void;
  /** Logs a failure the process recovers from. */
  warn(message: string, fields?: LogFields): void;
  /** Logs a failure that ends the process or an operation. */
  error(message: string, fields?: LogFields): void;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Where lines go; defaults to stdout. */
  write?: (line: string) => void;
  /**
   * The logger's lines are frequent (one per task): on stdout, a line may wait up to GATHER_MS
   * (10 ms) to share a write with the next ones when the process wrote just before
   * (line_buffer.ts). Default false: written at the end of the turn. Its time is still the
   * moment it was logged.
   */
  frequent?: boolean;
  /**
   * The wall clock in ms since the epoch, whose fraction carries microseconds; defaults to
   * `performance.timeOrigin + performance.now()`.
   */
  now?: () => number;
}

const encoder = new TextEncoder();

/** Lines not yet written to stdout, and when they go: see line_buffer.ts. */
const stdoutLines = new LineBuffer({
  // A pipe may take a write in parts.
  write(text) {
    const bytes = encoder.encode(text);
    for (let written = 0; written < bytes.length;) {
      written += Deno.stdout.writeSync(bytes.subarray(written));
    }
  },
});

/** Writes every pending line now, in order. */
export function flushLogs(): void {
  stdoutLines.flush();
}

// `Deno.exit` dispatches `unload`: no line is lost.
globalThis.addEventListener("unload", flushLogs);

function pad(value: number): string {
  return String(value).padStart(2, "0");
}

/**
 * Formats a time (ms since the epoch) as RFC 3339 in UTC with microseconds, e.g.
 * `2024-05-01T06:32:32.123456Z`: the json format's `time`, precise enough to time a failover from
 * the lines of several processes (`Date.parse` reads it, to the millisecond).
 */
export function formatIsoTime(ms: number): string {
  const whole = Math.floor(ms);
  const micros = Math.min(999, Math.round((ms - whole) * 1000));
  return `${new Date(whole).toISOString().slice(0, -1)}${String(micros).padStart(3, "0")}Z`;
}

/** Reads a time written by {@linkcode formatIsoTime} back, to the microsecond; NaN otherwise. */
export function parseIsoTime(text: string): number {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})(\d{3})Z$/.exec(text);
  return match ? Date.parse(`${match[1]}Z`) + Number(match[2]) / 1000 : NaN;
}

/** Formats a date as Go's `log` package does by default: `2024/05/01 08:32:32`. */
export function formatGoTimestamp(date: Date): string {
  return `${date.getFullYear()}/${pad(date.getMonth() + 1)}/${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function formatValue(value: string | number | bigint | boolean): string {
  const text = String(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

/** Creates a logger writing in `format`. */
export function createLogger(format: LogFormat, options: LoggerOptions = {}): Logger {
  const frequent = options.frequent ?? false;
  const write = options.write ?? ((line: string) => stdoutLines.push(line, { frequent }));
  const now = options.now ?? (() => performance.timeOrigin + performance.now());
  const emit = (level: string, message: string, fields?: LogFields) => {
    const facts = (fields ? Object.entries(fields) : []).filter(([, value]) =>
      value !== undefined
    ) as [
      string,
      string | number | bigint | boolean,
    ][];
    if (format === "json") {
      const record: Record<string, unknown> = { time: formatIsoTime(now()), level, msg: message };
      for (const [key, value] of facts) {
        record[key] = typeof value === "bigint" ? value.toString() : value;
      }
      return write(JSON.stringify(record));
    }
    const suffix = facts.map(([key, value]) => ` ${key}=${formatValue(value)}`).join("");
    const prefix = level === "info" ? "" : `${level.toUpperCase()}: `;
    write(`${formatGoTimestamp(new Date(now()))} ${prefix}${message}${suffix}`);
  };
  return {
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
  };
}
