import { isIP } from 'node:net';
import { type Command, Option } from 'commander';
import { isValidRoom } from '../protocol/fields.js';
import {
  ConfigError,
  defaultServerConfig,
  parseByteSize,
  parseCount,
  parseDuration,
  parsePort,
  type ServerConfig,
  validateServerConfig,
} from '../server/config.js';
import { addOptions } from './options.js';
import { applyConfigFile, readConfigFile } from './serve-config-file.js';
import { SERVE_OPTIONS, type ValueKind } from './serve-options.js';
import { parseWorkers } from './serve-workers.js';

type ServeFlags = Record<string, string | boolean | undefined>;

export function addServeCommand(program: Command): void {
  const command = program
    .command('serve')
    .description('run the TLS relay daemon (generates a certificate on first run)');
  addOptions(command, SERVE_OPTIONS);
  command.option('--config <file>', 'settings from a JSON file (below flags and SECURECHAT_*)');
  command.action(async (flags: ServeFlags) => {
    if (typeof flags.config === 'string')
      applyConfigFile(command, readConfigFile(flags.config), flags.config);
    const resolved = command.opts<ServeFlags>();
    // The daemon's modules (TLS, store, Redis, metrics) load only when it runs, so the
    // other commands and --help start without them.
    const { runServe } = await import('./serve-run.js');
    await runServe(
      serveConfigFromFlags(resolved),
      resolved.prettyLogs === true ? true : undefined,
      parseWorkers(text(resolved, 'workers')),
    );
  });
}

function text(flags: ServeFlags, key: string): string {
  const value = flags[key];
  return typeof value === 'string' ? value : '';
}

function parseAddressList(list: string, flag: string): string[] {
  const addresses = list
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0 && part !== 'none');
  for (const address of addresses) {
    if (isIP(address) === 0)
      throw new ConfigError(`${flag} takes IP addresses; "${address}" is not one`);
  }
  return addresses;
}

const PARSE: Record<ValueKind, (text: string, label: string) => number | string> = {
  port: parsePort,
  bytes: parseByteSize,
  duration: parseDuration,
  count: parseCount,
  text: (value) => value,
};

function parseRoomName(room: string): string {
  if (!isValidRoom(room))
    throw new ConfigError(`--lobby must be # followed by 1-32 of A-Z a-z 0-9 _ . -; got "${room}"`);
  return room;
}

function parseFingerprints(list: string): string[] {
  const fingerprints = list
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part.length > 0);
  for (const fingerprint of fingerprints) {
    if (!/^[0-9a-f]{8}(-[0-9a-f]{8}){3}$/.test(fingerprint)) {
      throw new ConfigError(
        `--admin takes identity fingerprints like 0fa950aa-4c28781e-961ce120-6a83e05c; got "${fingerprint}"`,
      );
    }
  }
  return fingerprints;
}

/** Turns parsed flags into a validated config (throws ConfigError with the flag name). */
export function serveConfigFromFlags(flags: ServeFlags): ServerConfig {
  const host = text(flags, 'host');
  if (!host.trim()) throw new ConfigError('--host must not be empty');
  const config: ServerConfig = { ...defaultServerConfig, host };
  const fields = config as unknown as Record<string, unknown>;
  for (const spec of SERVE_OPTIONS) {
    if (!spec.key || !spec.kind) continue;
    const option = new Option(spec.flags);
    fields[spec.key] = PARSE[spec.kind](text(flags, option.attributeName()), option.long!);
  }
  const metrics = flags.metrics;
  const logFile = text(flags, 'logFile');
  const securityLog = text(flags, 'securityLog');
  const roomLockoutMs = parseDuration(text(flags, 'roomLockout'), '--room-lockout');
  const { lobby: _lobby, ...rest } = config;
  return validateServerConfig({
    ...rest,
    rateLimit: flags.rateLimit !== false,
    plaintextReply: flags.plaintextReply !== false,
    trustedProxies: parseAddressList(text(flags, 'trustedProxy'), '--trusted-proxy'),
    sharedAddresses: parseAddressList(text(flags, 'sharedAddress'), '--shared-address'),
    ...(flags.lobby === false ? {} : { lobby: parseRoomName(text(flags, 'lobby')) }),
    admins: parseFingerprints(text(flags, 'admin')),
    roomLockoutMs,
    roomPasswordWindowMs: roomLockoutMs,
    logLevel: text(flags, 'logLevel'),
    ...(logFile ? { logFile } : {}),
    ...(securityLog ? { securityLogFile: securityLog } : {}),
    ...(metrics ? { metrics: metrics === true ? '127.0.0.1:9464' : String(metrics) } : {}),
    ...(text(flags, 'redis') ? { redis: text(flags, 'redis') } : {}),
  });
}
