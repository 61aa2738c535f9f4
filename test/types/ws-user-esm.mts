/**
 * The same import from an ES module, where the default import must still be the WebSocket class
 * (ws's wrapper.mjs) for a Node16/NodeNext project.
 */
import WebSocket, { WebSocketServer, RawData } from 'simdws';

const server = new WebSocketServer({ noServer: true });
const client: WebSocket = new WebSocket('ws://127.0.0.1:8080');
client.on('message', (data: RawData) => client.send(data));
const state: number = WebSocket.CLOSED;
server.close();

export { state };
