import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { makeCertificate } from '../helpers/certs.js';
import {
  type JsonClient,
  type ServeProcess,
  spawnJsonClient,
  spawnServe,
  waitUntil,
} from '../helpers/cli.js';

/**
 * Interoperability with peers that share none of our code: a seed-protocol (v1) client
 * written in Python from design.md's "Wire protocol" alone (test/interop/seed_client.py),
 * and `openssl s_client` as a raw TLS peer.
 */

const SEED_CLIENT = fileURLToPath(new URL('../interop/seed_client.py', import.meta.url));
const hasPythonCrypto =
  spawnSync('python3', ['-c', 'import cryptography'], { encoding: 'utf8', timeout: 10_000 })
    .status === 0;
const hasOpenssl =
  spawnSync('openssl', ['version'], { encoding: 'utf8', timeout: 10_000 }).status === 0;

const SEED_TITLE = `interop with an independent seed-protocol client (Python ssl + cryptography)${
  hasPythonCrypto
    ? ''
    : ' - SKIPPED: python3 with the "cryptography" package was not found (apt-get install python3-cryptography)'
}`;
const OPENSSL_TITLE = `interop with a raw TLS peer (openssl s_client)${
  hasOpenssl ? '' : ' - SKIPPED: the openssl command was not found'
}`;

type SeedEvent = Record<string, unknown>;

interface SeedClient {
  proc: ChildProcess;
  events: SeedEvent[];
  send(line: string): void;
  waitFor(test: (e: SeedEvent) => boolean, timeoutMs?: number): Promise<SeedEvent>;
  /** Waits until `count` messages from `from` arrived; returns their texts in order. */
  texts(from: string, count: number): Promise<string[]>;
  /** Ends stdin (the client leaves) and resolves with its exit code. */
  end(): Promise<number | null>;
  exited: Promise<number | null>;
}

