import { roomSettingCommand } from './room-setting.js';

/** `/password [#room] [new password]`: absent or empty clears it. */
export const passwordCommand = roomSettingCommand({
  name: 'password',
  aliases: ['pass'],
  usage: '/password [#room] [new password]',
  help: "set a room's password (empty to clear it); stored only as an argon2id hash",
  field: 'password',
  apply: (rooms, room, password) => rooms.setPassword(room, password),
});
