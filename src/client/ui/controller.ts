import { nameKey } from '../../protocol/index.js';
import type { ChatClient, SendOutcome } from '../chat-client.js';
import { helpText, type ParsedInput, parseInput } from '../commands/index.js';
import type { ClientEvent } from '../events.js';

/** What the controller needs from the user interface around it. */
export interface ControllerHost {
  /** Shows an event (the UI renders or prints it). */
  show(event: ClientEvent): void;
  /** `/clear`. */
  clear(): void;
  /** `/quit`, Ctrl-C, Ctrl-D, end of piped input. */
  quit(): void;
}

/**
 * Executes what the user types against the chat client, and keeps the conversation state
 * of one session: the current target (`/query`), ignored users, unread counts per
 * conversation. Shared by the terminal UI, piped input and `--json` mode.
 */
export class ChatController {
  readonly client: ChatClient;
  #host: ControllerHost;
  #target: string | undefined;
  #ignored = new Set<string>();
  #unread = new Map<string, number>();

  constructor(client: ChatClient, host: ControllerHost) {
    this.client = client;
    this.#host = host;
    client.on('event', (event) => this.#onEvent(event));
  }

  get target(): string | undefined {
    return this.#target;
  }

  get unread(): ReadonlyMap<string, number> {
    return this.#unread;
  }

  get ignored(): ReadonlySet<string> {
    return this.#ignored;
  }

  /** Handles one line of input. Returns the parse result (the UI may use it for history). */
  handle(line: string): ParsedInput {
    const input = parseInput(line);
    this.#execute(input);
    return input;
  }

  #info(text: string): void {
    this.#host.show({ kind: 'info', ts: Date.now(), text });
  }

