/**
 * ws 8.23 from node_modules as the oracle for permessage-deflate: its PerMessageDeflate class and its
 * Sec-WebSocket-Extensions parser and formatter.
 */
import type { ExtensionOffers, ExtensionParams } from '../../src/handshake/extension-header';
import { requireWsLib } from '../helpers/ws-lib';

export interface WsPerMessageDeflate {
  params: Record<string, unknown> | null;
  offer(): Record<string, unknown>;
  accept(configurations: ExtensionParams[]): Record<string, unknown>;
  compress(data: Buffer | string, fin: boolean, cb: (error: Error | null, result?: Buffer) => void): void;
  decompress(data: Buffer, fin: boolean, cb: (error: Error | null, result?: Buffer) => void): void;
  cleanup(): void;
}

export const WsPerMessageDeflate =
  requireWsLib<new (options: Record<string, unknown>) => WsPerMessageDeflate>('permessage-deflate.js');

export const wsExtension = requireWsLib<{
  parse(header: string): ExtensionOffers;
  format(extensions: Record<string, unknown>): string;
}>('extension.js');

export const wsStatus = requireWsLib<{ kStatusCode: symbol }>('constants.js').kStatusCode;

/** ws's result or error, as comparable data. */
export function outcome(run: () => unknown): unknown {
  try {
    return { ok: JSON.parse(JSON.stringify(run())) };
  } catch (error) {
    return { error: (error as Error).constructor.name, message: (error as Error).message };
  }
}
