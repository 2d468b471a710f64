import { useEffect, useState } from 'preact/hooks';
import { Composer } from './composer.js';
import { ConversationFiles, SendFile, TransfersPanel, uploadFile } from './files.js';
import { Members } from './members.js';
import { MessageView } from './messages.js';
import { type ChatModel, STATUS } from './model.js';
import { Sidebar } from './sidebar.js';
import { visible } from './text.js';
import { VerifyDialog } from './verify.js';

export interface AppProps {
  model: ChatModel;
  /** Sends one command line to the core; false while the link is down. */
  run(line: string): boolean;
  /** Asks the core for the safety number with `user`. */
  askSafety(user: string): void;
  select(name: string): void;
  /** Re-renders after a change made by the page itself. */
  refresh(): void;
}

type Theme = 'auto' | 'light' | 'dark';

function connectionText(model: ChatModel): { text: string; state: string } {
  if (!model.linked) return { text: 'local securechat unreachable: retrying', state: 'down' };
  const status = model.connection;
  if (!status) return { text: 'starting', state: 'connecting' };
  switch (status.state) {
    case 'connected':
      return { text: `connected to ${status.server}`, state: 'up' };
    case 'connecting':
      return { text: `connecting (attempt ${status.attempt})`, state: 'connecting' };
    case 'reconnecting':
      return {
        text: `reconnecting in ${Math.ceil(status.inMs / 1000)} s: ${status.reason}`,
        state: 'connecting',
      };
    case 'closed':
      return { text: `disconnected: ${status.reason}`, state: 'down' };
  }
}

function useTheme(): [Theme, (theme: Theme) => void] {
  const [theme, setTheme] = useState<Theme>(
    () => (localStorage.getItem('theme') as Theme | null) ?? 'auto',
  );
  useEffect(() => {
    if (theme === 'auto') document.documentElement.removeAttribute('data-theme');
    else document.documentElement.setAttribute('data-theme', theme);
    localStorage.setItem('theme', theme);
  }, [theme]);
  return [theme, setTheme];
}

