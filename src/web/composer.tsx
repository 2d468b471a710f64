import { useRef, useState } from 'preact/hooks';

export interface ComposerProps {
  /** Why sending is blocked (a key change waiting for /trust), or undefined. */
  blocked: string | undefined;
  placeholder: string;
  onSend(text: string): boolean;
}

/** Multi-line input: Enter sends, Shift+Enter starts a new line. */
export function Composer({ blocked, placeholder, onSend }: ComposerProps) {
  const [text, setText] = useState('');
  const area = useRef<HTMLTextAreaElement>(null);
  const submit = () => {
    if (text.trim() === '' || blocked) return;
    if (onSend(text)) setText('');
  };
  return (
    <form
      class="composer"
      onSubmit={(event) => {
        event.preventDefault();
        submit();
      }}
    >
      <textarea
        ref={area}
        id="composer"
        data-testid="composer"
        rows={Math.min(6, text.split('\n').length)}
        value={text}
        disabled={blocked !== undefined}
        placeholder={blocked ?? placeholder}
        aria-label="message"
        onInput={(event) => setText((event.target as HTMLTextAreaElement).value)}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            submit();
          }
        }}
      />
      <button
        type="submit"
        data-testid="send"
        disabled={blocked !== undefined || text.trim() === ''}
      >
        Send
      </button>
    </form>
  );
}
