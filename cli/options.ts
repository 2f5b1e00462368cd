// A command's options, declared once. Its table gives both what Node's own
// util.parseArgs (strict) parses and the --help text, so the help cannot drift
// from the options; a misspelt option or command is answered with the closest
// valid one.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage';

interface Option {
  type: 'string' | 'boolean';
  /** One line for --help: what the option is for. */
  description: string;
  /** The value's placeholder in --help (HEX, FILE, N); an enumeration shows its choices instead. */
  value?: string;
  short?: string;
  default?: string;
  /** May be given more than once; its values are collected in order. */
  multiple?: boolean;
  /** The only values accepted. */
  choices?: readonly string[];
  /** Must be given; a string says why, after the message. */
  required?: true | string;
}

type Options = Record<string, Option>;

export interface Command<O extends Options = Options> {
  /** As typed: `smgw decode`, `smgw release sign`. */
  name: string;
  summary: string;
  /** The positional arguments' synopsis (`[FILE|-]`); without it, the command takes none. */
  arguments?: string;
  options: O;
  /** Command lines, each may end in `# what it does`; at least one. */
  examples: string[];
}

type Value<O extends Option> = O['type'] extends 'boolean' ? boolean : O extends { multiple: true } ? string[] : O extends { choices: readonly (infer C)[] } ? C : string;
// Booleans are false and repeatable options [] when absent; other options only have a value when given, defaulted or required.
type Given<O extends Option> = O extends { type: 'boolean' } | { multiple: true } | { default: string } | { required: true | string } ? Value<O> : Value<O> | undefined;
type Values<O extends Options> = { -readonly [K in keyof O]: Given<O[K]> };

/** The table as it is written, its types kept for what parse returns. */
export function command<const O extends Options>(c: Command<O>): Command<O> {
  return c;
}

const HELP: Option = { type: 'boolean', short: 'h', description: 'this help' };

/**
 * The command's values and positional arguments, or undefined when --help (-h)
 * was asked for: then the help is on stdout and the command exits 0. Anything
 * the table does not allow is a UsageError naming the option.
 */
export function parse<O extends Options>(c: Command<O>, argv: string[]): { values: Values<O>; positionals: string[] } | undefined {
  const table: Options = { ...c.options, help: HELP };
  const config: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, o] of Object.entries(table)) {
    // parseArgs refuses keys whose value is undefined.
    const entry: NonNullable<ParseArgsConfig['options']>[string] = { type: o.type, default: o.type === 'boolean' ? false : o.multiple ? [] : o.default };
    if (o.short) entry.short = o.short;
    if (o.multiple) entry.multiple = true;
    if (entry.default === undefined) delete entry.default;
    config[name] = entry;
  }
  // A lenient pass first, for its tokens: --help wins over any mistake beside it, and each mistake gets a message of our own.
  const { tokens } = parseArgs({ args: argv, options: config, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) {
    process.stdout.write(helpText(c) + '\n');
    return undefined;
  }
  for (const t of tokens) {
    if (t.kind === 'positional' && c.arguments === undefined) throw new UsageError(`${c.name} takes no arguments (got "${t.value}"); ${c.name} --help lists its options`);
    if (t.kind !== 'option') continue;
    const o = Object.hasOwn(table, t.name) ? table[t.name] : undefined;
    if (!o) throw new UsageError(unknownOption(c, t.rawName));
    if (o.type === 'boolean' && t.value !== undefined) throw new UsageError(`${t.rawName} takes no value (got "${t.rawName}=${t.value}")`);
    if (o.type === 'string' && t.value === undefined) throw new UsageError(`${t.rawName} needs a value: ${flag(t.name, o)}`);
    if (o.type === 'string' && !t.inlineValue && t.value!.startsWith('-')) throw new UsageError(`${t.rawName} ${t.value}: give a value that begins with - as --${t.name}=${t.value}`);
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: config, strict: true, allowPositionals: c.arguments !== undefined });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const values = parsed.values as Record<string, unknown>;
  delete values.help;
  for (const [name, o] of Object.entries(c.options)) {
    const v = values[name];
    if (v === undefined && o.required) throw new UsageError(`${flag(name, { ...o, short: undefined })} is required` + (typeof o.required === 'string' ? `: ${o.required}` : ''));
    if (typeof v === 'string' && o.choices && !o.choices.includes(v)) {
      const near = closest(v, o.choices);
      throw new UsageError(`--${name} must be one of ${o.choices.join(', ')}` + (near ? ` (got "${v}"; did you mean ${near}?)` : ` (got "${v}")`));
    }
  }
  return { values: values as Values<O>, positionals: parsed.positionals };
}

