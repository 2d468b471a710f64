import { oneUser } from './args.js';
import { defineCommand } from './command.js';

/** `/trust <user> | /trust --server`: accepting what changed, after checking it. */
export const trustCommand = defineCommand<{ user: string } | { server: true }>({
  name: 'trust',
  group: 'trust',
  aliases: [],
  usage: '/trust <user> | /trust --server',
  help: "accept a user's changed key or downgrade after checking it (/verify first)",
  details:
    'A user whose identity key changed, who now offers less than before (v1, no identity, no\n' +
    'forward secrecy: a downgrade), or whose key does not match an invite is blocked both ways.\n' +
    '/trust <user> accepts what they offer now; for a downgrade it says what is lost and\n' +
    'records the lower level. /trust --server accepts a server that stopped offering forward\n' +
    'secrecy (ratchet) for everyone on it.',
  firstArg: 'user',
  parse: (args) => (args.trim() === '--server' ? { server: true } : oneUser(args)),
  run(args, { client }) {
    if ('server' in args) client.trust.acceptServer();
    else client.trust.accept(args.user);
  },
});
