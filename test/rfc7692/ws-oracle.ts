/**
 * ws 8.23 from node_modules as the oracle for permessage-deflate: its PerMessageDeflate class and its
 * Sec-WebSocket-Extensions parser and formatter, loaded by path (ws's package exports hide lib/).
 */
import { createRequire } from 'module';
import { dirname, join } from 'path';
import type { ExtensionOffers, ExtensionParams } from '../../src/handshake/extension-header';

const require = createRequire(import.meta.url);
const wsLib = join(dirname(require.resolve('ws')), 'lib');

export interface WsPerMessageDeflate {
  params: Record<string, unknown> | null;
  offer(): Record<string, unknown>;
  accept(configurations: ExtensionParams[]): Record<string, unknown>;
  compress(data: Buffer | string, fin: boolean, cb: (error: Error | null, result?: Buffer) => void): void;
  decompress(data: Buffer, fin: boolean, cb: (error: Error | null, result?: Buffer) => void): void;
  cleanup(): void;
}

export const WsPerMessageDeflate = require(join(wsLib, 'permessage-deflate.js')) as new (
  options: Record<string, unknown>,
) => WsPerMessageDeflate;

export const wsExtension = require(join(wsLib, 'extension.js')) as {
  parse(header: string): ExtensionOffers;
  format(extensions: Record<string, unknown>): string;
};

export const wsStatus = (require(join(wsLib, 'constants.js')) as { kStatusCode: symbol }).kStatusCode;

/** ws's result or error, as comparable data. */
export function outcome(run: () => unknown): unknown {
  try {
    return { ok: JSON.parse(JSON.stringify(run())) };
  } catch (error) {
    return { error: (error as Error).constructor.name, message: (error as Error).message };
  }
}
