/** Messages between the transformation pool (pool.ts) and its threads (thread.ts). */

/** Limits of one run, the same for every run of a thread. */
export interface SandboxLimits {
  /** Longest a run may take, in milliseconds. */
  timeoutMs: number;
  /** Most memory a run may allocate, in bytes. */
  memoryBytes: number;
}

/**
 * Deadline of a save-time check, which only evaluates the source: more
 * room than a run, so a loaded machine does not refuse a good source
 * (a check that loops still ends). (Default: 10 runs' limit, at least 1 s)
 */
export const checkTimeoutMs = (limits: SandboxLimits): number => Math.max(1_000, 10 * limits.timeoutMs);

/**
 * `run`: evaluate the source and call the function with `input` (a JSON
 * text); `check`: evaluate the source only and say whether it is a function.
 */
export interface SandboxRequest {
  id: number;
  mode: 'run' | 'check';
  source: string;
  input: string;
}

/** Why a run failed, as recorded on the attempt (`errorCode`). */
export type SandboxErrorCode = 'transformation_error' | 'transformation_timeout' | 'transformation_memory' | 'transformation_busy';

export type SandboxResult = { ok: true; output: string } | { ok: false; code: SandboxErrorCode; message: string };

export type SandboxReply = { ready: true } | ({ id: number } & SandboxResult);
