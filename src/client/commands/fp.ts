import { nameKey } from '../../protocol/index.js';
import { oneUser } from './args.js';
import { defineCommand } from './command.js';

/** `/fp <user>`: key fingerprints, to compare out of band. */
export const fpCommand = defineCommand<{ user: string }>({
  name: 'fp',
  aliases: [],
  usage: '/fp <user>',
  help: "show a user's key fingerprint (yours too), to compare out of band",
  firstArg: 'user',
  parse: oneUser,
  run({ user }, { client, screen }) {
    if (nameKey(user) === nameKey(client.name)) {
      const own = client.user;
      const identity = own.identity ? ` identity ${own.identityFingerprint()}` : '';
      screen.notice('info', `your key ${own.fingerprint}${identity}`);
      return;
    }
    const peer = client.peers.get(user);
    if (!peer) {
      screen.notice('error', `${user} is not online`, 'E_UNKNOWN_USER');
      return;
    }
    const identity = peer.identityFingerprint
      ? ` identity ${peer.identityFingerprint}`
      : ' (legacy v1 client: no identity key)';
    screen.notice('info', `${peer.name}: key ${peer.fingerprint}${identity}`);
  },
});
