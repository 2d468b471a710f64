import { pageKey } from './link.js';
import type { ChatModel } from './model.js';
import { visible } from './text.js';
import { bytesText, finished, percent, rateText, type Transfer } from './transfers.js';

/**
 * File transfer in the page. The page cannot give the core a path, so a chosen or dropped
 * file is uploaded to the local securechat (`POST /upload`, cookie + page key), which runs
 * `/send` on it; a received file is fetched back (`GET /download/ID`) and handed to the
 * browser as a download, never shown. Every name is peer text: rendered as text in `<bdi>`.
 */

export interface FilesProps {
  model: ChatModel;
  run(line: string): boolean;
  refresh(): void;
}

/** Uploads `file` for `to` (a user or #room); the core's transfer events follow. */
export async function uploadFile(
  model: ChatModel,
  to: string,
  file: File,
  refresh: () => void,
): Promise<void> {
  const refusal = model.transfers.uploadRefusal(file.size);
  if (refusal !== undefined) {
    model.note('error', `cannot send ${file.name}: ${refusal}`);
    refresh();
    return;
  }
  const waiting = { to, name: file.name, size: file.size };
  model.transfers.uploading.push(waiting);
  refresh();
  let error: string | undefined;
  try {
    const answer = await fetch(
      `/upload?to=${encodeURIComponent(to)}&name=${encodeURIComponent(file.name)}`,
      { method: 'POST', body: file, headers: { 'X-Securechat-Key': pageKey() ?? '' } },
    );
    if (!answer.ok) error = (await answer.text()).trim();
  } catch (failure) {
    error = (failure as Error).message;
  }
  if (error !== undefined) {
    model.transfers.uploading = model.transfers.uploading.filter((u) => u !== waiting);
    model.note('error', `could not send ${file.name}: ${error}`);
  }
  refresh();
}

/** Fetches a received file from the local securechat and saves it through the browser. */
export async function downloadFile(model: ChatModel, transfer: Transfer): Promise<void> {
  try {
    const answer = await fetch(`/download/${encodeURIComponent(transfer.id)}`, {
      headers: { 'X-Securechat-Key': pageKey() ?? '' },
    });
    if (!answer.ok) throw new Error((await answer.text()).trim());
    const url = URL.createObjectURL(await answer.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = transfer.name;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  } catch (failure) {
    model.note('error', `could not download ${transfer.name}: ${(failure as Error).message}`);
  }
}

function phaseText(t: Transfer): string {
  switch (t.phase) {
    case 'offer':
      return 'offered';
    case 'accepting':
      return 'accepting…';
    case 'done':
      return t.direction === 'up' ? 'sent' : 'received';
    case 'failed':
      return `failed${t.reason ? `: ${t.reason}` : ''}`;
    default:
      return t.phase === 'progress' ? `${percent(t)} %` : t.phase;
  }
}

/** One transfer: name, size, who, progress, and what can be done with it. */
export function TransferCard({ model, run, refresh, t }: FilesProps & { t: Transfer }) {
  const answer = (accept: boolean) => {
    if (!run(`/${accept ? 'accept' : 'reject'} ${t.id}`)) return;
    model.transfers.answered(t.id, accept);
    refresh();
  };
  const who = t.direction === 'up' ? `to ${t.room ?? t.peer}` : `from ${t.peer}`;
  return (
    <li class={`transfer t-${t.phase}`} data-testid="transfer" data-id={t.id}>
      <span class="t-name">
        {t.direction === 'up' ? '↑ ' : '↓ '}
        <bdi data-testid="transfer-name">{visible(t.name)}</bdi>
      </span>
      <span class="t-meta">
        {bytesText(t.size)} · <bdi>{visible(who)}</bdi> ·{' '}
        <span data-testid="transfer-state">{visible(phaseText(t))}</span>
      </span>
      {!finished(t) && t.phase !== 'offer' ? (
        <span class="t-progress">
          <progress max={100} value={percent(t)} />
          <span data-testid="transfer-rate">{rateText(t)}</span>
        </span>
      ) : null}
      <span class="t-actions">
        {t.phase === 'offer' ? (
          <>
            <button type="button" data-testid="transfer-accept" onClick={() => answer(true)}>
              Accept
            </button>
            <button type="button" data-testid="transfer-reject" onClick={() => answer(false)}>
              Reject
            </button>
          </>
        ) : null}
        {!finished(t) && t.phase !== 'offer' ? (
          <button
            type="button"
            data-testid="transfer-cancel"
            onClick={() => run(`/cancel ${t.id}`)}
          >
            Cancel
          </button>
        ) : null}
        {t.phase === 'done' && t.direction === 'down' ? (
          <>
            <button
              type="button"
              data-testid="transfer-download"
              onClick={() => void downloadFile(model, t).then(refresh)}
            >
              Download
            </button>
            <code class="t-path" title="saved here by securechat">
              {visible(t.path ?? '')}
            </code>
          </>
        ) : null}
      </span>
    </li>
  );
}

/** The open conversation's transfers, and uploads on their way to the core. */
export function ConversationFiles(props: FilesProps) {
  const { model } = props;
  const conversation = model.current;
  const shown = model.transfers.of(conversation.key).slice(-8);
  const waiting = model.transfers.uploading.filter((u) => u.to.toLowerCase() === conversation.key);
  if (shown.length === 0 && waiting.length === 0) return null;
  return (
    <ul class="transfers" aria-label="files" data-testid="conversation-files">
      {waiting.map((u) => (
        <li class="transfer t-uploading" key={`w${u.name}`}>
          <span class="t-name">
            ↑ <bdi>{visible(u.name)}</bdi>
          </span>
          <span class="t-meta">{bytesText(u.size)} · handing to securechat…</span>
        </li>
      ))}
      {shown.map((t) => (
        <TransferCard {...props} t={t} key={t.id} />
      ))}
    </ul>
  );
}

/** Every transfer this client knows, newest first, with cancel. */
export function TransfersPanel(props: FilesProps & { close(): void }) {
  const all = props.model.transfers.list().reverse();
  return (
    <aside class="transfers-panel" aria-label="transfers" data-testid="transfers-panel">
      <h2>
        Transfers{' '}
        <button type="button" onClick={props.close}>
          Close
        </button>
      </h2>
      {all.length === 0 ? <p>No file transfers yet.</p> : null}
      <ul class="transfers">
        {all.map((t) => (
          <TransferCard {...props} t={t} key={t.id} />
        ))}
      </ul>
    </aside>
  );
}

/** A "Send file" button for the open conversation (drag and drop is on the chat pane). */
export function SendFile({ model, refresh }: FilesProps) {
  const to = model.current.name;
  if (model.transfers.maxUpload === undefined) return null;
  return (
    <label class="send-file" data-testid="send-file">
      Send file
      <input
        type="file"
        multiple
        data-testid="file-input"
        onChange={(event) => {
          const input = event.target as HTMLInputElement;
          for (const file of Array.from(input.files ?? []))
            void uploadFile(model, to, file, refresh);
          input.value = '';
        }}
      />
    </label>
  );
}
