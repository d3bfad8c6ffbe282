import { readFile } from 'node:fs/promises';
import { type Command } from 'commander';
import { CliContext, apiOptions, type GlobalFlags } from './context.js';
import { usageError } from './exit-codes.js';

/** Options as commander hands them over: strings, booleans and lists. */
export type Flags = GlobalFlags & Record<string, string | boolean | string[] | undefined>;

/**
 * Declares an API subcommand: the global options, an example for its
 * `--help`, and an action that receives the resolved context, the
 * positional arguments and the flags.
 */
export function apiCommand(
  parent: Command,
  spec: { name: string; description: string; example: string; tenant?: boolean },
  run: (ctx: CliContext, args: string[], flags: Flags) => Promise<void>,
): Command {
  const cmd = parent.command(spec.name).description(spec.description);
  cmd.addHelpText('after', `\nExample:\n  $ ${spec.example}\n`);
  cmd.action(async (...all: unknown[]) => {
    const self = all[all.length - 1] as Command;
    const flags = self.opts<Flags>();
    const args = self.processedArgs.flatMap((a: unknown) => (a === undefined ? [] : Array.isArray(a) ? (a as string[]) : [a as string]));
    await run(await CliContext.from(flags), args, flags);
  });
  return apiOptions(cmd, { tenant: spec.tenant ?? true });
}

/**
 * A JSON value given on the command line: inline JSON, `@file.json`, or `-`
 * for standard input. `what` names it in errors (exit 2).
 */
export async function jsonInput(source: string, what: string): Promise<unknown> {
  let text = source;
  if (source === '-') text = await readStdin();
  else if (source.startsWith('@')) {
    try {
      text = await readFile(source.slice(1), 'utf8');
    } catch (err) {
      throw usageError(`${what}: cannot read ${source.slice(1)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`${what}: not valid JSON (${(err as Error).message})`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A whole number option, or a usage error naming it. */
export function intFlag(value: string | boolean | string[] | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) throw usageError(`${name}: must be a whole number, got ${String(value)}`);
  return n;
}

/** A number option (decimals allowed), or a usage error naming it. */
export function numberFlag(value: string | boolean | string[] | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n)) throw usageError(`${name}: must be a number, got ${String(value)}`);
  return n;
}

/** A comma-separated list option. */
export function listFlag(value: string | boolean | string[] | undefined): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A string option as a string (commander types them loosely). */
export const str = (value: string | boolean | string[] | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

/** Drops undefined values, so a PATCH sends only what was given. */
export function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
