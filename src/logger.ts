import { pino } from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stdout; `level` is a pino level name. */
export function createLogger(level: string = process.env.HERALD_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { service: 'herald' }, timestamp: pino.stdTimeFunctions.isoTime });
}
