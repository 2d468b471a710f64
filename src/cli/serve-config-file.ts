/**
 * `serve --config FILE`: a JSON file whose keys are the long flags of `serve` without the
 * dashes (`{"port": 5000, "max-line": "64k", "lobby": false}`), applied below flags and
 * SECURECHAT_* variables and above the defaults. An unknown key, or a value of the wrong
 * type, is refused naming the key: a typo never runs a server with a default silently.
 *
 * JSON only: TOML would need a parser dependency for a file of a dozen scalar settings.
 */
import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { ConfigError } from '../server/config.js';

/** Keys whose options are `--no-<key>` (their value is true by default). */
function optionFor(command: Command, key: string): Option | undefined {
  return command.options.find(
    (option) => option.long === `--${key}` || option.long === `--no-${key}`,
  );
}

/** Reads and parses the file. @throws ConfigError naming the file. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`--config: cannot read ${path}: ${(cause as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`--config: ${path} is not valid JSON: ${(cause as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`--config: ${path} must hold one JSON object of settings`);
  return value as Record<string, unknown>;
}

/**
 * Applies the file's settings to the options still at their defaults (flags and the
 * environment win). @throws ConfigError for an unknown key or a value of the wrong type.
 */
export function applyConfigFile(
  command: Command,
  settings: Record<string, unknown>,
  path: string,
): void {
  for (const [key, value] of Object.entries(settings)) {
    // `"lobby": false` is --no-lobby: a boolean prefers the negated option.
    const negated =
      typeof value === 'boolean'
        ? command.options.find((option) => option.long === `--no-${key}`)
        : undefined;
    const option = key === 'config' ? undefined : (negated ?? optionFor(command, key));
    if (!option)
      throw new ConfigError(
        `--config: unknown setting "${key}" in ${path} (settings are serve's flags without --, e.g. "port", "max-line")`,
      );
    const attribute = option.attributeName();
    const takesValue = option.required || option.optional;
    let parsed: string | boolean;
    if (typeof value === 'boolean') {
      // --no-x options and plain switches take booleans; --metrics takes true too.
      if (takesValue && !option.optional && !option.negate)
        throw new ConfigError(`--config: "${key}" in ${path} takes a value, not ${value}`);
      parsed = value;
    } else if (typeof value === 'string' || typeof value === 'number') {
      if (!takesValue) throw new ConfigError(`--config: "${key}" in ${path} is true or false`);
      parsed = String(value);
    } else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) {
      parsed = value.join(',');
    } else {
      throw new ConfigError(`--config: "${key}" in ${path} has a value of the wrong type`);
    }
    const source = command.getOptionValueSource(attribute);
    if (source === 'cli' || source === 'env') continue;
    command.setOptionValueWithSource(attribute, parsed, 'config');
  }
}
