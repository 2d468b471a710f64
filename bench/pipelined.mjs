// The pipelined relay scenario (issue 16): clients that write many frames per TLS record,
// as a busy client or a bridge does. Each of 50 senders writes a whole window of 50 frames
// joined into one write, and the next window only once its receiver got every frame of
// this one (`loadgen.mjs relay --turns 1`). Per-record and per-syscall costs are amortized
// over 50 frames, so what remains in "msgs per server CPU-s" is each server's per-frame
// work (for securechat: decode, validation, the delivered line, metrics and rate limits).
// Run with the other relay scenarios for every peer: `npm run bench -- --only pipelined`.

/** Label used in progress lines. */
export const PIPELINED_LABEL = 'relay pipelined';

/** Title of its table in bench/RESULTS.md. */
export const PIPELINED_TITLE = 'Relay pipelined, 50 pairs, a window of 50 frames per write';

/** Counts of the scenario (the figures: 50 pairs × 10,000 messages, window 50). */
export function pipelinedCounts(quick) {
  return {
    pairs: 50,
    messages: quick ? 1000 : 10_000,
    window: 50,
    warmup: quick ? 100 : 500,
    turns: true,
  };
}

/** The intro line of its table. */
export function pipelinedIntro(s) {
  return `${s.pairs} pairs × ${s.messages.toLocaleString('en-US')} messages; each sender writes ${s.window} frames joined into one write per turn and the next ${s.window} once all arrived (after ${s.warmup.toLocaleString('en-US')} warm-up messages per pair).`;
}
