/** What a command receives from the parser (program.ts): its arguments in order and its options. */

export interface Parsed {
  /** The arguments in the order the command declares them, a variadic one spread out. */
  positionals: string[];
  /** Options by commander's name for them: `--dry-run` is `dryRun`. */
  values: Record<string, string | string[] | boolean | undefined>;
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Every value of a repeatable option, in the order given. */
export function list(p: Parsed, name: string): string[] {
  const v = p.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

/** A repeatable option's values, in the order given (none: empty). */
export function strings(p: Parsed, name: string): string[] {
  const v = p.values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}
