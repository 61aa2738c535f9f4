/**
 * The simdws classes the interop tests put in front of real peers. One import site, so every
 * interop test exercises the same build of the library.
 */
export { WebSocket } from '../../../src/websocket';
export { WebSocketServer } from '../../../src/websocket-server';
