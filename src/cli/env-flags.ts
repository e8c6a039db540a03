/**
 * Every flag of every command can also come from the environment: `--steps` of `lion train` from
 * `LION_TRAIN_STEPS`, `--hidden` of `lion make-model` from `LION_MAKE_MODEL_HIDDEN`. A flag given on the
 * command line wins over the variable, and the variable over the default. The command's name is part
 * of the variable's, so a variable set for one command never changes another (`LION_INDEX_OUTPUT` is
 * not `lion search`'s output). A switch (`--bf16`) is on when its variable is set to anything but '',
 * '0' or 'false'. This is how a script written once (the README's pipeline) is scaled
 * down or redirected without editing it, and `--help` lists each variable beside its flag.
 * @module
 */
import type { Command, Option } from 'commander';

/** The environment variable of `flag` (e.g. '--doc-length') on `command` (e.g. 'train'). */
export function flagEnvName(command: string, flag: string): string {
  const part = (s: string): string => s.replace(/^-+/, '').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
  return `LION_${part(command)}_${part(flag)}`;
}

/** Binds each long option of each subcommand of `program` to its environment variable. */
export function bindFlagEnv(program: Command): void {
  for (const cmd of program.commands) {
    for (const opt of cmd.options) if (opt.long && opt.long !== '--help') bind(cmd, opt);
    bindFlagEnv(cmd);
  }
}

function bind(cmd: Command, opt: Option): void {
  const name = flagEnvName(cmd.name(), opt.long!);
  opt.env(name);
  // Commander subscribes an option to its variable only when `env` is set before `addOption`; options
  // are registered by each command's module, so the subscription is made here, with the same rules:
  // a value option takes the variable's text (checked against its choices), a switch is turned on.
  cmd.on(`optionEnv:${opt.name()}`, (val: string | undefined) => {
    const key = opt.attributeName();
    const takesValue = opt.required || opt.optional;
    // A switch is on unless its variable is '', '0' or 'false' (a bare presence test would turn
    // LION_X=0 on).
    const on = !['', '0', 'false'].includes((process.env[name] ?? '').trim().toLowerCase());
    let value: unknown = takesValue && val !== undefined ? val : opt.negate ? !on : on;
    if (typeof value === 'string' && opt.parseArg) {
      try {
        value = opt.parseArg(value, cmd.getOptionValue(key) as never);
      } catch (e) {
        cmd.error(`error: option '${opt.flags}' value '${val}' from env '${name}' is invalid. ${(e as Error).message}`, {
          code: 'commander.invalidArgument',
          exitCode: 2,
        });
      }
    }
    cmd.setOptionValueWithSource(key, value, 'env');
  });
}
