/**
 * simdws's public surface, shaped as ws's: `require('simdws')` is the WebSocket class with the rest
 * attached (WebSocket.Server, WebSocket.WebSocketServer, …), and the namespace below carries the
 * type names @types/ws users import (`import WebSocket, { WebSocketServer, RawData } from 'simdws'`).
 * The ESM entry (dist/wrapper.mjs, written by scripts/write-esm-wrapper.js) re-exports the same
 * names, without `Server`, as ws's wrapper.mjs does.
 *
 * simdws's own additions: pub/sub and send status (SendStatus, TopicRegistry), the shared and
 * memory-lean compression primitives, and `kernel` / `kernelInfo` (which kernel tier runs and why the
 * others do not).
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket as WebSocketClass } from './websocket';
import type { WebSocketOptions, WebSocketSendOptions, WebSocketData } from './websocket';
import { WebSocketServer as WebSocketServerClass } from './websocket-server';
import type { ServerOptions as ServerOptionsType, VerifyClientInfo } from './websocket-server';
import type { ClientOptions as ClientOptionsType } from './client/connect';
import { createWebSocketStream } from './stream';
import { ReceiverStream } from './protocol/receiver-stream';
import { Sender } from './protocol/sender';
import { PerMessageDeflate } from './extensions/permessage-deflate';
import type { PerMessageDeflateOptions as PerMessageDeflateOptionsType } from './extensions/permessage-deflate';
import * as extensionHeader from './handshake/extension-header';
import * as subprotocolHeader from './handshake/subprotocol-header';
import { SharedDeflate, deflateProfile } from './extensions/shared-compression';
import { MEMORY_LEAN_DEFLATE } from './extensions/presets';
import { sharedZlibLimiter } from './extensions/zlib-limiter';
import { SEND_BACKPRESSURE, SEND_DROPPED, SEND_SUCCESS, SendStatus } from './backpressure/send-status';
import type {
  BackpressureOptions as BackpressureOptionsType,
  BackpressureStats as BackpressureStatsType,
  SendStatusValue as SendStatusValueType,
  SlowConsumerPolicy as SlowConsumerPolicyType,
} from './backpressure/send-status';
import { TopicRegistry } from './pubsub/topic-registry';
import type { PublishOptions as PublishOptionsType } from './pubsub/publish-batch';
import type { ConnectionTimerOptions as ConnectionTimerOptionsType } from './timers/connection-timers';
import { formatKernelInfo, kernel, kernelInfo } from './kernels/select';
import type { KernelInfo as KernelInfoType, TierStatus as TierStatusType } from './kernels/select';
import type {
  CloseEvent as CloseEventClass,
  ErrorEvent as ErrorEventClass,
  Event as EventClass,
  MessageEvent as MessageEventClass,
} from './event-target';

const simdws = Object.assign(WebSocketClass, {
  WebSocket: WebSocketClass,
  WebSocketServer: WebSocketServerClass,
  /** ws's older name for WebSocketServer; CommonJS only, as in ws. */
  Server: WebSocketServerClass,
  createWebSocketStream,
  Receiver: ReceiverStream,
  Sender,
  PerMessageDeflate,
  extension: { parse: extensionHeader.parse, format: extensionHeader.format },
  subprotocol: { parse: subprotocolHeader.parse },
  // simdws's additions (README, "What differs from ws").
  SendStatus,
  SEND_SUCCESS,
  SEND_BACKPRESSURE,
  SEND_DROPPED,
  TopicRegistry,
  MEMORY_LEAN_DEFLATE,
  SharedDeflate,
  deflateProfile,
  sharedZlibLimiter,
  kernel,
  kernelInfo,
  formatKernelInfo,
});

type simdws = WebSocketClass;

declare namespace simdws {
  /** A received message: a Buffer, an ArrayBuffer or Buffer fragments, per binaryType (as @types/ws). */
  type RawData = Buffer | ArrayBuffer | Buffer[];
  /** What send accepts, as @types/ws's Data. */
  type Data = WebSocketData;
  type WebSocket = WebSocketClass;
  type WebSocketServer = WebSocketServerClass;
  type Server = WebSocketServerClass;
  type ClientOptions = ClientOptionsType;
  type ServerOptions = ServerOptionsType;
  type PerMessageDeflateOptions = PerMessageDeflateOptionsType;
  type SendOptions = WebSocketSendOptions;
  type Options = WebSocketOptions;
  type VerifyClientCallbackSync<Request extends IncomingMessage = IncomingMessage> = (
    info: VerifyClientInfo & { req: Request },
  ) => boolean;
  type VerifyClientCallbackAsync<Request extends IncomingMessage = IncomingMessage> = (
    info: VerifyClientInfo & { req: Request },
    callback: (result: boolean, code?: number, message?: string, headers?: Record<string, string>) => void,
  ) => void;
  type Event = EventClass;
  type ErrorEvent = ErrorEventClass;
  type CloseEvent = CloseEventClass;
  type MessageEvent = MessageEventClass;
  type SendStatusValue = SendStatusValueType;
  type BackpressureOptions = BackpressureOptionsType;
  type BackpressureStats = BackpressureStatsType;
  type SlowConsumerPolicy = SlowConsumerPolicyType;
  type PublishOptions = PublishOptionsType;
  type ConnectionTimerOptions = ConnectionTimerOptionsType;
  type KernelInfo = KernelInfoType;
  type TierStatus = TierStatusType;
}

export = simdws;
