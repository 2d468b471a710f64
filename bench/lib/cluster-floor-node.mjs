// One node of bench/cluster-floor.mjs (forked by it): reads its own stream through a
// consumer group as src/server/cluster/cluster-inbox.ts does, answers the relay entries it
// reads and counts the answers to its own; with --k it also sends relays to its peer.
//
//   node bench/lib/cluster-floor-node.mjs --role NAME --peer NAME --url URL
//        --mode buffer|string|codec [--k K] [--budget N] [--line BYTES]
import Redis from 'ioredis';

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? fallback : argv[i + 1];
};
const GROUP = 'node';
const MAXLEN = 100_000;
const TRIM_EVERY = 256;
const NL = 10;
const TAB = 9;

/** The items of the relay entries read, answered (`corr\n` each); counts the answer lines read. */
function handler(mode, counts, codec) {
  if (codec) return codecHandler(codec, counts);
  if (mode === 'buffer') {
    const RELAYS = Buffer.from('relays');
    return (entries) => {
      let size = 0;
      for (const [, fields] of entries) size += fields[fields.length - 1].length;
      let out;
      let n = 0;
      for (const [, fields] of entries) {
        const v = fields[fields.length - 1];
        if (fields[1].equals(RELAYS)) {
          out ??= Buffer.allocUnsafe(Math.ceil(size / 8) + 64);
          let start = 0;
          while (start < v.length) {
            const end = v.indexOf(NL, start);
            if (end === -1) break;
            n += v.copy(out, n, start, v.indexOf(TAB, start));
            out[n++] = NL;
            start = end + 1;
          }
        } else {
          let start = 0;
          while (start < v.length) {
            const end = v.indexOf(NL, start);
            if (end === -1) break;
            counts.answered++;
            start = end + 1;
          }
        }
      }
      return out?.subarray(0, n);
    };
  }
  return (entries) => {
    let out;
    for (const [, fields] of entries) {
      const v = fields[fields.length - 1];
      if (fields[1] === 'relays') {
        out ??= '';
        let start = 0;
        while (start < v.length) {
          const end = v.indexOf('\n', start);
          if (end === -1) break;
          out += `${v.slice(start, v.indexOf('\t', start))}\n`;
          start = end + 1;
        }
      } else {
        let start = 0;
        while (start < v.length) {
          const end = v.indexOf('\n', start);
          if (end === -1) break;
          counts.answered++;
          start = end + 1;
        }
      }
    }
    return out;
  };
}

/**
 * `--modes codec`: string values handled by the cluster's own code (dist/, `npm run build`
 * first) instead of bare line splitting: relay items read with unpackRelays (each relay's
 * recipient, delivery line and size taken, as routeLocalLine would), answered with
 * packReplies; answers read with readReplies into the InFlight ring; entries made with
 * appendRelay. Minus the `string` row, it is what that code adds to the hop.
 */
function codecHandler({ unpackRelays, packReplies, readReplies, inFlight }, counts) {
  const delivered = { kind: 'delivered' };
  const answer = (corr, outcome) => inFlight.answer(corr, outcome);
  return (entries) => {
    let corrs;
    let outcomes;
    for (const [, fields] of entries) {
      const v = fields[fields.length - 1];
      if (fields[1] === 'relays') {
        corrs ??= [];
        outcomes ??= [];
        for (const relay of unpackRelays(v)) {
          counts.bytes += relay.line.length + relay.to.length + relay.cipherBytes;
          corrs.push(relay.corr);
          outcomes.push(delivered);
        }
      } else readReplies(v, answer);
    }
    return corrs && packReplies(corrs, outcomes);
  };
}

/**
 * The consumer-group reader loop of the cluster's inbox: the previous read's answers and,
 * every TRIM_EVERY entries, XACK + XTRIM go in the pipeline of the next read.
 */
async function readLoop(reader, stream, consumer, mode, replyTo, handle, heard) {
  let after;
  let handled = [];
  for (;;) {
    const pipeline = reader.pipeline();
    if (after !== undefined)
      pipeline.xadd(replyTo, 'MAXLEN', '~', MAXLEN, '*', 't', 'replies', 'x', after);
    if (handled.length >= TRIM_EVERY) {
      pipeline.xack(stream, GROUP, ...handled);
      pipeline.xtrim(stream, 'MINID', '~', handled[handled.length - 1]);
      handled = [];
    }
    const args = ['GROUP', GROUP, consumer, 'COUNT', 256, 'BLOCK', 2000, 'STREAMS', stream, '>'];
    if (mode === 'buffer') pipeline.xreadgroupBuffer(...args);
    else pipeline.xreadgroup(...args);
    const results = await pipeline.exec();
    after = undefined;
    for (const [error] of results) if (error) throw error;
    const entries = results.at(-1)[1]?.[0]?.[1] ?? [];
    if (entries.length === 0) continue;
    for (const entry of entries) handled.push(entry[0]);
    after = handle(entries);
    heard();
  }
}

