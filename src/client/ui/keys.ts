/**
 * Keys that switch windows, decoded from the escape sequences terminals send (xterm,
 * tmux and screen, rxvt, the Linux console). Pure: the terminal hands over the sequence
 * node:readline's keypress decoding collected.
 *
 * - Alt-1 … Alt-9 send ESC and the digit: windows 1–9; Alt-0 is window 10 (irssi).
 * - F1–F4 send SS3 P–S (`ESC O P` …, xterm and tmux) or `ESC [ 11~` … `ESC [ 14~`
 *   (rxvt, old xterm), F1–F5 on the Linux console `ESC [ [ A` … `ESC [ [ E`.
 * - F5–F12 send `ESC [ 15~`, `17~`, `18~`, `19~`, `20~`, `21~`, `23~`, `24~` (the gaps at
 *   16 and 22 are historical).
 * F-keys with modifiers (`ESC [ 1 ; 2 P`, `ESC [ 15 ; 5 ~`) are left alone.
 */

const ESC = '\u001b';

/** Unmodified function keys: sequence → window number. */
const FUNCTION_KEYS: ReadonlyMap<string, number> = new Map([
  [`${ESC}OP`, 1],
  [`${ESC}OQ`, 2],
  [`${ESC}OR`, 3],
  [`${ESC}OS`, 4],
  [`${ESC}[11~`, 1],
  [`${ESC}[12~`, 2],
  [`${ESC}[13~`, 3],
  [`${ESC}[14~`, 4],
  [`${ESC}[[A`, 1],
  [`${ESC}[[B`, 2],
  [`${ESC}[[C`, 3],
  [`${ESC}[[D`, 4],
  [`${ESC}[[E`, 5],
  [`${ESC}[15~`, 5],
  [`${ESC}[17~`, 6],
  [`${ESC}[18~`, 7],
  [`${ESC}[19~`, 8],
  [`${ESC}[20~`, 9],
  [`${ESC}[21~`, 10],
  [`${ESC}[23~`, 11],
  [`${ESC}[24~`, 12],
]);

/** The window a key sequence selects (1–12), or undefined for any other key. */
export function windowForKey(sequence: string | undefined): number | undefined {
  if (sequence === undefined || sequence.length < 2 || sequence[0] !== ESC) return undefined;
  if (sequence.length === 2) {
    const code = sequence.charCodeAt(1);
    if (code >= 0x31 && code <= 0x39) return code - 0x30; // Alt-1 … Alt-9
    if (code === 0x30) return 10; // Alt-0
    return undefined;
  }
  return FUNCTION_KEYS.get(sequence);
}
