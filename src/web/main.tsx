import { render } from 'preact';
import { App } from './app.js';
import { CoreLink, pageKey } from './link.js';
import { ChatModel, type Notification as ChatNotification, STATUS } from './model.js';

const model = new ChatModel();
const root = document.getElementById('app');

function focused(): boolean {
  return document.visibilityState === 'visible' && document.hasFocus();
}

function notify(note: ChatNotification): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  // Text only: the body is shown by the desktop, never parsed as HTML by this page.
  const shown = new Notification(note.title, {
    body: note.body.slice(0, 200),
    tag: note.conversation,
  });
  shown.onclick = () => {
    window.focus();
    select(note.conversation);
  };
}

function select(name: string): void {
  model.select(name === STATUS ? STATUS : name);
  draw();
}

const link = new CoreLink(
  (message) => {
    const note = model.receive(message, focused());
    if (message.type === 'bye') link.stop();
    // Transfers older than the replay (or from before a restart) come from the core's list.
    if (message.type === 'hello' && message.maxUpload !== undefined)
      link.send({ type: 'line', text: '/transfers' });
    if (note) notify(note);
    draw();
  },
  (linked) => {
    model.linked = linked;
    draw();
  },
);

function run(line: string): boolean {
  if (!link.send({ type: 'line', text: line })) {
    model.note('error', 'not connected to the local securechat: try again when the link is back');
    draw();
    return false;
  }
  const trusted = /^\/trust\s+([A-Za-z0-9_.-]{1,32})\s*$/.exec(line);
  if (trusted?.[1]) model.trusted(trusted[1]);
  return true;
}

function draw(): void {
  if (!root) return;
  render(
    <App
      model={model}
      run={run}
      askSafety={(user) => link.send({ type: 'safety', user })}
      select={select}
      refresh={draw}
    />,
    root,
  );
}

// Coming back to the page reads the open conversation.
document.addEventListener('visibilitychange', () => {
  if (focused()) {
    model.current.unread = 0;
    draw();
  }
});
window.addEventListener('focus', () => {
  model.current.unread = 0;
  draw();
});

if (pageKey() === undefined)
  model.note(
    'error',
    'this page has no sign-in key: open the link securechat printed in its terminal',
  );
draw();
link.open();
