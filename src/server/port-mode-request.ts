/**
 * The request a port-mode server (server/handshake-server.ts) hands to 'upgrade': an IncomingMessage
 * whose `headers` and `headersDistinct` are built from `rawHeaders` when first read, as Node builds
 * them for http.Server's requests, so a handshake whose listeners never read them does not pay for
 * them. The handshake reads `upgradeHeaders` instead (handshake/handshake-fields.ts says why).
 */
import { IncomingHttpHeaders, IncomingMessage } from 'http';
import type { Socket } from 'net';
import { UpgradeHeaders } from '../handshake/handshake-fields';
import { headerObject } from '../handshake/header-object';
import type { ParsedRequestHead } from '../handshake/request-head';

export class PortModeRequest extends IncomingMessage {
  /** `headers`, once read or assigned; null until then. */
  private builtHeaders: IncomingHttpHeaders | null = null;
  /** `headersDistinct`, once read or assigned; null until then. */
  private builtHeadersDistinct: Record<string, string[]> | null = null;

  constructor(
    socket: Socket,
    head: ParsedRequestHead,
    /** The fields of `headers` the opening handshake reads. */
    readonly upgradeHeaders: UpgradeHeaders,
  ) {
    super(socket);
    this.method = head.method;
    this.url = head.url;
    this.httpVersion = '1.1';
    this.httpVersionMajor = 1;
    this.httpVersionMinor = 1;
    this.rawHeaders = head.rawHeaders;
    this.complete = true;
  }

  /** The fields the handshake reads: `upgradeHeaders` for a port-mode request, else `req.headers`. */
  static upgradeHeadersOf(req: IncomingMessage): UpgradeHeaders {
    return req instanceof PortModeRequest ? req.upgradeHeaders : req.headers;
  }
}

// Accessors, as IncomingMessage's own are (TypeScript declares them as fields there, which a subclass
// may not redeclare as accessors).
Object.defineProperties(PortModeRequest.prototype, {
  headers: {
    configurable: true,
    enumerable: true,
    get(this: { builtHeaders: IncomingHttpHeaders | null; rawHeaders: string[] }): IncomingHttpHeaders {
      return (this.builtHeaders ??= headerObject(this.rawHeaders));
    },
    set(this: { builtHeaders: IncomingHttpHeaders | null }, value: IncomingHttpHeaders): void {
      this.builtHeaders = value;
    },
  },
  headersDistinct: {
    configurable: true,
    enumerable: true,
    get(this: { builtHeadersDistinct: Record<string, string[]> | null; rawHeaders: string[] }): Record<string, string[]> {
      return (this.builtHeadersDistinct ??= headersDistinct(this.rawHeaders));
    },
    set(this: { builtHeadersDistinct: Record<string, string[]> | null }, value: Record<string, string[]>): void {
      this.builtHeadersDistinct = value;
    },
  },
});

/** Node's `headersDistinct`: every value of each field, in order, under its lower-case name. */
function headersDistinct(rawHeaders: readonly string[]): Record<string, string[]> {
  const distinct: Record<string, string[]> = Object.create(null);
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    (distinct[name] ??= []).push(rawHeaders[i + 1]);
  }
  return distinct;
}
