/** Argument parsing on node:util's parseArgs, with errors phrased for people. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { fail } from '../errors.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  positionals: string[];
  values: Record<string, string | boolean | string[] | undefined>;
}

export function parse(command: string, args: string[], options: OptionSpec, positionals: { min: number; max: number; usage: string }): Parsed {
  let parsed: Parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as Parsed;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '');
    return fail('usage', `${command}: ${msg}; usage: netsync ${positionals.usage}`);
  }
  const n = parsed.positionals.length;
  if (n < positionals.min || n > positionals.max) {
    fail('usage', `${command}: expected ${describeCount(positionals)}, got ${n}; usage: netsync ${positionals.usage}`);
  }
  return parsed;
}

function describeCount({ min, max }: { min: number; max: number }): string {
  if (max === Infinity) return `at least ${min} argument${min === 1 ? '' : 's'}`;
  if (min === max) return `${min} argument${min === 1 ? '' : 's'}`;
  return `${min} to ${max} arguments`;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}
