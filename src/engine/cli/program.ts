/**
 * The command line's parser and help, built with commander from the table
 * in commands.ts: `netsync help [COMMAND]`, `COMMAND --help`, `-V`,
 * `--version` and `netsync version` print to stdout and exit 0; a usage
 * error is one line naming the problem and the value typed, with "did you
 * mean" when a name is close, and exit 2.
 */
import { Command as Commander, type CommanderError, Help, Option } from 'commander';
import { NetsyncError } from '../errors.js';
import type { Parsed } from './args.js';
import { COMMANDS, type CommandSpec, GROUPS, SECTIONS, type Section } from './commands.js';
import { EXIT_CODES, exitCode } from './exit-codes.js';
import type { Output } from './output.js';

export interface Globals {
  db?: string;
  verbose?: boolean;
}

/** What the command line asks for: a command to run, or nothing more (help or the version was printed). */
export type Invocation = { kind: 'run'; spec: CommandSpec; input: Parsed; globals: Globals } | { kind: 'done'; code: number };

export interface ProgramInfo {
  /** `netsync 0.1.0`. */
  version: string;
  /** The default of --db, for the help. */
  defaultDb: string;
}

/** Ends the parse without an error: help or the version was printed. */
class Finished {
  constructor(readonly code: number) {}
}

const ROOT_USAGE = '[--db PATH] [--verbose] COMMAND [ARGS]';

export function parseCommandLine(argv: readonly string[], io: Output, info: ProgramInfo): Invocation {
  let chosen: Invocation | null = null;
  let helpFor: string[] | null = null;
  const program = new Commander('netsync')
    .usage(ROOT_USAGE)
    .option('--db <PATH>', `the database (default: $NETSYNC_DB, else ${info.defaultDb})`)
    .option('--verbose', 'on a failure, print its cause and stack trace too')
    .version(info.version, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help (also: netsync help COMMAND)')
    .configureOutput({
      writeOut: (text) => io.out(text.replace(/\n$/, '')),
      writeErr: (text) => io.note(text.replace(/\n$/, '')),
      outputError: () => {}, // reported by main.ts as one line (usageProblem)
    })
    // A command's help is commander's; the program's is the list of every command, by section (rootHelp).
    .configureHelp({
      showGlobalOptions: true,
      commandUsage: (cmd) => synopsis(cmd),
      subcommandTerm: (cmd) => `${cmd.name()} ${cmd.usage()}`.trim(),
      formatHelp: (cmd, helper) => (cmd.parent ? Help.prototype.formatHelp.call(helper, cmd, helper) : rootHelp(info)),
    });
  const groups = new Map<string, Commander>();
  for (const spec of COMMANDS) {
    const words = spec.name.split(' ');
    let parent = program;
    if (words.length === 2) {
      const group =
        groups.get(words[0]!) ??
        program
          .command(words[0]!)
          .usage('COMMAND')
          .helpCommand(false)
          .description(GROUPS[words[0]!] ?? '');
      groups.set(words[0]!, group);
      parent = group;
    }
    const cmd = defineCommand(parent.command(words.at(-1)!), spec);
    cmd.action(() => {
      requireOptions(cmd, spec);
      chosen = { kind: 'run', spec, input: inputOf(cmd), globals: program.opts<Globals>() };
    });
  }
  program
    .command('help')
    .argument('[COMMAND...]')
    .usage('[COMMAND]')
    .description('Print the help of COMMAND (db init, pull, ...), or the list of commands.')
    .action((names: string[]) => {
      helpFor = names;
    });
  program
    .command('version')
    .usage(' ')
    .description('Print the version.')
    .action(() => io.out(info.version));
  reportUsageErrors(program);
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof Finished) return { kind: 'done', code: e.code };
    throw e;
  }
  if (helpFor) return printHelp(program, helpFor, io, info);
  return chosen ?? { kind: 'done', code: 0 };
}

function defineCommand(cmd: Commander, spec: CommandSpec): Commander {
  cmd.summary(spec.summary).description(spec.description ?? `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.`);
  for (const a of spec.args ?? []) cmd.argument(a.startsWith('[') ? a : `<${a}>`);
  for (const o of spec.options ?? []) {
    const option = new Option(o.flags, o.required ? `${o.help} (required)` : o.help);
    if (o.conflicts) option.conflicts(o.conflicts);
    if (o.repeatable) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
    cmd.addOption(option);
  }
  cmd.usage(usageOf(spec) || ' '); // not '': commander would write "[options]"
  if (spec.examples) cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  ${e}`).join('\n')}`);
  return cmd;
}

/** `DIR --branch B [--message M] [--key NAME]`: the arguments, then the options (required ones without brackets). */
export function usageOf(spec: CommandSpec): string {
  const options = (spec.options ?? []).map((o) => {
    const long = /--[\w-]+/.exec(o.flags)![0];
    const value = /<([^>]+)>/.exec(o.flags)?.[1];
    const text = value ? `${long} ${value}` : long;
    if (o.repeatable) return `[${text}]...`;
    return o.required ? text : `[${text}]`;
  });
  return [...(spec.args ?? []), ...options].join(' ');
}

/**
 * Checked after commander's own checks, not by its makeOptionMandatory: commander checks those
 * before unknown options, and a typo (`--brnch`) is better reported as the typo.
 */
function requireOptions(cmd: Commander, spec: CommandSpec): void {
  for (const o of spec.options ?? []) {
    const option = cmd.options.find((x) => x.flags === o.flags)!;
    if (o.required && cmd.getOptionValue(option.attributeName()) === undefined) {
      throw new NetsyncError('usage', `${pathOf(cmd)}: ${option.long} is required; usage: ${synopsis(cmd)}`);
    }
  }
}