  #error(text: string, code?: string): void {
    this.#host.show({ kind: 'error', ts: Date.now(), text, ...(code ? { code } : {}) });
  }

  #report(outcome: SendOutcome): void {
    if (!outcome.ok) this.#error(outcome.reason, 'E_SEND');
  }

  #execute(input: ParsedInput): void {
    switch (input.kind) {
      case 'empty':
        return;
      case 'invalid':
        this.#error(
          input.usage ? `${input.error}\n  usage: ${input.usage}` : input.error,
          'E_USAGE',
        );
        return;
      case 'text':
        if (this.#target === undefined) {
          this.#error(
            'no conversation selected: use /query <user> first, or /to <user> <text>',
            'E_NO_TARGET',
          );
          return;
        }
        this.#report(this.#sendTo(this.#target, input.text, false));
        return;
      case 'command':
        this.#command(input);
        return;
    }
  }

  #command(input: Extract<ParsedInput, { kind: 'command' }>): void {
    const client = this.client;
    switch (input.name) {
      case 'to':
        this.#report(this.#sendTo(input.user, input.text, false));
        return;
      case 'me':
        if (this.#target === undefined) {
          this.#error('no conversation selected: use /query <user> first', 'E_NO_TARGET');
          return;
        }
        this.#report(this.#sendTo(this.#target, input.text, true));
        return;
      case 'query':
        this.#target = input.user;
        if (input.user) {
          this.#unread.delete(nameKey(input.user));
          const present = input.user.startsWith('#')
            ? client.rooms.isMember(input.user)
            : client.peers.get(input.user) !== undefined;
          const where = input.user.startsWith('#')
            ? ' (you are not in it: /join first)'
            : ' (not online right now)';
          this.#info(`now talking to ${input.user}${present ? '' : where}`);
        } else {
          this.#info('no conversation selected');
        }
        return;
      case 'list':
        if (input.room) {
          client.send({ type: 'who', room: input.room });
          return;
        }
        if (!client.requestList()) {
          this.#host.show({ kind: 'users', ts: Date.now(), users: client.peerSummaries() });
        }
        return;
      case 'fp': {
        const self = nameKey(input.user) === nameKey(client.name);
        const peer = client.peers.get(input.user);
        if (self) {
          const identity = client.identity
            ? ` identity ${client.trustCommands.ownIdentityFingerprint()}`
            : '';
          this.#info(`your key ${client.ownFingerprint}${identity}`);
        } else if (!peer) {
          this.#error(`${input.user} is not online`, 'E_UNKNOWN_USER');
        } else {
          const identity = peer.identityFingerprint
            ? ` identity ${peer.identityFingerprint}`
            : ' (legacy v1 client: no identity key)';
          this.#info(`${peer.name}: key ${peer.fingerprint}${identity}`);
        }
        return;
      }
      case 'verify':
        client.trustCommands.verify(input.user, input.safetyNumber);
        return;
      case 'trust':
        if ('server' in input) client.trustCommands.trustServer();
        else client.trustCommands.trust(input.user);
        return;
      case 'server':
        this.#report(client.sendServer(input.text));
        return;
      case 'ignore':
        this.#ignored.add(nameKey(input.user));
        this.#info(`ignoring ${input.user} (their messages are dropped unseen until /unignore)`);
        return;
      case 'unignore':
        this.#info(
          this.#ignored.delete(nameKey(input.user))
            ? `no longer ignoring ${input.user}`
            : `${input.user} was not ignored`,
        );
        return;
      case 'reconnect':
        this.#info('reconnecting…');
        client.reconnect();
        return;
      case 'clear':
        this.#host.clear();
        return;
      case 'help':
        this.#info(helpText(input.topic));
        return;
      case 'quit':
        this.#host.quit();
        return;
      default:
        this.#roomCommand(input);
    }
  }

  #sendTo(target: string, text: string, action: boolean) {
    return target.startsWith('#')
      ? this.client.rooms.send(target, text, action)
      : this.client.sendDirect(target, text, { action });
  }

  /** The room a command is about: the one named, else the current conversation if it is a room. */
  #room(named: string | undefined): string | undefined {
    const room = named ?? (this.#target?.startsWith('#') ? this.#target : undefined);
    if (room === undefined)
      this.#error('which room? name it (#room) or /query #room first', 'E_NO_TARGET');
    return room;
  }

  #roomCommand(input: Extract<ParsedInput, { kind: 'command' }>): void {
    const client = this.client;
    if (!client.identity) {
      this.#error('rooms need an identity key: connect without --legacy', 'E_NEEDS_IDENTITY');
      return;
    }
    switch (input.name) {
      case 'join':
        client.rooms.join(input.room, input.password);
        if (this.#target === undefined) this.#target = input.room;
        return;
      case 'part': {
        const room = this.#room(input.room);
        if (room) client.rooms.part(room);
        if (room && this.#target && nameKey(this.#target) === nameKey(room))
          this.#target = undefined;
        return;
      }
      case 'rooms':
        client.send({ type: 'rooms', ...(input.after ? { after: input.after } : {}) });
        return;
      case 'topic': {
        const room = this.#room(input.room);
        if (room) client.send({ type: 'topic', room, ...(input.text ? { text: input.text } : {}) });
        return;
      }
      case 'op':
      case 'deop':
      case 'kick':
      case 'ban':
      case 'unban': {
        const room = this.#room(input.room);
        if (!room) return;
        client.send({
          type: 'moderate',
          room,
          action: input.name,
          user: input.user,
          ...('reason' in input && input.reason ? { reason: input.reason } : {}),
          ...('duration' in input && input.duration ? { duration: input.duration } : {}),
        });
        return;
      }
      case 'password': {
        const room = this.#room(input.room);
        if (room)
          client.send({
            type: 'moderate',
            room,
            action: 'password',
            ...(input.password ? { password: input.password } : {}),
          });
        return;
      }
      case 'motd':
        client.send({ type: 'motd', ...(input.text ? { text: input.text } : {}) });
        return;
      default:
        return;
    }
  }

  #onEvent(event: ClientEvent): void {
    if (event.kind === 'message' && event.direction === 'in') {
      if (this.#ignored.has(nameKey(event.from))) return;
      const conversation = nameKey(event.to.startsWith('#') ? event.to : event.from);
      if (this.#target === undefined || nameKey(this.#target) !== conversation) {
        this.#unread.set(conversation, (this.#unread.get(conversation) ?? 0) + 1);
      }
    }
    this.#host.show(event);
  }
}
