import { join } from 'node:path';
import { expect } from 'vitest';
import { defaultServerConfig, type ServerConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { type RunningServer, type ServerDeps, startServer } from '../../src/server/server.js';
import { testCertificate } from './certs.js';
import { LogSink } from './log-sink.js';
import type { RawClient } from './raw-client.js';

export interface TestServer {
  server: RunningServer;
  port: number;
  logs: LogSink;
  /** The security-event stream (kept apart from the main log so floods cannot rotate it away). */
  securityLogs: LogSink;
  certPath: string;
  certPem: string;
  close(): Promise<void>;
}

/** Starts a real daemon on 127.0.0.1, port 0, with throwaway certs and captured logs. */
export async function startTestServer(
  overrides: Partial<ServerConfig> = {},
  deps: ServerDeps = {},
): Promise<TestServer> {
  const cert = await testCertificate();
  const logs = new LogSink();
  const securityLogs = new LogSink();
  const config: ServerConfig = {
    ...defaultServerConfig,
    host: '127.0.0.1',
    port: 0,
    certPath: cert.certPath,
    keyPath: cert.keyPath,
    dataPath: ':memory:',
    logLevel: 'debug',
    ...overrides,
  };
  if (overrides.dataPath === undefined) config.dataPath = ':memory:';
  const server = await startServer(
    config,
    createLogger({ level: config.logLevel, destination: logs, securityDestination: securityLogs }),
    deps,
  );
  return {
    server,
    port: server.port,
    logs,
    securityLogs,
    certPath: cert.certPath,
    certPem: cert.certPem,
    close: () => server.close(),
  };
}

export function tempPath(dir: string, name: string): string {
  return join(dir, name);
}

/** Something that can say who is online (a running test server). */
export interface Presence {
  server: { directory: { get(name: string): unknown } };
}

/** Waits (bounded) until the server no longer counts `name` as online. */
export async function waitOffline(t: Presence, name: string): Promise<void> {
  for (let i = 0; i < 500 && t.server.directory.get(name) !== undefined; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  expect(t.server.directory.get(name), `${name} still online`).toBeUndefined();
}

/** Closes `client` and waits until the server no longer counts `name` as online. */
export async function goOffline(t: Presence, client: RawClient, name: string): Promise<void> {
  client.close();
  await waitOffline(t, name);
}
