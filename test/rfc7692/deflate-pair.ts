/**
 * Negotiates a simdws PerMessageDeflate pair the way the handshake will: the client's offer goes
 * through format/parse to the server, the server's response through format/parse back to the client.
 */
import { format, parse } from '../../src/handshake/extension-header';
import { PerMessageDeflate, PerMessageDeflateOptions } from '../../src/extensions/permessage-deflate';

export interface DeflatePair {
  server: PerMessageDeflate;
  client: PerMessageDeflate;
  offerHeader: string;
  responseHeader: string;
}

export function negotiate(
  serverOptions: PerMessageDeflateOptions = {},
  clientOptions: PerMessageDeflateOptions = {},
  maxPayload = 0,
): DeflatePair {
  const client = new PerMessageDeflate(clientOptions, false, maxPayload);
  const server = new PerMessageDeflate(serverOptions, true, maxPayload);
  const offerHeader = format({ [PerMessageDeflate.extensionName]: client.offer() });
  const response = server.accept(parse(offerHeader)[PerMessageDeflate.extensionName]);
  const responseHeader = format({ [PerMessageDeflate.extensionName]: response });
  client.accept(parse(responseHeader)[PerMessageDeflate.extensionName]);
  return { server, client, offerHeader, responseHeader };
}

/** compress as a promise. */
export function compress(pmd: PerMessageDeflate, data: Buffer | string, fin = true): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    pmd.compress(data, fin, (error, result) => (error ? reject(error) : resolve(result as Buffer))),
  );
}

/** decompress as a promise. */
export function decompress(pmd: PerMessageDeflate, data: Buffer, fin = true): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    pmd.decompress(data, fin, (error, result) => (error ? reject(error) : resolve(result as Buffer))),
  );
}
