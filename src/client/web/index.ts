export type { CoreMessage, PageMessage } from './bridge-messages.js';
export { readPageMessage } from './bridge-messages.js';
export { REPLAY_EVENTS, type WebCore, WebHost, type WebHostOptions } from './web-host.js';
export { isLoopbackHost, securityHeaders, WebServer } from './web-server.js';
