import { useState } from 'preact/hooks';
import type { ChatModel } from './model.js';
import { QrCode } from './qr.js';
import { groupDigits, visible } from './text.js';

export interface VerifyProps {
  model: ChatModel;
  user: string;
  run(line: string): boolean;
  close(): void;
}

/**
 * The safety number with a peer (60 digits and a QR code of them) and the check of the
 * number they read out: the core compares, the page only shows its answer.
 */
export function VerifyDialog({ model, user, run, close }: VerifyProps) {
  const [typed, setTyped] = useState('');
  const [askedAt, setAskedAt] = useState<number | undefined>(undefined);
  const safety = model.safety?.user.toLowerCase() === user.toLowerCase() ? model.safety : undefined;
  const answer =
    askedAt !== undefined && model.lastNotice && model.lastNotice.seq > askedAt
      ? model.lastNotice
      : undefined;
  return (
    <div class="dialog-backdrop">
      <div
        class="dialog"
        role="dialog"
        aria-modal="true"
        aria-label={`verify ${user}`}
        data-testid="verify-dialog"
      >
        <h2>
          Verify <bdi>{user}</bdi>
        </h2>
        {safety === undefined ? <p>asking for the safety number…</p> : null}
        {safety?.reason ? <p class="error">{visible(safety.reason)}</p> : null}
        {safety?.digits ? (
          <>
            <p>
              Compare this number with <bdi>{user}</bdi> in person or on a call, or scan the code on
              their screen. If it is the same, type the number they read you below.
            </p>
            <p class="safety-number" data-testid="safety-number">
              {groupDigits(safety.digits).map((group, index) => (
                <span key={index}>{group}</span>
              ))}
            </p>
            <QrCode text={safety.digits} label={`safety number with ${user} as a QR code`} />
            <form
              onSubmit={(event) => {
                event.preventDefault();
                const digits = typed.replace(/[\s-]/g, '');
                setAskedAt(model.lastNotice?.seq ?? 0);
                run(`/verify ${user} ${digits}`);
              }}
            >
              <input
                data-testid="verify-input"
                value={typed}
                inputMode="numeric"
                placeholder="the 60 digits they read you"
                aria-label="safety number read by the other person"
                onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
              />
              <button type="submit" data-testid="verify-submit">
                Check and mark verified
              </button>
            </form>
          </>
        ) : null}
        {answer ? (
          <p class={`verify-answer ${answer.level ?? ''}`} data-testid="verify-answer">
            {visible(answer.text)}
          </p>
        ) : null}
        <button type="button" data-testid="verify-close" onClick={close}>
          Close
        </button>
      </div>
    </div>
  );
}
