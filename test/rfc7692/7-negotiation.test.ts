/**
 * RFC 7692 section 7: permessage-deflate negotiation in both roles, against ws 8.23's PerMessageDeflate
 * as the oracle wherever we mean to behave as ws, and against the RFC's own words where we part from it
 * (see src/extensions/negotiation.ts for the list and the reasons).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { format, parse } from '../../src/handshake/extension-header';
import { PerMessageDeflate, PerMessageDeflateOptions } from '../../src/extensions/permessage-deflate';
import { negotiate } from './deflate-pair';
import { WsPerMessageDeflate, outcome, wsExtension } from './ws-oracle';

const NAME = 'permessage-deflate';

function ours(options: PerMessageDeflateOptions, isServer: boolean, header: string): unknown {
  return outcome(() => new PerMessageDeflate(options, isServer).accept(parse(header)[NAME]));
}

function theirs(options: PerMessageDeflateOptions, isServer: boolean, header: string): unknown {
  return outcome(() => new WsPerMessageDeflate({ ...options, isServer }).accept(wsExtension.parse(header)[NAME]));
}

/** The header a server writes for its response, or the error; as ws's websocket-server.js builds it. */
function responseHeader(pmd: { accept(c: never): unknown }, header: string, parser: (h: string) => never): string {
  try {
    const params = pmd.accept(parser(header)[NAME] as never);
    return format({ [NAME]: params as Record<string, number | true> });
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

const triState = [undefined, true, false] as const;
const windowOptions = [undefined, true, false, 9, 12] as const;

function* serverOptionSets(): Generator<PerMessageDeflateOptions> {
  for (const serverNoContextTakeover of triState) {
    for (const clientNoContextTakeover of triState) {
      for (const serverMaxWindowBits of windowOptions) {
        for (const clientMaxWindowBits of windowOptions) {
          yield { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits };
        }
      }
    }
  }
}

/** Every valid single offer over the four parameters (section 7.1), in one parameter order. */
function* validOffers(): Generator<string> {
  for (const snct of [false, true]) {
    for (const cnct of [false, true]) {
      for (const smwb of [null, 8, 10, 15]) {
        for (const cmwb of [null, true, 8, 10, 15]) {
          const parts = [NAME];
          if (snct) parts.push('server_no_context_takeover');
          if (cnct) parts.push('client_no_context_takeover');
          if (smwb !== null) parts.push(`server_max_window_bits=${smwb}`);
          if (cmwb === true) parts.push('client_max_window_bits');
          else if (cmwb !== null) parts.push(`client_max_window_bits=${cmwb}`);
          yield parts.join('; ');
        }
      }
    }
  }
}

/** Offers section 7 says a server MUST decline, each also refused by ws (it throws). */
const INVALID_OFFERS: ReadonlyArray<readonly [string, string]> = [
  ['unknown parameter', 'permessage-deflate; foo'],
  ['unknown parameter with a value', 'permessage-deflate; mux=1'],
  ['duplicated parameter without value', 'permessage-deflate; server_no_context_takeover; server_no_context_takeover'],
  ['duplicated window bits', 'permessage-deflate; client_max_window_bits=10; client_max_window_bits=11'],
  ['duplicated bare client_max_window_bits', 'permessage-deflate; client_max_window_bits; client_max_window_bits'],
  ['server window bits 7', 'permessage-deflate; server_max_window_bits=7'],
  ['server window bits 16', 'permessage-deflate; server_max_window_bits=16'],
  ['client window bits 0', 'permessage-deflate; client_max_window_bits=0'],
  ['client window bits 16', 'permessage-deflate; client_max_window_bits=16'],
  ['window bits not a number', 'permessage-deflate; client_max_window_bits=abc'],
  ['window bits a fraction', 'permessage-deflate; server_max_window_bits=9.5'],
  ['server_max_window_bits without its value (7.1.2.1)', 'permessage-deflate; server_max_window_bits'],
  ['a value on server_no_context_takeover (7.1.1.1)', 'permessage-deflate; server_no_context_takeover=1'],
  ['a quoted value on client_no_context_takeover (7.1.1.2)', 'permessage-deflate; client_no_context_takeover="x"'],
];

/** Values the RFC's grammar refuses ("without leading zeroes") that ws reads with `+value`. */
const NON_CANONICAL_BITS = ['08', '010', '1e1', '0xa', '10.0', '+9'];

describe('7 negotiation: the client offer', () => {
  const clientOptionSets: PerMessageDeflateOptions[] = [];
  for (const serverNoContextTakeover of triState) {
    for (const clientNoContextTakeover of triState) {
      for (const serverMaxWindowBits of [undefined, false, 8, 10, 15]) {
        for (const clientMaxWindowBits of [undefined, true, false, 8, 10, 15]) {
          clientOptionSets.push({ serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits });
        }
      }
    }
  }

  it(`7.1 offer() and its header equal ws's for ${clientOptionSets.length} option sets`, () => {
    for (const options of clientOptionSets) {
      const mine = new PerMessageDeflate(options, false).offer();
      const ws = new WsPerMessageDeflate({ ...options, isServer: false }).offer();
      expect(mine, JSON.stringify(options)).toEqual(ws);
      expect(format({ [NAME]: mine })).toBe(wsExtension.format({ [NAME]: ws }));
    }
  });

  it('7.1.2.2 the default client offer is "permessage-deflate; client_max_window_bits", as ws', () => {
    expect(format({ [NAME]: new PerMessageDeflate().offer() })).toBe('permessage-deflate; client_max_window_bits');
  });

  it('7.1.2.1 serverMaxWindowBits: true offers nothing (ws offers a bare server_max_window_bits, which is invalid)', () => {
    expect(new PerMessageDeflate({ serverMaxWindowBits: true }).offer()).toEqual({ client_max_window_bits: true });
    const wsOffer = new WsPerMessageDeflate({ serverMaxWindowBits: true }).offer();
    expect(wsOffer.server_max_window_bits).toBe(true);
    // ws's own server refuses that offer: the RFC gives server_max_window_bits a value.
    expect(theirs({}, true, wsExtension.format({ [NAME]: wsOffer }))).toMatchObject({ error: 'TypeError' });
  });

  it('7.1.2 window bits outside 8-15 in the options are API misuse: the constructor throws', () => {
    expect(() => new PerMessageDeflate({ serverMaxWindowBits: 16 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate({ clientMaxWindowBits: 7 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate({ clientMaxWindowBits: 9.5 })).toThrow(RangeError);
    expect(() => new PerMessageDeflate({ clientMaxWindowBits: 0 })).not.toThrow();
  });
});

describe('7 negotiation: the server chooses among the offers', () => {
  const offers = [...validOffers()];
  const optionSets = [...serverOptionSets()];

  it(`7.1 every valid offer (${offers.length}) under every option set (${optionSets.length}): the response equals ws's`, () => {
    for (const options of optionSets) {
      for (const offer of offers) {
        const mine = responseHeader(new PerMessageDeflate(options, true), offer, parse as never);
        const ws = responseHeader(new WsPerMessageDeflate({ ...options, isServer: true }), offer, wsExtension.parse as never);
        if (mine !== ws) expect({ options, offer, mine }).toEqual({ options, offer, mine: ws });
      }
    }
  });

  it('7 several valid offers in one header: the first acceptable one is taken, as ws (property)', () => {
    const offerArb = fc.constantFrom(...offers).map((offer) => offer.slice(NAME.length));
    fc.assert(
      fc.property(fc.constantFrom(...optionSets), fc.array(offerArb, { minLength: 1, maxLength: 4 }), (options, list) => {
        const header = list.map((params) => NAME + params).join(', ');
        expect(ours(options, true, header)).toEqual(theirs(options, true, header));
      }),
      { numRuns: 2000 },
    );
  });

  it('7.1.1.1 server_no_context_takeover is echoed when offered, declined when the server insists on context', () => {
    expect(ours({}, true, 'permessage-deflate; server_no_context_takeover')).toEqual({
      ok: { server_no_context_takeover: true },
    });
    expect(ours({ serverNoContextTakeover: false }, true, 'permessage-deflate; server_no_context_takeover')).toEqual({
      error: 'Error',
      message: 'None of the extension offers can be accepted',
    });
    expect(ours({ serverNoContextTakeover: true }, true, 'permessage-deflate')).toEqual({
      ok: { server_no_context_takeover: true },
    });
  });

  it('7.1.1.2 client_no_context_takeover may be sent whether or not the client offered it', () => {
    expect(ours({ clientNoContextTakeover: true }, true, 'permessage-deflate')).toEqual({
      ok: { client_no_context_takeover: true },
    });
    expect(ours({}, true, 'permessage-deflate; client_no_context_takeover')).toEqual({
      ok: { client_no_context_takeover: true },
    });
  });

  it('7.1.2.1 server_max_window_bits: the response never exceeds the offer; a larger minimum declines', () => {
    expect(ours({}, true, 'permessage-deflate; server_max_window_bits=10')).toEqual({ ok: { server_max_window_bits: 10 } });
    expect(ours({ serverMaxWindowBits: 9 }, true, 'permessage-deflate; server_max_window_bits=10')).toEqual({
      ok: { server_max_window_bits: 9 },
    });
    expect(ours({ serverMaxWindowBits: 12 }, true, 'permessage-deflate; server_max_window_bits=10')).toMatchObject({
      error: 'Error',
    });
    expect(ours({ serverMaxWindowBits: false }, true, 'permessage-deflate; server_max_window_bits=10')).toMatchObject({
      error: 'Error',
    });
  });

  it('7.1.2.2 client_max_window_bits: only with a value in a response, only if offered', () => {
    expect(ours({}, true, 'permessage-deflate; client_max_window_bits')).toEqual({ ok: {} });
    expect(ours({ clientMaxWindowBits: 10 }, true, 'permessage-deflate; client_max_window_bits')).toEqual({
      ok: { client_max_window_bits: 10 },
    });
    expect(ours({ clientMaxWindowBits: 10 }, true, 'permessage-deflate')).toMatchObject({ error: 'Error' });
    expect(ours({ clientMaxWindowBits: 10 }, true, 'permessage-deflate; client_max_window_bits=9')).toMatchObject({
      error: 'Error',
    });
    expect(ours({ clientMaxWindowBits: false }, true, 'permessage-deflate; client_max_window_bits=9')).toEqual({ ok: {} });
  });

  it.each(INVALID_OFFERS)('7 an invalid offer (%s) is declined and the next offer taken; ws throws instead', (_, invalid) => {
    expect(theirs({}, true, invalid)).toMatchObject({ error: expect.any(String) });
    expect(ours({}, true, invalid)).toEqual({ error: 'Error', message: 'None of the extension offers can be accepted' });
    expect(ours({}, true, `${invalid}, permessage-deflate; server_max_window_bits=11`)).toEqual({
      ok: { server_max_window_bits: 11 },
    });
  });

  it.each(NON_CANONICAL_BITS)('7.1.2 window bits "%s" (not the RFC grammar) are declined; ws reads them', (value) => {
    const header = `permessage-deflate; server_max_window_bits=${value}`;
    expect(theirs({}, true, header)).toMatchObject({ ok: { server_max_window_bits: expect.any(Number) } });
    expect(ours({}, true, header)).toMatchObject({ error: 'Error' });
  });

  it('7 a quoted window-bits value is the same parameter (RFC 6455 9.1 quoted-string)', () => {
    expect(ours({}, true, 'permessage-deflate; client_max_window_bits="10"')).toEqual({ ok: { client_max_window_bits: 10 } });
  });
});

describe('7 negotiation: the client checks the response', () => {
  const clientOptions: PerMessageDeflateOptions[] = [
    {},
    { clientMaxWindowBits: 10 },
    { clientMaxWindowBits: false },
    { clientMaxWindowBits: true },
    { clientNoContextTakeover: false },
    { clientNoContextTakeover: true, serverNoContextTakeover: true, serverMaxWindowBits: 10 },
  ];
  const responses = [
    'permessage-deflate',
    'permessage-deflate; server_no_context_takeover',
    'permessage-deflate; client_no_context_takeover',
    'permessage-deflate; server_max_window_bits=8',
    'permessage-deflate; server_max_window_bits=15',
    'permessage-deflate; client_max_window_bits=8',
    'permessage-deflate; client_max_window_bits=10',
    'permessage-deflate; client_max_window_bits=15',
    'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=9',
    // Invalid: ws's messages, kept.
    'permessage-deflate; client_max_window_bits',
    'permessage-deflate; server_max_window_bits',
    'permessage-deflate; server_max_window_bits=16',
    'permessage-deflate; client_max_window_bits=7',
    'permessage-deflate; server_no_context_takeover=yes',
    'permessage-deflate; foo',
    'permessage-deflate; foo; foo',
    'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
    // Two elements: as ws, the first one is the configuration.
    'permessage-deflate; server_max_window_bits=10, permessage-deflate',
  ];

  it(`7 ${responses.length} responses under ${clientOptions.length} option sets: the result or error equals ws's`, () => {
    for (const options of clientOptions) {
      for (const response of responses) {
        expect(ours(options, false, response), `${JSON.stringify(options)} ${response}`).toEqual(
          theirs(options, false, response),
        );
      }
    }
  });

  it('7.1.2.2 a response with client_max_window_bits the client did not offer fails the connection', () => {
    expect(ours({ clientMaxWindowBits: false }, false, 'permessage-deflate; client_max_window_bits=10')).toEqual({
      error: 'Error',
      message: 'Unexpected or invalid parameter "client_max_window_bits"',
    });
  });

  it.each(NON_CANONICAL_BITS)('7.1.2 a response with window bits "%s" fails the connection; ws reads them', (value) => {
    const header = `permessage-deflate; server_max_window_bits=${value}`;
    expect(theirs({}, false, header)).toMatchObject({ ok: expect.anything() });
    expect(ours({}, false, header)).toEqual({
      error: 'TypeError',
      message: `Invalid value for parameter "server_max_window_bits": ${value}`,
    });
  });

  it('7 a whole round: every option pair negotiates the same parameters as ws on both ends', () => {
    const sets = [...serverOptionSets()].filter((o) => o.serverMaxWindowBits !== true);
    for (const serverOptions of sets.slice(0, 60)) {
      for (const clientOptions of sets.slice(60, 120)) {
        let pair;
        try {
          pair = negotiate(serverOptions, clientOptions);
        } catch (error) {
          pair = (error as Error).message;
        }
        const wsClient = new WsPerMessageDeflate({ ...clientOptions, isServer: false });
        const wsServer = new WsPerMessageDeflate({ ...serverOptions, isServer: true });
        let expected;
        try {
          const response = wsServer.accept(wsExtension.parse(wsExtension.format({ [NAME]: wsClient.offer() }))[NAME]);
          wsClient.accept(wsExtension.parse(wsExtension.format({ [NAME]: response }))[NAME]);
          expected = { server: wsServer.params, client: wsClient.params };
        } catch (error) {
          expected = (error as Error).message;
        }
        const actual = typeof pair === 'string' ? pair : { server: pair.server.params, client: pair.client.params };
        expect(actual, `${JSON.stringify(serverOptions)} / ${JSON.stringify(clientOptions)}`).toEqual(expected);
      }
    }
  });
});

describe('7 negotiation never crashes', () => {
  const token = fc.constantFrom(
    'server_no_context_takeover',
    'client_no_context_takeover',
    'server_max_window_bits',
    'client_max_window_bits',
    'x',
  );
  const value = fc.oneof(fc.constant(''), fc.integer({ min: -2, max: 20 }).map((n) => `=${n}`), fc.constantFrom('=08', '="9"', '=a'));
  const element = fc.array(fc.tuple(token, value).map(([t, v]) => `; ${t}${v}`), { maxLength: 5 }).map((p) => NAME + p.join(''));
  const header = fc.array(element, { minLength: 1, maxLength: 3 }).map((list) => list.join(', '));
  const known = [
    'None of the extension offers can be accepted',
    'Unexpected parameter "client_no_context_takeover"',
    'Unexpected or invalid parameter "client_max_window_bits"',
  ];

  it('7 random offers and responses: a result, or an Error with one of the known messages', () => {
    fc.assert(
      fc.property(header, fc.boolean(), fc.constantFrom(...serverOptionSets()), (text, isServer, options) => {
        const result = ours(options, isServer, text) as { ok?: unknown; message?: string };
        if (result.ok !== undefined) return;
        expect(
          known.includes(result.message as string) || /^(Unknown parameter|Parameter|Invalid value for parameter) "/.test(result.message as string),
          result.message,
        ).toBe(true);
        // A server never fails on an offer: it declines it.
        if (isServer) expect(result.message).toBe(known[0]);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('7 the constructor takes both ws forms', () => {
  it('ws 8.x (options, isServer, maxPayload) and ws 8.23 ({ isServer, maxPayload })', () => {
    const positional = new PerMessageDeflate({ threshold: 10 }, true, 500);
    const inOptions = new PerMessageDeflate({ threshold: 10, isServer: true, maxPayload: 500 });
    for (const pmd of [positional, inOptions]) {
      expect([pmd.isServer, pmd.maxPayload, pmd.threshold]).toEqual([true, 500, 10]);
    }
    expect(PerMessageDeflate.extensionName).toBe('permessage-deflate');
    expect(new PerMessageDeflate().threshold).toBe(1024);
  });
});
