/**
 * A tiny runtime schema helper: enough to check the arguments of every API
 * call at a trust boundary (IPC, WebSocket, worker), with the checked type
 * inferred for the compiler. No dependency, no Node or DOM APIs.
 */

export interface Schema<T> {
  /** What is wrong with `value`, as a clause naming `what` (and the value typed, when it is text), or null when it is a T. */
  problem(value: unknown, what: string): string | null;
  readonly optional: boolean;
  /** The value in words ("the address"): what a problem calls it, in place of its position in the call. */
  readonly label?: string;
  /** Phantom member for type inference; never set. */
  readonly __type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

function schema<T>(problem: (value: unknown, what: string) => string | null, optional = false): Schema<T> {
  return { problem, optional };
}

/** The same schema, named in words in its problems (`named('the address', address)`). */
export function named<T>(label: string, inner: Schema<T>): Schema<T> {
  return { ...inner, label };
}

/** What was typed, quoted as JSON quotes it (control characters escaped) and cut to a length a sentence can hold. */
function typed(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/** A problem and, after "; ", what to do about it. */
function withFix(problem: string, fix: string | undefined): string {
  return fix ? `${problem}; ${fix}` : problem;
}

export interface StringRules {
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** Shown when `pattern` or `check` refuses, e.g. "letters, digits and . _ -". */
  expect?: string;
  /** A last word: a clause saying what is wrong, or null. */
  check?: (value: string) => string | null;
  /** What to do when the value is refused ("type HOST or HOST:PORT"). */
  fix?: string;
  /** The value is secret (a passphrase): a problem never repeats it. */
  secret?: boolean;
}

export function string(rules: StringRules = {}): Schema<string> {
  const { min = 0, max = 4096 } = rules;
  return schema((v, what) => {
    if (typeof v !== 'string') return `${what} must be text`;
    const named = rules.secret ? what : `${what} ${typed(v)}`;
    if (v.length < min) return withFix(min === 1 ? `${what} must not be empty` : `${named} has ${v.length} characters, fewer than ${min}`, rules.fix);
    if (v.length > max) return withFix(`${what} has ${v.length} characters, more than ${max}`, rules.fix);
    if (rules.pattern && !rules.pattern.test(v)) return withFix(`${named} is not ${rules.expect ?? `of the form ${rules.pattern.source}`}`, rules.fix);
    const wrong = rules.check?.(v);
    return wrong ? withFix(`${named} ${wrong}`, rules.fix) : null;
  });
}

/** `what` and, when it is a plain number or text, the value given. */
function withValue(what: string, v: unknown): string {
  if (typeof v === 'string') return `${what} ${typed(v)}`;
  return typeof v === 'number' && Number.isFinite(v) ? `${what} ${v}` : what;
}

export function integer(min: number, max: number): Schema<number> {
  return schema((v, what) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? null : `${withValue(what, v)} is not a whole number from ${min} to ${max}`,
  );
}

export function boolean(): Schema<boolean> {
  return schema((v, what) => (typeof v === 'boolean' ? null : `${what} must be true or false`));
}

export function oneOf<const T extends readonly string[]>(...values: T): Schema<T[number]> {
  return schema((v, what) => ((values as readonly unknown[]).includes(v) ? null : `${withValue(what, v)} is not one of ${values.join(', ')}`));
}

export function array<T>(item: Schema<T>, max: number): Schema<T[]> {
  return schema((v, what) => {
    if (!Array.isArray(v)) return `${what} must be a list`;
    if (v.length > max) return `${what} must have at most ${max} entries`;
    for (let i = 0; i < v.length; i++) {
      const p = item.problem(v[i], item.label ?? `entry ${i + 1} of ${what}`);
      if (p) return p;
    }
    return null;
  });
}

/** Any value: one that a later, more precise check looks at (a call's arguments, by the call's own schema). */
export function unchecked(): Schema<unknown> {
  return schema(() => null);
}

export function optional<T>(inner: Schema<T>): Schema<T | undefined> {
  return { ...schema<T | undefined>((v, what) => (v === undefined ? null : inner.problem(v, what)), true), label: inner.label };
}

/**
 * One of several shapes, e.g. a discriminated union of objects. The first
 * alternative that fits wins; when none does, `expect` says what would.
 */
export function union<const S extends readonly Schema<unknown>[]>(expect: string, ...alternatives: S): Schema<Infer<S[number]>> {
  return schema((v, what) => (alternatives.some((a) => a.problem(v, what) === null) ? null : `${what} must be ${expect}`));
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: undefined extends Infer<S[K]> ? K : never }[keyof S];
type ObjectOf<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> };

/** A plain object with exactly these keys (unknown keys are refused, not ignored). */
export function object<S extends Shape>(shape: S): Schema<{ [K in keyof ObjectOf<S>]: ObjectOf<S>[K] }> {
  return schema((v, what) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return `${what} must be an object`;
    for (const key of Object.keys(v)) if (!Object.hasOwn(shape, key)) return `${what} has an unknown field "${key}"`;
    for (const [key, field] of Object.entries(shape)) {
      const p = field.problem((v as Record<string, unknown>)[key], field.label ?? `the field "${key}" of ${what}`);
      if (p) return p;
    }
    return null;
  });
}

/**
 * An argument list. Trailing optional arguments may be left out; extra ones
 * are refused, so a caller cannot smuggle anything past the check.
 */
export function args<const S extends readonly Schema<unknown>[]>(...items: S): Schema<{ -readonly [K in keyof S]: Infer<S[K]> }> {
  return schema((v, what) => {
    if (!Array.isArray(v)) return `${what} must be a list`;
    if (v.length > items.length) return `${what} takes at most ${items.length} argument${items.length === 1 ? '' : 's'}, not ${v.length}`;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (i >= v.length && !item.optional) return `${what} needs ${items.filter((s) => !s.optional).length} argument(s)`;
      const p = item.problem(v[i], item.label ?? `argument ${i + 1}`);
      if (p) return p;
    }
    return null;
  });
}
