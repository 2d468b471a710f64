import { splitWord } from './args.js';
import { moderationCommand, roomUserThen } from './moderation.js';

/** `10m`, `2h`, `1d`, `30s` or plain seconds → seconds. */
function parseDuration(word: string): number | undefined {
  const match = /^(\d{1,7})([smhd]?)$/.exec(word);
  if (!match) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

/** `/ban [#room] <user> [duration] [reason]`: the identity, not just the name. */
export const banCommand = moderationCommand({
  name: 'ban',
  usage: '/ban [#room] <user> [duration] [reason]',
  help: 'ban an identity from a room (not just the name), for a duration like 10m, 2h, 1d or for good',
  parse: (args) =>
    roomUserThen(args, (rest) => {
      const { word, rest: reason } = splitWord(rest);
      const duration = word === '' ? undefined : parseDuration(word);
      if (duration === undefined) return rest ? { reason: rest } : {};
      if (duration < 1) return { error: 'a ban lasts at least one second' };
      return { duration, ...(reason ? { reason } : {}) };
    }),
});
