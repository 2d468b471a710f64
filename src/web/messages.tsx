import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { Conversation, Line } from './model.js';
import { clock, DELIVERY_MARK, KEY_MARK, PROTECTION_LABEL, visible } from './text.js';

function Marks({ line }: { line: Line }) {
  const protection = line.protection ? PROTECTION_LABEL[line.protection] : undefined;
  const key = line.keyStatus ? KEY_MARK[line.keyStatus] : undefined;
  const delivery = line.delivery ? DELIVERY_MARK[line.delivery] : undefined;
  return (
    <span class="marks">
      {key?.mark ? (
        <span class={`key key-${line.keyStatus}`} title={key.title}>
          {key.mark}
        </span>
      ) : null}
      {protection ? (
        <span
          class={`protection p-${line.protection}`}
          title={protection.title}
          data-testid="protection"
        >
          {protection.label}
        </span>
      ) : null}
      {delivery ? (
        <span
          class={`delivery d-${line.delivery}`}
          title={line.reason ?? delivery.title}
          data-testid="delivery"
        >
          {delivery.mark}
          {line.delivery === 'failed' && line.reason ? `: ${visible(line.reason)}` : ''}
        </span>
      ) : null}
    </span>
  );
}

function MessageLine({ line }: { line: Line }) {
  const time = (
    <time class="time" title={new Date(line.ts).toString()}>
      {clock(line.ts)}
      {line.sentAt ? ` (sent ${clock(line.sentAt)})` : ''}
    </time>
  );
  if (line.kind !== 'message') {
    return (
      <li class={`line ${line.kind} ${line.level ?? ''}`} data-testid="line">
        {time}
        <bdi class="text">{visible(line.text)}</bdi>
        {line.reason ? <span class="code">{line.reason}</span> : null}
      </li>
    );
  }
  return (
    <li class={`line message ${line.direction}`} data-testid="message">
      {time}
      <bdi class="from">{line.action ? `* ${line.from}` : line.from}</bdi>
      <bdi class="text" data-testid="text">
        {visible(line.text)}
      </bdi>
      <Marks line={line} />
    </li>
  );
}

/**
 * The lines of one conversation, newest at the bottom; it follows new lines unless the
 * reader scrolled up.
 */
export function MessageView({ conversation }: { conversation: Conversation }) {
  const list = useRef<HTMLOListElement>(null);
  const following = useRef(true);
  const last = conversation.lines.at(-1)?.seq;
  useLayoutEffect(() => {
    if (list.current && following.current) list.current.scrollTop = list.current.scrollHeight;
  }, [last, conversation.key]);
  // A smaller window (a phone turned, a keyboard opened) keeps the newest line in view.
  useEffect(() => {
    const el = list.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (following.current) el.scrollTop = el.scrollHeight;
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  return (
    <ol
      class="lines"
      aria-live="polite"
      data-testid="lines"
      ref={list}
      onScroll={(event) => {
        const el = event.currentTarget;
        following.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
    >
      {conversation.lines.map((line) => (
        <MessageLine key={line.seq} line={line} />
      ))}
    </ol>
  );
}
