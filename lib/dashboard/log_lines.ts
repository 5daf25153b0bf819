/**
 * Reading the services' log lines back into facts: the text format (Go's `log` layout with
 * `key=value` facts after the message, see lib/common/log.ts) and the JSON-lines format alike, so
 * the dashboard works whichever LOG_FORMAT the services were started with. Pure.
 */

/** One parsed log line. */
export interface LogRecord {
  readonly level: "info" | "warn" | "error";
  readonly message: string;
  readonly fields: Readonly<Record<string, string>>;
  /** The time written in the line (ms since the epoch), when it carries one. */
  readonly time?: number;
}

const TEXT_LINE = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d) (?:(WARN|ERROR): )?(.*)$/;
/** The shortest message followed by the longest tail of ` key=value` facts. */
const MESSAGE_AND_FACTS = /^(.*?)((?: [A-Za-z][\w]*=(?:"(?:[^"\\]|\\.)*"|[^\s"=]+))*)$/;
const FACT = / ([A-Za-z][\w]*)=("(?:[^"\\]|\\.)*"|[^\s"=]+)/g;

/** Parses one line; undefined for lines that are neither format (ZooKeeper's own, stack traces). */
export function parseLogLine(line: string): LogRecord | undefined {
  if (line.startsWith("{")) return parseJsonLine(line);
  const text = TEXT_LINE.exec(line);
  if (!text) return undefined;
  const [, year, month, day, hour, minute, second, level, rest] = text;
  const [, message, tail] = MESSAGE_AND_FACTS.exec(rest)!;
  const fields: Record<string, string> = {};
  for (const [, key, value] of tail.matchAll(FACT)) {
    fields[key] = value.startsWith('"') ? JSON.parse(value) : value;
  }
  // Go's log prints local time.
  const time = new Date(+year, +month - 1, +day, +hour, +minute, +second).getTime();
  return {
    level: level === "WARN" ? "warn" : level === "ERROR" ? "error" : "info",
    message,
    fields,
    time,
  };
}

function parseJsonLine(line: string): LogRecord | undefined {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof record !== "object" || record === null || typeof record.msg !== "string") {
    return undefined;
  }
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) {
    if (key !== "msg" && key !== "level" && key !== "time") fields[key] = String(value);
  }
  const level = record.level === "warn" || record.level === "error" ? record.level : "info";
  const time = typeof record.time === "string" ? Date.parse(record.time) : NaN;
  return { level, message: record.msg, fields, time: Number.isNaN(time) ? undefined : time };
}