function inputOf(cmd: Commander): Parsed {
  const positionals = (cmd.processedArgs as (string | string[] | undefined)[]).flat().filter((a): a is string => a !== undefined);
  return { positionals, values: cmd.opts() };
}

/** `netsync commit DIR --branch B [--message M] [--key NAME]`. */
function synopsis(cmd: Commander): string {
  return ['netsync', pathOf(cmd), cmd.parent ? cmd.usage().trim() : ROOT_USAGE].filter(Boolean).join(' ');
}

/** The path of a command below `netsync`: `db init`, `pull`, '' for the program itself. */
function pathOf(cmd: Commander): string {
  const names: string[] = [];
  for (let c: Commander | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Every command reports its own parse errors, so the line can name the command and its usage. */
function reportUsageErrors(cmd: Commander): void {
  cmd.exitOverride((err) => {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') throw new Finished(0);
    if (err.code === 'commander.help') throw new Finished(exitCode('usage')); // `netsync` or `netsync db` alone: the help, on stderr
    throw new NetsyncError('usage', usageProblem(err, cmd));
  });
  for (const sub of cmd.commands) reportUsageErrors(sub);
}

/** One line from commander's error: what is wrong, the value typed, a suggestion when one is close, and where to look. */
export function usageProblem(err: CommanderError, cmd: Commander): string {
  const path = pathOf(cmd);
  const where = path ? `${path}: ` : '';
  const quoted = [...err.message.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
  const value = quoted[0] ?? '';
  const usage = `usage: ${synopsis(cmd)}`;
  // A command of a group typed without the group (`netsync check`) is suggested with it (`db check`).
  const inGroups = cmd.commands.flatMap((group) => (group.commands.some((c) => c.name() === value) ? [`${group.name()} ${value}`] : []));
  const similar = [...inGroups, ...(/\(Did you mean (?:one of )?(.+)\?\)/.exec(err.message)?.[1]?.split(', ') ?? [])];
  const didYouMean = (prefix: string) => (similar.length > 0 ? ` (did you mean ${similar.map((s) => `"${prefix}${s}"`).join(' or ')}?)` : '');
  const long = (flags: string) => /--[\w-]+/.exec(flags)?.[0] ?? flags;
  switch (err.code) {
    case 'commander.unknownCommand':
      return `unknown command "${path ? `${path} ` : ''}${value}"${didYouMean(path ? `${path} ` : '')}; "netsync help${path ? ` ${path}` : ''}" lists the commands`;
    case 'commander.unknownOption':
      return `${where}unknown option "${value}"${didYouMean('')}; "netsync help${path ? ` ${path}` : ''}" lists the options`;
    case 'commander.missingArgument':
      return `${where}${value} is missing; ${usage}`;
    case 'commander.excessArguments':
      return `${where}unexpected argument "${cmd.args[cmd.registeredArguments.length]}"; ${usage}`;
    case 'commander.optionMissingArgument':
      return `${where}${long(value)} needs a value; ${usage}`;
    case 'commander.conflictingOption':
      return `${where}${long(value)} and ${long(quoted[1] ?? '')} cannot be given together; ${usage}`;
    default:
      return `${where}${err.message.replace(/^error: /, '').replace(/\n/g, ' ')}; ${usage}`;
  }
}

/** `netsync help db init`: that command's help; an unknown name is reported as the parser reports it, with its suggestion. */
function printHelp(program: Commander, names: string[], io: Output, info: ProgramInfo): Invocation {
  let cmd = program;
  for (const [i, name] of names.entries()) {
    if (cmd.commands.length === 0) break;
    const next = cmd.commands.find((c) => c.name() === name);
    if (!next) return parseCommandLine(names.slice(0, i + 1), io, info);
    cmd = next;
  }
  cmd.outputHelp();
  return { kind: 'done', code: 0 };
}

/** The list of every command, by section (its arguments and required options; `help COMMAND` has the rest), the global options and the exit codes. */
function rootHelp(info: ProgramInfo): string {
  const synopsisOf = (c: CommandSpec) => usageOf({ ...c, options: c.options?.filter((o) => o.required) });
  const rows = (section: Section) => COMMANDS.filter((c) => c.section === section).map((c) => [`${c.name} ${synopsisOf(c)}`.trim(), c.summary] as const);
  const help = [
    ['help [COMMAND]', "a command's help and options (or: COMMAND --help)"],
    ['version', 'the version (or: -V, --version)'],
  ] as const;
  const width = Math.max(...(Object.keys(SECTIONS) as Section[]).flatMap((s) => rows(s).map(([u]) => u.length)));
  const line = ([usage, summary]: readonly [string, string]) => `  ${usage.padEnd(width)}  ${summary}`;
  const codes = EXIT_CODES.map((e) => `${e.code} ${e.name}`);
  const sections = (Object.keys(SECTIONS) as Section[]).map((s) => `${SECTIONS[s]}:\n${rows(s).map(line).join('\n')}`);
  return [
    `usage: netsync ${ROOT_USAGE}`,
    '',
    ...sections.flatMap((s) => [s, '']),
    `Help:\n${help.map(line).join('\n')}`,
    '',
    'Global options, before or after the command:',
    '  --db PATH     the database (default: $NETSYNC_DB, else',
    `                ${info.defaultDb})`,
    '  --verbose     on a failure, print its cause and stack trace too',
    '',
    'Patterns are branch globs (org.example.*); a leading ! excludes (!org.example.x*).',
    "A server's key is pinned at first contact (docs/SECURITY.md).",
    '',
    'Exit codes (what each means: README, "Exit codes"; 11 and 13-19 are kept for later):',
    ...[0, 4, 8].map((from) => `  ${codes.slice(from, from + 4).join(', ')}${from + 4 < codes.length ? ',' : ''}`),
    '',
  ].join('\n');
}
