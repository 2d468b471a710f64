import { nameKey } from '../../protocol/index.js';
import { oneUser } from './args.js';
import { defineCommand } from './command.js';

/** `/fp [user]`: identity fingerprints, to compare out of band (yours without a name). */
export const fpCommand = defineCommand<{ user?: string }>({
  name: 'fp',
  group: 'trust',
  aliases: [],
  usage: '/fp [user]',
  help: "show a user's fingerprint (yours without a name), to compare out of band",
  details:
    'Compare the identity fingerprint: it is the one your friend sees for you in /fp and `securechat keys`. /verify compares a safety number instead.',
  firstArg: 'user',
  parse: (args) => (args.trim() === '' ? {} : oneUser(args)),
  run({ user }, { client, screen }) {
    if (user === undefined || nameKey(user) === nameKey(client.name)) {
      const own = client.user;
      screen.notice(
        'info',
        own.identity
          ? `you (${client.name}): identity ${own.identityFingerprint()} <- compare this one (connection key ${own.fingerprint})`
          : `you (${client.name}): key ${own.fingerprint} (legacy v1 mode: no identity key)`,
      );
      return;
    }
    const peer = client.peers.get(user);
    if (!peer) {
      screen.notice('error', `${user} is not online`, 'E_UNKNOWN_USER');
      return;
    }
    screen.notice(
      'info',
      peer.identityFingerprint
        ? `${peer.name}: identity ${peer.identityFingerprint} <- compare this one (connection key ${peer.fingerprint})`
        : `${peer.name}: key ${peer.fingerprint} (legacy v1 client: no identity key)`,
    );
  },
});
