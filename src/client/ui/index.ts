export { type Completion, type CompletionContext, complete } from './completion.js';
export {
  compareNames,
  connectionBadge,
  formatPrompt,
  type PromptState,
  seconds,
} from './prompt.js';
export {
  deliveryLabel,
  describeConnection,
  formatClock,
  MAX_RENDERED_NOTE,
  MAX_RENDERED_TEXT,
  PEER_STATUS_LABEL,
  type RenderOptions,
  renderEvent,
  renderEvents,
} from './render.js';
export {
  isDangerousChar,
  MAX_DISPLAY_NAME_LENGTH,
  placeholderFor,
  type SanitizeOptions,
  sanitizeName,
  sanitizeText,
  truncate,
} from './sanitize.js';
export { Glyph, KeyMarker, NICK_PALETTE, nickColor, ProtectionMarker } from './theme.js';
export { charWidth, effectiveIndent, stripSgr, visibleWidth, wrapLine } from './wrap.js';
