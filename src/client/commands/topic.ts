import { roomSettingCommand } from './room-setting.js';

/** `/topic [#room] [text]`. */
export const topicCommand = roomSettingCommand({
  name: 'topic',
  usage: '/topic [#room] [text]',
  help: "show a room's topic, or set it (operators)",
  field: 'text',
  apply: (rooms, room, text) => rooms.topic(room, text),
});
