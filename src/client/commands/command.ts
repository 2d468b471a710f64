/**
 * What a slash command is: its spec (name, aliases, usage, help, how its arguments parse)
 * and its handler, side by side in one file per command (commands/<name>.ts), listed once
 * in table.ts. Parsing only checks shape (user names with the protocol's `isValidName`,
 * safety numbers with `normalizeSafetyNumber`); whether a user is online, or a conversation
 * selected, is for the handler to decide.
 */
import type { ChatClient } from '../chat-client.js';
import type { EventSink } from '../events.js';

/** What a command's first argument is: drives completion. */
export type FirstArg = 'none' | 'user' | 'command' | 'room' | 'text';

/** A failed argument parse: `error` says what is wrong, the usage line is added by parse. */
export interface ArgError {
  error: string;
}

/** The commands of a session, looked up by name or alias (`/help` parses and answers with it). */
export interface CommandTable {
  /** In the order `/help` lists them. */
  readonly all: readonly Command[];
  /** By name or alias, case-insensitively, with or without a leading `/`. */
  find(word: string): Command | undefined;
  /** The known command word closest to `typed`, if any is close. */
  suggest(typed: string): string | undefined;
}

/** The conversations of this session, as commands change them (the UI keeps them). */
export interface Conversations {
  /** Where a plain line goes: a user or a #room; undefined when none is selected. */
  readonly target: string | undefined;
  /** Open conversations, numbered from 1 in this order (`/window N`). */
  readonly windows: readonly string[];
  /** The active window's name key (the status window's on a terminal with none selected). */
  readonly activeWindow: string | undefined;
  /** Unread messages (and those calling for us) by conversation (name key). */
  readonly unread: ReadonlyMap<string, number>;
  readonly highlights: ReadonlyMap<string, number>;
  setTarget(target: string | undefined): void;
  /** `/window N`: makes window N (from 1) the active one; its name, or undefined if none. */
  selectWindow(number: number): string | undefined;
  /** `/join` asked for this room: whether it becomes the active window is the UI's rule. */
  joined(room: string): void;
  /** Clears the unread count of a conversation. */
  markRead(conversation: string): void;
  ignore(user: string): void;
  /** Returns false when `user` was not ignored. */
  unignore(user: string): boolean;
}

/**
 * The part of the chat client commands use (a command that needs more names it here, so
 * what commands can reach stays visible, and a test can hand them a fake).
 */
export type CommandClient = Pick<
  ChatClient,
  | 'name'
  | 'identity'
  | 'user'
  | 'peers'
  | 'rooms'
  | 'trust'
  | 'sendDirect'
  | 'sendServer'
  | 'requestList'
  | 'peerSummaries'
  | 'reconnect'
  | 'maxLineBytes'
  | 'transfers'
>;

/** What a command acts on. */
export interface CommandContext {
  readonly client: CommandClient;
  readonly conversations: Conversations;
  readonly commands: CommandTable;
  /** Where a command's answers and errors are shown (like the client's own events). */
  readonly screen: EventSink;
  /** `/clear`. */
  clear(): void;
  /** `/quit`. */
  quit(): void;
}

/** Where `/help` lists a command. */
export type CommandGroup = 'direct' | 'rooms' | 'trust' | 'session';

export interface Command<Args extends object = object> {
  readonly name: string;
  /** Its section in `/help`. */
  readonly group: CommandGroup;
  readonly aliases: readonly string[];
  /** e.g. `/to <user> <text>`. */
  readonly usage: string;
  /** One line, lower case, no final full stop. */
  readonly help: string;
  /** Optional extra lines for `/help <command>`. */
  readonly details?: string;
  readonly firstArg: FirstArg;
  /** Checked once before `run`: an identity key (the room commands). */
  readonly requires?: 'identity';
  /** `args` is everything after the command word, leading whitespace removed. */
  parse(args: string, commands: CommandTable): Args | ArgError;
  run(args: Args, context: CommandContext): void;
}

/** A command, typed by its arguments. */
export function defineCommand<Args extends object>(command: Command<Args>): Command<Args> {
  return command;
}
