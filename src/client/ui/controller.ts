import type { ChatClient } from '../chat-client.js';
import {
  COMMAND_TABLE,
  type CommandContext,
  type CommandTable,
  type ParsedInput,
  parseInput,
  runInput,
} from '../commands/index.js';
import { type ClientEvent, eventSink } from '../events.js';
import { type ConversationOptions, ConversationState } from './conversations.js';

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
 * Joins a user interface to the chat client: each line typed is parsed and run as a
 * command (commands/), and each event of the client goes to the screen through this
 * session's conversation state (ignored users, unread counts). Shared by the terminal UI,
 * piped input and `--json` mode.
 */
export class ChatController {
  readonly client: ChatClient;
  readonly conversations: ConversationState;
  #context: CommandContext;

  constructor(
    client: ChatClient,
    host: ControllerHost,
    commands: CommandTable = COMMAND_TABLE,
    options: ConversationOptions = {},
  ) {
    this.client = client;
    this.conversations = new ConversationState(options);
    this.#context = {
      client,
      conversations: this.conversations,
      commands,
      screen: eventSink(
        (event) => host.show(event),
        () => client.now(),
      ),
      clear: () => host.clear(),
      quit: () => host.quit(),
    };
    client.on('event', (event) => {
      if (this.conversations.admit(event)) host.show(event);
    });
  }

  /** The current conversation. */
  get target(): string | undefined {
    return this.conversations.target;
  }

  get unread(): ReadonlyMap<string, number> {
    return this.conversations.unread;
  }

  /** Handles one line of input. Returns the parse result (the UI may use it for history). */
  handle(line: string): ParsedInput {
    const input = parseInput(line, this.#context.commands);
    runInput(input, this.#context);
    return input;
  }
}
