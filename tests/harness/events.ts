/**
 * Reading what lab processes report. Test processes log JSON lines (`LOG_FORMAT=json`), so tests
 * wait on events and their facts (epoch, node, leader) instead of on text.
 */
import type { LabProcess } from "./process.ts";

/** One parsed log line. */
export type LogRecord = Record<string, string | number | boolean> & { msg: string };

/** An event seen in a process's output. */
export interface SeenEvent {
  readonly record: LogRecord;
  /** The line's index in `process.lines`. */
  readonly index: number;
  /** When the line was read (`performance.now()` of the test process). */
  readonly at: number;
}

/** Parses a JSON log line; undefined for anything else. */
export function parseRecord(text: string): LogRecord | undefined {
  if (!text.startsWith("{")) return undefined;
  try {
    const value = JSON.parse(text);
    return typeof value?.msg === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A matcher for one event: its message and, optionally, a condition on its facts. */
export function eventMatcher(msg: string, where: (record: LogRecord) => boolean = () => true) {
  return (line: string) => {
    const record = parseRecord(line);
    return record !== undefined && record.msg === msg && where(record);
  };
}

/** Waits until `process` reports `msg` (matching `where`) at or after line `from`. */
export async function waitForEvent(
  process: LabProcess,
  msg: string,
  options: { from?: number; timeoutMs?: number; where?: (record: LogRecord) => boolean } = {},
): Promise<SeenEvent> {
  const seen = await process.waitForLine(eventMatcher(msg, options.where), {
    from: options.from,
    timeoutMs: options.timeoutMs ?? 10_000,
  });
  return { record: parseRecord(seen.text)!, index: seen.index, at: seen.at };
}

/** Every `msg` event of `process` from line `from` on. */
export function eventsOf(process: LabProcess, msg: string, from = 0): SeenEvent[] {
  const events: SeenEvent[] = [];
  process.lines.forEach((line, index) => {
    if (index < from) return;
    const record = parseRecord(line.text);
    if (record?.msg === msg) events.push({ record, index, at: line.at });
  });
  return events;
}

/** A master's role as its last transition says: leader, follower or none. */
export function lastRole(process: LabProcess): "leader" | "follower" | "none" {
  for (let index = process.lines.length - 1; index >= 0; index--) {
    const record = parseRecord(process.lines[index].text);
    if (!record) continue;
    // Transitions carry facts; the periodic status lines carry none.
    if (record.msg === "I am the leader" && record.epoch !== undefined) return "leader";
    if (record.msg === "I am the follower" && record.leader !== undefined) return "follower";
    if (record.msg === "I am no longer the leader" || record.msg === "Left the election for now") {
      return "none";
    }
  }
  return "none";
}