function spawnSeed(name: string, port: number, cafile: string): SeedClient {
  const proc = spawn('python3', [SEED_CLIENT, name, '127.0.0.1', String(port), cafile, '40'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const events: SeedEvent[] = [];
  let buffer = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      events.push(JSON.parse(buffer.slice(0, newline)) as SeedEvent);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  const describeState = () => `events ${JSON.stringify(events)}\nstderr ${stderr}`;
  return {
    proc,
    events,
    exited,
    send: (line) => proc.stdin!.write(`${line}\n`),
    waitFor: (test, timeoutMs = 10_000) =>
      waitUntil(
        () => events.find(test),
        timeoutMs,
        () => `a ${name} event; ${describeState()}`,
      ),
    texts: (from, count) =>
      waitUntil(
        () => {
          const texts = events
            .filter((e) => e.event === 'message' && e.from === from)
            .map((e) => String(e.text));
          return texts.length >= count ? texts : undefined;
        },
        10_000,
        () => `${count} messages from ${from} at ${name}; ${describeState()}`,
      ),
    async end() {
      proc.stdin!.end();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

const seedKnows = (user: string) => (e: SeedEvent) =>
  (e.event === 'users' || e.event === 'welcome') &&
  Object.hasOwn(e.users as Record<string, string>, user);

/** Incoming direct messages from `from`, in arrival order, once there are `count`. */
function ourTexts(client: JsonClient, from: string, count: number): Promise<string[]> {
  return waitUntil(
    () => {
      const texts = client.events
        .filter((e) => e.kind === 'message' && e.direction === 'in' && e.from === from)
        .map((e) => String(e.text));
      return texts.length >= count ? texts : undefined;
    },
    10_000,
    () => `${count} messages from ${from}; have ${JSON.stringify(client.events)}`,
  );
}

// Texts that exercise UTF-8 (2-, 3- and 4-byte sequences, a ZWJ emoji, combining marks),
// JSON-special characters and a frame spanning several TLS records.
const TO_SEED = [
  'hola desde TypeScript ✓ ¿qué tal? 你好 🍕🔐',
  'quotes " backslash \\ braces {"type":"relay"} tab-free',
  `long:${'ß€𝄞'.repeat(1500)}`,
];
const FROM_SEED = [
  'hello from Python é ñ ü — Ελληνικά — 日本語 — 👩‍💻 e\u0301',
  'second line from seed: <b>not html</b> & 100% "quoted"',
  `long:${'ж✓🙂'.repeat(1500)}`,
];

function expectNoPlaintext(server: ServeProcess, texts: string[]): void {
  const logs = [...server.stdout, ...server.stderr].join('\n');
  for (const text of texts) {
    expect(logs).not.toContain(text);
    expect(logs).not.toContain(text.slice(0, 12));
  }
}

describe.skipIf(!hasPythonCrypto)(SEED_TITLE, () => {
  let server: ServeProcess | undefined;
  const ours: JsonClient[] = [];
  const seeds: SeedClient[] = [];

  afterEach(async () => {
    for (const c of ours.splice(0)) c.kill();
    for (const s of seeds.splice(0)) s.proc.kill('SIGKILL');
    await server?.stop();
    server = undefined;
  });

  const modes = [
    { label: 'v2 client (identity key, --pin)', args: (s: ServeProcess) => ['--pin', s.pin] },
    {
      label: '--legacy v1 client (pinned by --cert, like the seed)',
      args: (s: ServeProcess) => ['--legacy', '--cert', s.certPath],
    },
  ];

  for (const mode of modes) {
    it(`chats both ways with our ${mode.label} through our server`, async () => {
      server = await spawnServe();
      const seed = spawnSeed('pyseed', server.port, server.certPath);
      seeds.push(seed);
      const welcome = await seed.waitFor((e) => e.event === 'welcome');
      const seedFingerprint = String(welcome.self);
      expect(welcome.users).toEqual({ pyseed: seedFingerprint });

      const alice = spawnJsonClient('alice', server.port, mode.args(server));
      ours.push(alice);
      // Our client marks the seed peer as legacy v1 (no identity, no forward secrecy).
      await alice.waitFor(
        (e) =>
          e.kind === 'users' &&
          (e.users as Array<{ name: string; status: string }>).some(
            (u) => u.name === 'pyseed' && u.status === 'legacy',
          ),
      );
      await seed.waitFor(seedKnows('alice')); // presence pushed to the v1 peer, no /list

      // Both sides compute the same v1 key fingerprints (SHA-256(pub), first 16 hex digits).
      alice.send('/fp pyseed');
      const fp = await alice.waitFor(
        (e) => e.kind === 'info' && String(e.text).startsWith('pyseed: key'),
      );
      expect(fp.text).toBe(`pyseed: key ${seedFingerprint} (legacy v1 client: no identity key)`);
      alice.send('/fp alice');
      const own = await alice.waitFor(
        (e) => e.kind === 'info' && String(e.text).startsWith('you (alice)'),
      );
      const seedView = await seed.waitFor(seedKnows('alice'));
      // the v1 key the seed sees (with an identity: the connection key beside it)
      expect(String(own.text)).toContain(`key ${(seedView.users as Record<string, string>).alice}`);

      // ours -> seed, in order
      for (const text of TO_SEED) alice.send(`/to pyseed ${text}`);
      expect(await seed.texts('alice', TO_SEED.length)).toEqual(TO_SEED);
      const outgoing = alice.events.filter(
        (e) => e.kind === 'message' && e.direction === 'out' && e.to === 'pyseed',
      );
      expect(outgoing.map((e) => e.protection)).toEqual(TO_SEED.map(() => 'e2ee-v1'));
      await waitUntil(
        () =>
          alice.events.filter((e) => e.kind === 'delivery' && e.status === 'delivered').length >=
          TO_SEED.length
            ? true
            : undefined,
        10_000,
        () => `delivery reports; have ${JSON.stringify(alice.events)}`,
      );

      // seed -> ours, written in one burst, in order
      seed.proc.stdin!.write(FROM_SEED.map((text) => `send alice ${text}\n`).join(''));
      expect(await ourTexts(alice, 'pyseed', FROM_SEED.length)).toEqual(FROM_SEED);
      const incoming = alice.events.find(
        (e) => e.kind === 'message' && e.direction === 'in' && e.from === 'pyseed',
      );
      expect(incoming).toMatchObject({
        to: 'alice',
        protection: 'e2ee-v1',
        keyStatus: 'legacy',
        fingerprint: seedFingerprint,
      });

      expect(seed.events.filter((e) => e.event === 'error')).toEqual([]);
      expect(
        alice.events.filter(
          (e) => e.kind === 'error' || (e.kind === 'notice' && e.level === 'warning'),
        ),
      ).toEqual([]);

      // The seed leaves: our client is told without asking.
      expect(await seed.end()).toBe(0);
      await alice.waitFor(
        (e) =>
          (e.kind === 'presence' && e.event === 'leave' && e.user === 'pyseed') ||
          (e.kind === 'users' &&
            !(e.users as Array<{ name: string }>).some((u) => u.name === 'pyseed') &&
            alice.events.indexOf(e) > alice.events.indexOf(incoming!)),
      );
      expect(await alice.end()).toBe(0);
      expectNoPlaintext(server, [...TO_SEED, ...FROM_SEED]);
    });
  }

  it('two seed clients chat through our server, which enforces the rules the seed server broke', async () => {
    server = await spawnServe();
    const ana = spawnSeed('ana', server.port, server.certPath);
    seeds.push(ana);
    await ana.waitFor((e) => e.event === 'welcome');
    const ben = spawnSeed('ben', server.port, server.certPath);
    seeds.push(ben);
    await ben.waitFor((e) => e.event === 'welcome' && seedKnows('ana')(e));
    await ana.waitFor(seedKnows('ben')); // join pushed, nobody sent list

    ana.send('send ben olá, ben — ünïcödé 🎉');
    ben.send('send ana bonjour ana ✓');
    expect(await ben.texts('ana', 1)).toEqual(['olá, ben — ünïcödé 🎉']);
    expect(await ana.texts('ben', 1)).toEqual(['bonjour ana ✓']);

    // A forged "from" is replaced by the sender's authenticated name: ben sees ana's
    // message as hers (and it decrypts, since it is sealed with ana's key).
    ana.send('forge ben ben spoof attempt');
    const forged = await ben.waitFor((e) => e.event === 'message' && e.text === 'spoof attempt');
    expect(forged.from).toBe('ana');

    // Server-readable chat round trip, non-ASCII sent \u-escaped by Python's json.
    ana.send('chat server may read this ✓ 🍕');
    const echo = await ana.waitFor((e) => e.event === 'server');
    expect(echo.text).toBe('echo: server may read this ✓ 🍕');

    // An online name cannot be taken over, not even with different case.
    const thief = spawnSeed('ANA', server.port, server.certPath);
    seeds.push(thief);
    const refused = await thief.waitFor((e) => e.event === 'error');
    expect(refused.code).toBe('E_NAME_TAKEN');
    expect(thief.events.some((e) => e.event === 'welcome')).toBe(false);
    ben.send('send ana still you?');
    expect(await ana.texts('ben', 2)).toEqual(['bonjour ana ✓', 'still you?']);

    // Leaving is pushed too.
    expect(await ben.end()).toBe(0);
    await ana.waitFor((e) => e.event === 'users' && !seedKnows('ben')(e));
    expect(await ana.end()).toBe(0);
    expect(ana.events.filter((e) => e.event === 'error')).toEqual([]);
    expectNoPlaintext(server, ['olá, ben', 'bonjour ana', 'spoof attempt', 'still you?']);
  });

  it('the seed client refuses a server whose certificate is not the pinned file', async () => {
    server = await spawnServe();
    const other = await makeCertificate();
    const seed = spawnSeed('pinned', server.port, other.certPath);
    seeds.push(seed);
    const failure = await seed.waitFor((e) => e.event === 'error');
    expect(String(failure.text)).toMatch(/CERTIFICATE_VERIFY_FAILED/);
    expect(await seed.exited).toBe(1);
    expect(seed.events.some((e) => e.event === 'welcome')).toBe(false);
  });
});

describe.skipIf(!hasOpenssl)(OPENSSL_TITLE, () => {
  let server: ServeProcess | undefined;
  let peer: ChildProcess | undefined;

  afterEach(async () => {
    peer?.kill('SIGKILL');
    peer = undefined;
    await server?.stop();
    server = undefined;
  });

  it('sends a hello and receives the welcome, then a server echo', async () => {
    server = await spawnServe();
    const pub = Buffer.alloc(32, 7).toString('base64');
    peer = spawn(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${server.port}`,
        '-quiet',
        '-CAfile',
        server.certPath,
        '-verify_return_error',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    peer.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    peer.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    peer.stdin!.write(`${JSON.stringify({ type: 'hello', user: 'openssl', pub })}\n`);
    const first = await waitUntil(
      () => (out.includes('\n') ? out.slice(0, out.indexOf('\n')) : undefined),
      10_000,
      () => `a line from openssl s_client; stdout ${out} stderr ${err}`,
    );
    expect(JSON.parse(first)).toEqual({ type: 'welcome', users: { openssl: pub } });

    peer.stdin!.write(`${JSON.stringify({ type: 'chat', text: 'ping über TLS' })}\n`);
    const echo = await waitUntil(
      () => out.split('\n').find((l) => l.includes('"type":"server"')),
      10_000,
      () => `an echo from the server; stdout ${out} stderr ${err}`,
    );
    expect(JSON.parse(echo)).toEqual({ type: 'server', text: 'echo: ping über TLS' });
  });
});