export function App({ model, run, askSafety, select, refresh }: AppProps) {
  const [verifying, setVerifying] = useState<string | undefined>(undefined);
  const [view, setView] = useState<'list' | 'chat'>('chat');
  const [showMembers, setShowMembers] = useState(false);
  const [showTransfers, setShowTransfers] = useState(false);
  const [theme, setTheme] = useTheme();
  const [permission, setPermission] = useState(() =>
    typeof Notification === 'undefined' ? 'unsupported' : Notification.permission,
  );
  const conversation = model.current;
  const connection = connectionText(model);
  const open = (name: string) => {
    select(name);
    setView('chat');
  };
  const verify = (user: string) => {
    model.safety = undefined;
    setVerifying(user);
    askSafety(user);
  };

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === 'Escape' && verifying) setVerifying(undefined);
      if (!event.altKey) return;
      const list = model.list();
      const index = list.findIndex((c) => c.key === model.active);
      let next: number | undefined;
      if (/^[1-9]$/.test(event.key)) next = Number(event.key) - 1;
      else if (event.key === 'ArrowDown') next = (index + 1) % list.length;
      else if (event.key === 'ArrowUp') next = (index - 1 + list.length) % list.length;
      const target = next === undefined ? undefined : list[next];
      if (!target) return;
      event.preventDefault();
      open(target.key === STATUS ? STATUS : target.name);
      document.getElementById('composer')?.focus();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const send = (text: string): boolean => {
    if (text.startsWith('/') && !text.startsWith('//')) return run(text);
    if (conversation.key === STATUS) {
      // Never a silent server-readable send: that takes an explicit /server.
      model.note(
        'error',
        'pick a conversation first (or /server <text> for text the server can read)',
      );
      refresh();
      return false;
    }
    return run(`/to ${conversation.name} ${text.startsWith('//') ? text.slice(1) : text}`);
  };
  const blocked = !model.linked
    ? 'not connected to the local securechat'
    : conversation.trust
      ? `${conversation.name}'s key changed: verify, then trust it to send again`
      : undefined;

  return (
    <div class={`app view-${view}${showMembers ? ' members-open' : ''}`}>
      <header class="top">
        <button
          type="button"
          class="menu"
          aria-label="conversations"
          onClick={() => setView(view === 'list' ? 'chat' : 'list')}
        >
          ☰
        </button>
        <strong>securechat</strong>
        <span class="self" data-testid="self">
          <bdi>{model.self}</bdi>
          {model.identity ? (
            <code class="fp" title="your identity fingerprint">
              {model.identity}
            </code>
          ) : null}
        </span>
        <span class={`connection c-${connection.state}`} data-testid="connection" role="status">
          {visible(connection.text)}
        </span>
        {model.linked &&
        (model.connection?.state === 'reconnecting' || model.connection?.state === 'closed') ? (
          <button type="button" data-testid="reconnect" onClick={() => run('/reconnect')}>
            Reconnect now
          </button>
        ) : null}
        <span class="tools">
          <button
            type="button"
            data-testid="transfers-toggle"
            aria-expanded={showTransfers}
            onClick={() => setShowTransfers(!showTransfers)}
          >
            Transfers
            {model.transfers.pending().length > 0 ? ` (${model.transfers.pending().length})` : ''}
          </button>
          {permission === 'default' ? (
            <button
              type="button"
              onClick={() => void Notification.requestPermission().then((p) => setPermission(p))}
            >
              Enable notifications
            </button>
          ) : null}
          <select
            aria-label="theme"
            data-testid="theme"
            value={theme}
            onChange={(e) => setTheme((e.target as HTMLSelectElement).value as Theme)}
          >
            <option value="auto">auto theme</option>
            <option value="light">light</option>
            <option value="dark">dark</option>
          </select>
        </span>
      </header>
      {model.serverTrust ? (
        <div class="banner" role="alert" data-testid="server-trust">
          <bdi>{visible(model.serverTrust.text)}</bdi>
          <button
            type="button"
            onClick={() => {
              if (!run('/trust --server')) return;
              model.serverTrust = undefined;
              refresh();
            }}
          >
            Accept (/trust --server)
          </button>
        </div>
      ) : null}
      <Sidebar model={model} select={open} run={run} />
      <main
        class="chat"
        aria-label="conversation"
        onDragOver={(event) => {
          if (conversation.key !== STATUS && !blocked) event.preventDefault();
        }}
        onDrop={(event) => {
          if (conversation.key === STATUS || blocked) return;
          event.preventDefault();
          for (const file of Array.from(event.dataTransfer?.files ?? []))
            void uploadFile(model, conversation.name, file, refresh);
        }}
      >
        <div class="chat-head">
          <h1>
            <bdi data-testid="title">
              {conversation.key === STATUS ? 'status and server' : conversation.name}
            </bdi>
          </h1>
          {conversation.topic ? (
            <bdi class="topic" data-testid="topic">
              {visible(conversation.topic)}
            </bdi>
          ) : null}
          {conversation.key !== STATUS ? (
            <span class="head-actions">
              {!blocked ? <SendFile model={model} run={run} refresh={refresh} /> : null}
              {!conversation.room ? (
                <button
                  type="button"
                  data-testid="verify-head"
                  onClick={() => verify(conversation.name)}
                >
                  Verify
                </button>
              ) : null}
              <button
                type="button"
                class="members-toggle"
                data-testid="members-toggle"
                aria-expanded={showMembers}
                onClick={() => setShowMembers(!showMembers)}
              >
                {conversation.room ? 'Members' : 'Info'}
              </button>
            </span>
          ) : null}
          {conversation.room ? (
            <span class="room-actions">
              <button
                type="button"
                data-testid="set-topic"
                onClick={() => {
                  const topic = window.prompt(
                    `topic for ${conversation.name}`,
                    conversation.topic ?? '',
                  );
                  if (topic !== null) run(`/topic ${conversation.name} ${topic}`);
                }}
              >
                Topic
              </button>
              <button type="button" onClick={() => run(`/part ${conversation.name}`)}>
                Leave
              </button>
            </span>
          ) : null}
        </div>
        {conversation.trust ? (
          <div class="banner" role="alert" data-testid="trust-banner">
            <bdi>{visible(conversation.trust.text)}</bdi>
            <span>
              <button type="button" onClick={() => verify(conversation.name)}>
                Verify
              </button>
              <button
                type="button"
                data-testid="trust-accept"
                onClick={() => {
                  if (run(`/trust ${conversation.name}`)) refresh();
                }}
              >
                Trust the new key (/trust)
              </button>
            </span>
          </div>
        ) : null}
        <MessageView conversation={conversation} />
        {model.lastNotice &&
        conversation.key !== STATUS &&
        model.lastNotice.text !== conversation.trust?.text ? (
          <p class={`notice ${model.lastNotice.level ?? ''}`} data-testid="notice">
            {visible(model.lastNotice.text)}
          </p>
        ) : null}
        <ConversationFiles model={model} run={run} refresh={refresh} />
        <Composer
          blocked={blocked}
          placeholder={
            conversation.key === STATUS
              ? 'a /command (/help lists them)'
              : `message ${conversation.name} (Enter sends, Shift+Enter new line)`
          }
          onSend={send}
        />
      </main>
      {conversation.key !== STATUS ? (
        <Members
          model={model}
          conversation={conversation}
          run={run}
          select={(name) => {
            setShowMembers(false);
            open(name);
          }}
          verify={verify}
          close={() => setShowMembers(false)}
        />
      ) : null}
      {showTransfers ? (
        <TransfersPanel
          model={model}
          run={run}
          refresh={refresh}
          close={() => setShowTransfers(false)}
        />
      ) : null}
      {verifying ? (
        <VerifyDialog
          model={model}
          user={verifying}
          run={run}
          close={() => setVerifying(undefined)}
        />
      ) : null}
    </div>
  );
}
