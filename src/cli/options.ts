import { type Command, Option } from 'commander';

/** One CLI option: flags, help, its SECURECHAT_* variable and default (shown by --help). */
export interface OptionSpec {
  flags: string;
  help: string;
  env?: string;
  default?: string;
  choices?: string[];
}

/** Adds options from a table (flags > environment > defaults, via commander's Option.env). */
export function addOptions(command: Command, specs: OptionSpec[]): Command {
  for (const spec of specs) {
    const option = new Option(spec.flags, spec.help);
    if (spec.env) option.env(spec.env);
    if (spec.default !== undefined) option.default(spec.default);
    if (spec.choices) option.choices(spec.choices);
    command.addOption(option);
  }
  return command;
}