function unknownOption(c: Command, raw: string): string {
  const near = raw.startsWith('--') ? closest(raw.slice(2), Object.keys(c.options)) : undefined;
  return `unknown option ${raw}; ` + (near ? `did you mean --${near}?` : `${c.name} --help lists its options`);
}

/** `--key HEX`, `-o, --out FILE`, `--protocol sml|d0|...`. */
function flag(name: string, o: Option): string {
  const value = o.type === 'boolean' ? '' : ' ' + (o.value ?? o.choices?.join('|') ?? 'VALUE');
  return (o.short ? `-${o.short}, ` : '') + `--${name}${value}`;
}

/** What `<command> --help` prints: the synopsis, every option of the table with its default, the examples. */
export function helpText(c: Command): string {
  const required = Object.entries(c.options).filter(([, o]) => o.required).map(([name, o]) => flag(name, { ...o, short: undefined }));
  const synopsis = [c.name, ...required, '[options]', ...(c.arguments ? [c.arguments] : [])].join(' ');
  const rows = Object.entries({ ...c.options, help: HELP }).map(([name, o]): [string, string] => {
    const notes = [o.required ? 'required' : '', o.default !== undefined ? `default ${o.default}` : '', o.multiple ? 'repeatable' : ''].filter(Boolean);
    return [flag(name, o), o.description + (notes.length ? ` (${notes.join('; ')})` : '')];
  });
  return [`${c.name}: ${c.summary}`, '', `usage: ${synopsis}`, '', 'options:', ...table(rows), '', 'examples:', ...c.examples.map((e) => '  ' + e)].join('\n');
}

/** A list of subcommands (`smgw`, `smgw release`): what each does, and how to learn more. */
export function commandsHelp(name: string, summary: string, commands: Record<string, string>, examples: string[]): string {
  return [
    `${name}: ${summary}`,
    '',
    `usage: ${name} <command> [options]`,
    '',
    'commands:',
    ...table(Object.entries(commands)),
    '',
    `${name} <command> --help (or -h) shows a command's options and examples.`,
    '',
    'examples:',
    ...examples.map((e) => '  ' + e),
  ].join('\n');
}

/** Rows of two columns, the second wrapped at 100 characters. */
function table(rows: [string, string][]): string[] {
  const width = Math.min(30, Math.max(...rows.map(([left]) => left.length))) + 4;
  const out: string[] = [];
  for (const [left, right] of rows) {
    const lines = wrap(right, 100 - width);
    if (left.length + 4 > width) out.push('  ' + left, ...lines.map((l) => ' '.repeat(width) + l));
    else out.push(('  ' + left).padEnd(width) + lines[0], ...lines.slice(1).map((l) => ' '.repeat(width) + l));
  }
  return out;
}

function wrap(text: string, width: number): string[] {
  const lines = [''];
  for (const word of text.split(' ')) {
    const last = lines[lines.length - 1];
    if (last && last.length + 1 + word.length > width) lines.push(word);
    else lines[lines.length - 1] = last ? `${last} ${word}` : word;
  }
  return lines;
}

/**
 * The candidate a mistyped word most likely meant, if any is close enough: one
 * it abbreviates (`prot` for `protocol`), or one within a few edits (a third of
 * the longer word's length, at least one), so `bogus` suggests nothing rather
 * than something unrelated.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length >= 2) {
    const prefixed = candidates.filter((c) => c.startsWith(word));
    if (prefixed.length) return prefixed.reduce((a, b) => (b.length < a.length ? b : a));
  }
  // On a tie, the candidate of the word's own length: a swap or a wrong letter keeps it (`seped` is speed, not seed).
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    const score = d + Math.abs(c.length - word.length) / 100;
    if (score < bestScore && d <= Math.max(1, Math.floor(Math.max(word.length, c.length) / 3))) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/**
 * Edits (insert, delete, substitute, swap two neighbours) from a to b: the
 * optimal-string-alignment form of Damerau-Levenshtein, because a swapped pair
 * (`metre`, `sing`) is the commonest typing slip and should cost one edit, not
 * two. Options and commands are short, so the plain O(|a|·|b|) table is enough
 * and needs no library.
 */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
