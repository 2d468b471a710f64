/** Issue 15: `serve --config FILE`, precedence flags > env > file > defaults, unknown keys refused. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { addOptions } from '../../../src/cli/options.js';
import { serveConfigFromFlags } from '../../../src/cli/serve.js';
import { applyConfigFile, readConfigFile } from '../../../src/cli/serve-config-file.js';
import { SERVE_OPTIONS } from '../../../src/cli/serve-options.js';
import { describeError, ExitCode } from '../../../src/errors.js';

const file = (settings: unknown) => {
  const path = join(mkdtempSync(join(tmpdir(), 'securechat-conf-')), 'serve.json');
  writeFileSync(path, typeof settings === 'string' ? settings : JSON.stringify(settings));
  return path;
};

/** Parses `args` like `serve` does, then applies the file. */
function configFrom(args: string[], settings: unknown) {
  const command = addOptions(new Command('serve'), SERVE_OPTIONS).exitOverride();
  command.option('--config <file>');
  command.parse(args, { from: 'user' });
  const path = file(settings);
  applyConfigFile(command, readConfigFile(path), path);
  return serveConfigFromFlags(command.opts());
}

describe('serve --config', () => {
  afterEach(() => {
    delete process.env.SECURECHAT_MAX_LINE;
  });

  it('fills settings not given as flags or environment; flags and env win', () => {
    process.env.SECURECHAT_MAX_LINE = '32k';
    const config = configFrom(['--port', '7001'], {
      port: 6000,
      'max-line': '128k',
      'log-level': 'warn',
      lobby: false,
      'rate-limit': false,
      admin: ['0fa950aa-4c28781e-961ce120-6a83e05c'],
    });
    expect(config.port).toBe(7001); // flag
    expect(config.maxLineBytes).toBe(32 * 1024); // environment
    expect(config.logLevel).toBe('warn'); // file
    expect(config.lobby).toBeUndefined(); // file: no lobby
    expect(config.rateLimit).toBe(false);
    expect(config.admins).toEqual(['0fa950aa-4c28781e-961ce120-6a83e05c']);
    expect(configFrom([], {}).port).toBe(5000); // default
  });

  it('--no-plaintext-reply (flag or file) turns the plain-text answer off; on by default', () => {
    expect(configFrom([], {}).plaintextReply).toBe(true);
    expect(configFrom(['--no-plaintext-reply'], {}).plaintextReply).toBe(false);
    expect(configFrom([], { 'plaintext-reply': false }).plaintextReply).toBe(false);
  });

  it('refuses an unknown key, naming it, as a usage error', () => {
    let error: unknown;
    try {
      configFrom([], { prot: 5000 });
    } catch (caught) {
      error = caught;
    }
    expect((error as Error).message).toContain('unknown setting "prot"');
    expect(describeError(error).exitCode).toBe(ExitCode.usage);
  });

  it('refuses wrong types and files that are not a JSON object', () => {
    expect(() => configFrom([], { 'pretty-logs': 'yes' })).toThrow(
      /"pretty-logs" .* true or false/,
    );
    expect(() => configFrom([], { port: true })).toThrow(/"port" .* takes a value/);
    expect(() => configFrom([], '[1]')).toThrow(/one JSON object/);
    expect(() => configFrom([], '{nope')).toThrow(/not valid JSON/);
  });
});
