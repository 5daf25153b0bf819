/**
 * When each leader epoch can have been the leader's, from the observer's readings of the election
 * (election_history.ts): pure, so it is tested with plain data (checker_test.ts).
 *
 * A reading shows the members as they were at some instant between its `sentAt` and `answeredAt`.
 * Facts that only ever become true make the bounds certain: a node once deleted never returns, and
 * nodes join in epoch (czxid) order. So epoch E cannot have led
 * - before a reading that did not show it yet (it did not exist), nor before a reading that showed
 *   a lower epoch beside it (that node existed, continuously, from before E's creation);
 * - after a reading that no longer showed it (it was gone), nor after its history ended.
 * The window is the widest the readings allow; a verdict drawn from it never blames a leader for
 * the observer's lag.
 */

/** One reading of the election by the observer. */
export interface Reading {
  /** Which ZooKeeper history (0, and one more after each data loss) it was read from. */
  readonly history: number;
  /** Wall-clock ms (`Date.now()`) when the read was sent and answered. */
  readonly sentAt: number;
  readonly answeredAt: number;
  /** The members in election order; the first leads. */
  readonly members: readonly { readonly name: string; readonly epoch: bigint }[];
}

/** The moment (wall-clock ms) a history began. */
export interface HistoryStart {
  readonly history: number;
  readonly at: number;
}

/** The widest interval in which an epoch may have been the leader's. */
export interface EpochWindow {
  readonly notBefore: number;
  readonly notAfter: number;
}

/** The history that was current at wall-clock time `at`. */
export function historyAt(starts: readonly HistoryStart[], at: number): number {
  let history = starts[0]?.history ?? 0;
  for (const start of starts) if (start.at <= at) history = start.history;
  return history;
}

/** See the module comment; undefined when the observer never saw `epoch` in `history`. */
export function leadershipWindow(
  readings: readonly Reading[],
  starts: readonly HistoryStart[],
  history: number,
  epoch: bigint,
): EpochWindow | undefined {
  const ofHistory = readings.filter((reading) => reading.history === history);
  const shows = (reading: Reading) => reading.members.some((member) => member.epoch === epoch);
  const first = ofHistory.findIndex(shows);
  if (first === -1) return undefined;
  const last = ofHistory.findLastIndex(shows);
  const begin = starts.find((start) => start.history === history)?.at ?? -Infinity;
  const end = starts.find((start) => start.history === history + 1)?.at ?? Infinity;
  let notBefore = begin;
  ofHistory.forEach((reading, index) => {
    const excludes = index < first ||
      (shows(reading) && reading.members.some((member) => member.epoch < epoch));
    if (excludes && reading.sentAt > notBefore) notBefore = reading.sentAt;
  });
  const gone = ofHistory.slice(last + 1)[0];
  const notAfter = Math.min(end, gone ? gone.answeredAt : Infinity);
  return { notBefore, notAfter };
}

/** Formats a wall-clock ms time for a violation message, e.g. `20:14:03.217`. */
export function clockTime(at: number): string {
  return Number.isFinite(at) ? new Date(at).toISOString().slice(11, 23) : String(at);
}
