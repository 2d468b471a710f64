import { useState } from 'preact/hooks';
import { type ChatModel, STATUS } from './model.js';
import { visible } from './text.js';

export interface SidebarProps {
  model: ChatModel;
  select(name: string): void;
  run(line: string): boolean;
}

const NAME = /^#?[A-Za-z0-9_.-]{1,32}$/;

/** Conversations (status, rooms, people) with unread counts; open a chat, join a room. */
export function Sidebar({ model, select, run }: SidebarProps) {
  const [open, setOpen] = useState('');
  const [room, setRoom] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  return (
    <nav class="sidebar" aria-label="conversations">
      <ul class="conversations" data-testid="conversations">
        {model.list().map((c, index) => (
          <li key={c.key}>
            <button
              type="button"
              class={`conversation ${c.key === model.active ? 'active' : ''}`}
              data-testid={`conv-${c.key}`}
              aria-current={c.key === model.active ? 'true' : undefined}
              title={index < 9 ? `Alt+${index + 1}` : undefined}
              onClick={() => select(c.key === STATUS ? STATUS : c.name)}
            >
              <bdi class="name">{c.name}</bdi>
              {c.trust ? (
                <span class="warn" title="key changed: sending blocked">
                  ⚠
                </span>
              ) : null}
              {c.unread > 0 ? (
                <span class="unread" data-testid="unread" title={`${c.unread} unread`}>
                  {c.unread}
                </span>
              ) : null}
            </button>
          </li>
        ))}
      </ul>
      <form
        class="open-chat"
        onSubmit={(event) => {
          event.preventDefault();
          const name = open.trim();
          if (!NAME.test(name)) return setError('a name: 1-32 of A-Z a-z 0-9 _ . -');
          setError('');
          setOpen('');
          select(name);
        }}
      >
        <input
          data-testid="open-input"
          value={open}
          placeholder="chat with… (name)"
          aria-label="open a conversation"
          onInput={(e) => setOpen((e.target as HTMLInputElement).value)}
        />
        <button type="submit">Open</button>
      </form>
      <form
        class="join-room"
        onSubmit={(event) => {
          event.preventDefault();
          const name = room.trim().startsWith('#') ? room.trim() : `#${room.trim()}`;
          if (!NAME.test(name)) return setError('a room: # and 1-32 of A-Z a-z 0-9 _ . -');
          if (/\s/.test(password)) return setError('a room password has no spaces');
          setError('');
          if (run(`/join ${name}${password ? ` ${password}` : ''}`)) {
            setRoom('');
            setPassword('');
            select(name);
          }
        }}
      >
        <input
          data-testid="join-room"
          value={room}
          placeholder="#room"
          aria-label="room to join"
          onInput={(e) => setRoom((e.target as HTMLInputElement).value)}
        />
        <input
          data-testid="join-password"
          type="password"
          value={password}
          placeholder="password (optional)"
          aria-label="room password"
          autocomplete="off"
          onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
        />
        <button type="submit" data-testid="join">
          Join
        </button>
      </form>
      {error ? <p class="form-error">{error}</p> : null}
      <button type="button" class="link" onClick={() => run('/rooms')}>
        List rooms
      </button>
      {model.rooms.length > 0 ? (
        <ul class="room-list">
          {model.rooms.map((r) => (
            <li key={r.room}>
              <bdi>{r.room}</bdi> ({r.members}){r.password ? ' 🔑' : ''}
              {r.topic ? <bdi> — {visible(r.topic)}</bdi> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </nav>
  );
}
