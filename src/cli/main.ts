/**
 * The `lion` command: a thin shell over the library. Each subcommand lives in src/cli/commands/<name>.ts
 * and exports `register(program)`; add it to COMMANDS below.
 * @module
 */
import { Command, CommanderError } from 'commander';
import { UsageError } from './flags.ts';
import { errorMessage } from './errors.ts';
import { bindFlagEnv } from './env-flags.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as doctor from './commands/doctor.ts';
import * as demo from './commands/demo.ts';
import * as encode from './commands/encode.ts';
import * as makeModel from './commands/make-model.ts';
import * as evalCmd from './commands/eval.ts';
import * as bm25 from './commands/bm25.ts';
import * as indexCmd from './commands/index.ts';
import * as searchCmd from './commands/search.ts';
import * as exportCmd from './commands/export.ts';
import * as trainTokenizer from './commands/train-tokenizer.ts';
import * as trainCmds from './commands/train.ts';
import * as negatives from './commands/negatives.ts';
import * as study from './commands/study.ts';
import * as serve from './commands/serve.ts';

interface CommandModule {
  register(program: Command): void;
}
const COMMANDS: CommandModule[] = [doctor, demo, encode, makeModel, evalCmd, bm25, indexCmd, searchCmd, exportCmd, trainTokenizer, trainCmds, negatives, study, serve];

const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('lion')
    .description('Sparse (Lion-SP) and dense (Lion-DS) retrieval with decoder-only LLMs: train, index, search, evaluate')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError();
  for (const c of COMMANDS) c.register(program);
  bindFlagEnv(program);
  return program;
}

/** Commander's codes for --help and --version: not errors. */
const NOT_ERRORS = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/** Exit statuses: 0 success, 1 a failure while running, 2 a usage error (bad flag, value or choice). */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  let command = '';
  program.hook('preAction', (_, action) => void (command = action.name()));
  // Every subcommand reports usage errors through the same override (exit 2, see below).
  const override = (c: Command): void => {
    c.exitOverride();
    // Commander's "error: unknown option '--x'" in Lion's form; the help follows (showHelpAfterError).
    const who = c.parent ? `lion ${c.name()}` : 'lion';
    c.configureOutput({
      outputError: (str, write) => write(str.replace(/^error: (.*)\n?$/s, (_, m: string) => `${who}: ${m.trim()}; hint: '${who} --help' lists the ${c.parent ? 'options' : 'commands'} (below)\n`)),
    });
    c.commands.forEach(override);
  };
  override(program);
  // `lion … --output - | head`: a reader that stops early is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
    throw e;
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) process.exit(NOT_ERRORS.has(e.code) ? e.exitCode : EXIT.usage);
    console.error(errorMessage(e, command || (argv[2] ?? '')));
    if (process.env.LION_DEBUG) console.error((e as Error).stack);
    process.exit(e instanceof UsageError ? EXIT.usage : EXIT.failure);
  }
}

// Tools that only need the command tree (scripts/cli-docs.ts, tests) import this module without running it.
if (!process.env.LION_NO_MAIN) await main(process.argv);
