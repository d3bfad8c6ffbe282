/**
 * Exit codes of `herald`, so that scripts can tell failures apart without
 * parsing messages. Documented in README.md ("Exit codes"); changing a value
 * breaks scripts.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Anything else: the server failed (5xx), a rate limit that did not clear, a local I/O error. */
  failure: 1,
  /** The command line is wrong: unknown subcommand or flag, missing argument, unreadable payload. */
  usage: 2,
  /** The server could not be reached (refused, DNS, timeout). */
  unreachable: 3,
  /** The token was refused (401) or may not do this (403). */
  auth: 4,
  /** The tenant, endpoint, event, delivery or token does not exist (404). */
  notFound: 5,
  /** The server refused the request's content (400, 409, 413, 415, 422): the message names the field. */
  refused: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line and an exit code, never a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A mistake on the command line (exit 2). */
export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);

/** The exit code for an HTTP status the API answered with. */
export function exitCodeOfStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status === 404) return EXIT.notFound;
  if ([400, 409, 413, 415, 422].includes(status)) return EXIT.refused;
  return EXIT.failure;
}