/** k items of the cluster's relay format with a 10-digit corr at the start of each. */
function entryTemplate(k, lineBytes) {
  // (--line: the delivery line's bytes, newline included; 200 by default)
  const cipher = 'A'.repeat(Math.max(1, lineBytes - 128));
  const line = `{"type":"relay","from":"sender01","to":"recipient01","alg":"X25519+AESGCM","nonce":"AAAAAAAAAAAAAAAA","cipher":"${cipher}","id":"m1234"}\n`;
  const rest = `\t1796000000000\tsender01\t${'B'.repeat(43)}=\t\trecipient01\t${cipher.length}\t${line}`;
  const item = `${'0'.repeat(10)}${rest}`;
  return {
    rest,
    buffer: Buffer.from(item.repeat(k)),
    itemBytes: Buffer.byteLength(item),
    lineBytes: line.length,
  };
}

async function child() {
  const self = opt('role');
  const peer = opt('peer');
  const mode = opt('mode', 'buffer');
  const url = opt('url');
  const k = Number(opt('k', 0));
  const budget = Math.max(k, Number(opt('budget', 160)));
  const conn = { maxRetriesPerRequest: 1 };
  const main = new Redis(url, {
    ...conn,
    enableAutoPipelining: true,
    autoPipeliningIgnoredCommands: ['xadd'],
  });
  const reader = new Redis(url, conn);
  const own = `floor:inbox:${self}`;
  const theirs = `floor:inbox:${peer}`;
  await main.xgroup('CREATE', own, GROUP, '$', 'MKSTREAM').catch(() => {});
  const {
    rest,
    buffer: template,
    itemBytes,
  } = entryTemplate(Math.max(k, 1), Number(opt('line', 200)));
  const counts = { answered: 0, bytes: 0 };
  const codec =
    mode === 'codec'
      ? {
          ...(await import('../../dist/server/cluster/inbox-codec.js')),
          inFlight: new (await import('../../dist/server/cluster/in-flight.js')).InFlight(),
          relay: new (await import('../../dist/protocol/relay-route.js')).SplicedRelay(
            'recipient01',
            'm1234',
            Number(opt('line', 200)) - 128,
            rest.slice(rest.indexOf('"to":'), -1),
          ),
          sender: { name: 'sender01', identityKey: `${'B'.repeat(43)}=`, addressKey: undefined },
        }
      : undefined;
  const answered = () => counts.answered++;
  let corr = 0;
  let target = 0;
  let sent = 0;
  let entries = 0;
  let xadding = false;
  let phaseDone;
  /** One entry of k items: the template with each item's number written in. */
  const makeEntry = () => {
    if (mode === 'buffer') {
      const entry = Buffer.allocUnsafe(template.length);
      template.copy(entry);
      for (let i = 0; i < k; i++) {
        let c = ++corr;
        for (let d = 9; d >= 0; d--) {
          entry[i * itemBytes + d] = 48 + (c % 10);
          c = Math.floor(c / 10);
        }
      }
      return entry;
    }
    const parts = [];
    if (codec) {
      const deadline = Date.now() + 5000;
      for (let i = 0; i < k; i++)
        codec.appendRelay(
          parts,
          codec.inFlight.add(answered, undefined, codec.relay, deadline),
          deadline,
          codec.sender,
          codec.relay,
        );
    } else for (let i = 0; i < k; i++) parts.push(++corr, rest);
    return parts.join('');
  };
  const send = () => {
    while (!xadding && sent < target && sent - counts.answered + k <= budget) {
      xadding = true;
      sent += k;
      entries++;
      main
        .xadd(theirs, 'MAXLEN', '~', MAXLEN, '*', 't', 'relays', 'o', self, 'x', makeEntry())
        .then(() => {
          xadding = false;
          send();
        });
    }
  };
  readLoop(reader, own, self, mode, theirs, handler(mode, counts, codec), () => {
    if (phaseDone && counts.answered >= target) phaseDone();
    else send();
  }).catch((error) => {
    console.error(error);
    process.exit(1);
  });
  process.on('message', async (m) => {
    if (m.stop) process.exit(0);
    if (m.items) {
      target += m.items;
      const entries0 = entries;
      await new Promise((resolve) => {
        phaseDone = resolve;
        send();
      });
      phaseDone = undefined;
      process.send({ done: true, entries: entries - entries0 });
    }
  });
  process.send({ ready: true });
}

child();
