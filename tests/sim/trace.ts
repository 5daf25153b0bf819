/**
 * The readable trace of a run: every line is `<simulated ms> <who> <what>`, from the real code's
 * own log lines (through a {@linkcode Logger} that writes here) and from the simulation's events
 * (faults, deliveries that matter, verdicts). Off by default, for speed; a failing seed is run
 * again with it on.
 */
import type { LogFields, Logger } from "../../lib/common/log.ts";

/** Collects trace lines when enabled. */
export class Trace {
  readonly lines: string[] = [];
  constructor(readonly enabled: boolean, readonly now: () => number) {}

  /** Adds a line for `who`. */
  add(who: string, what: string, fields: LogFields = {}): void {
    if (!this.enabled) return;
    const facts = Object.entries(fields).filter(([, v]) => v !== undefined)
      .map(([k, v]) => ` ${k}=${String(v)}`).join("");
    this.lines.push(`${this.now().toFixed(1).padStart(9)} ${who.padEnd(8)} ${what}${facts}`);
  }

  /** A logger for the real code of `who`. */
  logger(who: string): Logger {
    const emit = (level: string) => (message: string, fields?: LogFields) =>
      this.add(who, level === "info" ? message : `${level.toUpperCase()}: ${message}`, fields);
    return { info: emit("info"), warn: emit("warn"), error: emit("error") };
  }
}
