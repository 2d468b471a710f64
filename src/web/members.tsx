import type { PeerSummary } from '../client/events.js';
import type { ChatModel, Conversation } from './model.js';
import { KEY_MARK } from './text.js';

export interface MembersProps {
  model: ChatModel;
  conversation: Conversation;
  run(line: string): boolean;
  select(name: string): void;
  verify(user: string): void;
  /** Closes the panel where it overlays the conversation (narrow screens). */
  close(): void;
}

function CloseButton({ close }: { close(): void }) {
  return (
    <button type="button" class="members-close" data-testid="members-close" onClick={close}>
      Close
    </button>
  );
}

function KeyStatus({ peer }: { peer: PeerSummary }) {
  const mark = KEY_MARK[peer.status];
  return (
    <span class={`key key-${peer.status}`} title={mark?.title}>
      {peer.status === 'online' ? 'not verified' : peer.status}
    </span>
  );
}

/** Room members with roles and key status, and what an operator can do; or the peer's card. */
export function Members({ model, conversation, run, select, verify, close }: MembersProps) {
  if (!conversation.room) {
    const peer = model.peer(conversation.name);
    return (
      <aside class="members" aria-label="contact" data-testid="members">
        <CloseButton close={close} />
        <h2>
          <bdi>{conversation.name}</bdi>
        </h2>
        {peer ? (
          <p>
            online · <KeyStatus peer={peer} />
            <br />
            <code class="fp">{peer.fingerprint}</code>
          </p>
        ) : (
          <p>not online now (messages wait in the server's mailbox when it allows)</p>
        )}
        <button type="button" data-testid="verify-open" onClick={() => verify(conversation.name)}>
          Verify safety number
        </button>
      </aside>
    );
  }
  const self = conversation.members.find((m) => m.name.toLowerCase() === model.self.toLowerCase());
  const operator = self?.role === 'owner' || self?.role === 'op';
  const room = conversation.name;
  return (
    <aside class="members" aria-label="members" data-testid="members">
      <CloseButton close={close} />
      <h2>
        Members of <bdi>{room}</bdi> ({conversation.members.length})
      </h2>
      <ul>
        {conversation.members.map((m) => (
          <li key={m.name} data-testid="member">
            <bdi class="name">{m.name}</bdi>
            {m.role ? <span class={`role role-${m.role}`}>{m.role}</span> : null}
            {m.self ? <span class="you">you</span> : <KeyStatus peer={m} />}
            {!m.self ? (
              <span class="actions">
                <button type="button" onClick={() => select(m.name)} title="direct message">
                  Message
                </button>
                <button type="button" onClick={() => verify(m.name)}>
                  Verify
                </button>
                {operator && m.role !== 'owner' ? (
                  <>
                    {m.role === 'op' ? (
                      <button type="button" onClick={() => run(`/deop ${room} ${m.name}`)}>
                        Deop
                      </button>
                    ) : (
                      <button
                        type="button"
                        data-testid="op"
                        onClick={() => run(`/op ${room} ${m.name}`)}
                      >
                        Op
                      </button>
                    )}
                    <button
                      type="button"
                      data-testid="kick"
                      onClick={() => run(`/kick ${room} ${m.name}`)}
                    >
                      Kick
                    </button>
                    <button
                      type="button"
                      data-testid="ban"
                      onClick={() => run(`/ban ${room} ${m.name}`)}
                    >
                      Ban
                    </button>
                  </>
                ) : null}
              </span>
            ) : null}
          </li>
        ))}
      </ul>
    </aside>
  );
}
