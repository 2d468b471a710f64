import { nameKey } from '../../protocol/index.js';
import { defineCommand } from './command.js';

/** `/window [N]`: switch the active window (Alt-N on a terminal), or list the windows. */
export const windowCommand = defineCommand<{ number?: number }>({
  name: 'window',
  group: 'session',
  aliases: ['win'],
  usage: '/window [N]',
  help: 'make window N the active one (Alt-N or F-N on most terminals); alone, list the windows',
  firstArg: 'none',
  parse(args) {
    const word = args.trim();
    if (word === '') return {};
    if (!/^\d{1,2}$/.test(word) || Number(word) < 1)
      return { error: 'a window number is 1, 2, 3… (see /window)' };
    return { number: Number(word) };
  },
  run({ number }, { conversations, screen }) {
    const windows = conversations.windows;
    if (number === undefined) {
      if (windows.length === 0) {
        screen.notice('info', 'no windows yet: /join #room or /query <user> opens one');
        return;
      }
      const active = conversations.activeWindow;
      const rows = windows.map((name, i) => {
        const key = nameKey(name);
        const unread = conversations.unread.get(key) ?? 0;
        const calls = conversations.highlights.get(key) ?? 0;
        const counts =
          unread > 0 ? `  ${unread} unread${calls > 0 ? `, ${calls} for you` : ''}` : '';
        return `  ${i + 1}: ${name}${key === active ? '  (active)' : ''}${counts}`;
      });
      screen.notice('info', ['windows (/window N, Alt-N or F-N):', ...rows].join('\n'));
      return;
    }
    if (conversations.selectWindow(number) === undefined)
      screen.notice('error', `there is no window ${number} (see /window)`, 'E_USAGE');
  },
});
