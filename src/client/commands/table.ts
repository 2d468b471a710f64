/**
 * Every command of the client, in the order `/help` lists them. A new command is its own
 * file (spec and handler, see command.ts) and one line here.
 */
import { acceptCommand } from './accept.js';
import { banCommand } from './ban.js';
import { cancelCommand } from './cancel.js';
import { clearCommand } from './clear.js';
import type { Command, CommandTable } from './command.js';
import { deopCommand } from './deop.js';
import { fpCommand } from './fp.js';
import { helpCommand } from './help.js';
import { ignoreCommand } from './ignore.js';
import { joinCommand } from './join.js';
import { kickCommand } from './kick.js';
import { listCommand } from './list.js';
import { commandTable } from './lookup.js';
import { meCommand } from './me.js';
import { motdCommand } from './motd.js';
import { opCommand } from './op.js';
import { partCommand } from './part.js';
import { passwordCommand } from './password.js';
import { queryCommand } from './query.js';
import { quitCommand } from './quit.js';
import { reconnectCommand } from './reconnect.js';
import { rejectCommand } from './reject.js';
import { roomsCommand } from './rooms.js';
import { sendCommand } from './send.js';
import { serverCommand } from './server.js';
import { toCommand } from './to.js';
import { topicCommand } from './topic.js';
import { transfersCommand } from './transfers.js';
import { trustCommand } from './trust.js';
import { unbanCommand } from './unban.js';
import { unignoreCommand } from './unignore.js';
import { verifyCommand } from './verify.js';
import { windowCommand } from './window.js';

export const COMMANDS: readonly Command[] = [
  toCommand,
  queryCommand,
  meCommand,
  listCommand,
  sendCommand,
  acceptCommand,
  rejectCommand,
  transfersCommand,
  cancelCommand,
  fpCommand,
  verifyCommand,
  trustCommand,
  serverCommand,
  ignoreCommand,
  unignoreCommand,
  reconnectCommand,
  windowCommand,
  clearCommand,
  helpCommand,
  quitCommand,
  joinCommand,
  partCommand,
  roomsCommand,
  topicCommand,
  opCommand,
  deopCommand,
  kickCommand,
  banCommand,
  unbanCommand,
  passwordCommand,
  motdCommand,
];

export const COMMAND_TABLE: CommandTable = commandTable(COMMANDS);
