import { Command } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { addOptions } from '../../../src/cli/options.js';
import { serveConfigFromFlags } from '../../../src/cli/serve.js';
import { SERVE_OPTIONS } from '../../../src/cli/serve-options.js';
import { defaultServerConfig } from '../../../src/server/config.js';

function parse(args: string[]) {
  const command = addOptions(new Command('serve').exitOverride(), SERVE_OPTIONS);
  command.parse(args, { from: 'user' });
  return serveConfigFromFlags(command.opts());
}

describe('serve options', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('defaults to the documented defaults', () => {
    const config = parse([]);
    const { lobby, ...rest } = defaultServerConfig;
    expect(config).toMatchObject(rest);
    expect(config.lobby).toBe(lobby);
  });

  it('has a flag and a SECURECHAT_* variable for every new limit; flags win', () => {
    process.env.SECURECHAT_MAILBOX_TOTAL_BYTES = '64m';
    process.env.SECURECHAT_NAMES_PER_IDENTITY = '7';
    const config = parse([
      '--names-per-identity',
      '3',
      '--mailbox-page-bytes',
      '128k',
      '--room-ttl',
      '2d',
      '--v1-idle-timeout',
      '2h',
      '--shared-address',
      'none',
    ]);
    expect(config.mailboxTotalBytes).toBe(64 * 1024 * 1024);
    expect(config.namesPerIdentity).toBe(3);
    expect(config.mailboxPageBytes).toBe(128 * 1024);
    expect(config.roomTtlMs).toBe(2 * 86_400_000);
    expect(config.v1IdleTimeoutMs).toBe(2 * 3_600_000);
    expect(config.sharedAddresses).toEqual([]);
  });

  it('refuses a v1 idle timeout under an hour (seed clients never ping)', () => {
    expect(() => parse(['--v1-idle-timeout', '5m'])).toThrow(/at least 1h/);
    expect(parse(['--v1-idle-timeout', '0']).v1IdleTimeoutMs).toBe(0);
  });

  it('lists every option in --help with its default', () => {
    const help = addOptions(new Command('serve'), SERVE_OPTIONS).helpInformation();
    for (const flag of [
      '--mailbox-sender-bytes',
      '--rooms-per-identity',
      '--password-queue',
      '--new-names-per-address',
      '--bundle-opks-per-target',
      '--slow-reader-grace',
      '--security-log',
    ])
      expect(help).toContain(flag);
    expect(help).toContain('(default: "256m"');
  });
});
