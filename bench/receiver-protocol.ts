/** Messages between the bench and its receiver child process (over the IPC channel). */

export type ReceiverRequest =
  | { seq: number; type: 'reset'; record: boolean }
  | { seq: number; type: 'stats' }
  | { seq: number; type: 'arrivals' }
  | { seq: number; type: 'clock' }
  /** While down, /flaky/… paths answer 503. */
  | { seq: number; type: 'down'; down: boolean };

export interface ReceiverStats {
  /** Requests answered 2xx since the last reset. */
  count: number;
  /** Distinct (path, webhook-id) pairs among them. */
  distinct: number;
  /** Requests whose (path, webhook-id) pair was seen before since the last reset. */
  duplicates: number;
  /** Arrival of the first and last request (nowMs clock), 0 when none. */
  firstAt: number;
  lastAt: number;
  /** process.cpuUsage() of the receiver, microseconds (cumulative). */
  cpuUserUs: number;
  cpuSystemUs: number;
  rssBytes: number;
  /** /hang/ requests whose connection is still open. */
  hanging: number;
  /** /flaky/ requests answered 503 since the last reset. */
  refused: number;
}

export interface ReceiverArrivals {
  ids: string[];
  times: number[];
}

export type ReceiverReply =
  | { seq: number; type: 'ok' }
  | { seq: number; type: 'stats'; stats: ReceiverStats }
  | { seq: number; type: 'arrivals'; arrivals: ReceiverArrivals }
  | { seq: number; type: 'clock'; now: number };

export type ReceiverHello = { type: 'ready'; port: number } | { type: 'error'; message: string };
