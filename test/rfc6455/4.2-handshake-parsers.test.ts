/**
 * The opening-handshake building blocks (RFC 6455 section 4), with ws 8's own modules as the oracle:
 * `extension` and `subprotocol` for parse results and error messages, and a live ws server for the
 * bytes of a refused handshake.
 */
import { createHash } from 'crypto';
import { createServer, IncomingMessage, Server } from 'http';
import { AddressInfo, connect } from 'net';
import { Duplex } from 'stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { abortHandshake } from '../../src/handshake/abort-handshake';
import { acceptKey, generateKey, isValidKey, WEBSOCKET_GUID } from '../../src/handshake/accept-key';
import { allowedOrigins } from '../../src/handshake/allowed-origins';
import * as extension from '../../src/handshake/extension-header';
import { handshakeFields } from '../../src/handshake/handshake-fields';
import { headerListHas } from '../../src/handshake/header-list';
import { headerObject } from '../../src/handshake/header-object';
import * as subprotocol from '../../src/handshake/subprotocol-header';
import {
  MESSAGE_INVALID_CONNECTION,
  MESSAGE_INVALID_EXTENSIONS,
  MESSAGE_INVALID_KEY,
  MESSAGE_INVALID_METHOD,
  MESSAGE_INVALID_PROTOCOL,
  MESSAGE_INVALID_UPGRADE,
  MESSAGE_INVALID_VERSION,
  validateUpgradeRequest,
} from '../../src/handshake/upgrade-request';
import { requireWsLib } from '../helpers/ws-lib';

const wsExtension = requireWsLib<{
  parse(header: string): unknown;
  format(extensions: unknown): string;
}>('extension.js');
const wsSubprotocol = requireWsLib<{ parse(header: string): Set<string> }>('subprotocol.js');
/** ws's Sec-WebSocket-Key check (websocket-server.js), the oracle for isValidKey. */
const WS_KEY_REGEX = /^[+/0-9A-Za-z]{22}==$/;

type Outcome = { value: unknown } | { error: string };

/**
 * The parse result as plain data that keeps what matters to a ws user: key order, prototypes (null
 * or not) and value types. Plain toStrictEqual cannot compare these results: it reads `constructor`,
 * which is an own parameter in a header such as "a; constructor".
 */
function canonical(value: unknown): unknown {
  if (value instanceof Set) return { set: [...value] };
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  return {
    nullPrototype: Object.getPrototypeOf(value) === null,
    entries: Object.keys(record).map((key) => [key, canonical(record[key])]),
  };
}

function outcome(parse: (header: string) => unknown, header: string): Outcome {
  try {
    return { value: canonical(parse(header)) };
  } catch (error) {
    expect(error).toBeInstanceOf(SyntaxError);
    return { error: (error as Error).message };
  }
}

/** Same result (same null-prototype shape, same order) or the same SyntaxError message as ws. */
function expectSameAsWs(
  ours: (header: string) => unknown,
  theirs: (header: string) => unknown,
  header: string,
): Outcome {
  const expected = outcome(theirs, header);
  expect(outcome(ours, header), JSON.stringify(header)).toStrictEqual(expected);
  return expected;
}

const EXTENSION_CORPUS = [
  // valid
  'foo',
  'foo, bar',
  'foo,bar',
  'foo; bar',
  'foo;bar',
  'foo; bar=baz',
  'foo; bar=1; bar=2',
  'foo; bar; baz=1, foo; bar=2',
  'permessage-deflate; client_max_window_bits',
  'permessage-deflate; client_max_window_bits=10; server_no_context_takeover',
  'permessage-deflate; server_max_window_bits="10"',
  'foo; bar="baz"',
  'foo; bar="\\baz"',
  'foo; bar="b\\az"',
  'foo; bar="\\b\\a\\z"',
  'foo; bar="baz" , qux',
  'foo ; bar ; baz=1 , qux',
  'foo\t;\tbar\t,\tqux',
  'a, a, a',
  "!#$%&'*+-.^_`|~09AZaz",
  '__proto__; constructor=toString',
  'foo; __proto__="x"',
  // invalid
  '',
  ' ',
  ' foo',
  '\tfoo',
  'foo ',
  'foo\t',
  'foo,',
  'foo, ',
  ',foo',
  'foo,,bar',
  'foo;',
  'foo; ',
  ';foo',
  'foo;;bar',
  'foo bar',
  'foo; bar baz',
  'foo; bar =baz',
  'foo; bar= baz',
  'foo; =baz',
  'foo; bar==baz',
  'foo; bar=baz qux',
  'foo; bar=baz ',
  'foo; bar=',
  'foo; bar=,',
  'foo; bar=;',
  'foo; bar="',
  'foo; bar=""',
  'foo; bar="baz',
  'foo; bar="baz"qux',
  'foo; bar="ba z"',
  'foo; bar="baz""',
  'foo; bar=baz"',
  'foo; bar=b"az"',
  'foo; bar="\\"',
  'foo; bar="\\ "',
  'foo; bar="\\\\"',
  'foo; bar="baz\\',
  'foo; bar="baz\\"',
  'foo; bar = "baz"',
  'fo\u00e9',
  'foo; b\u0100r',
  'foo; bar=\u0000',
  'foo\r\n',
  'foo/bar',
  'foo; bar=b@z',
];

const SUBPROTOCOL_CORPUS = [
  // valid
  'chat',
  'chat, superchat',
  'chat,superchat',
  'chat ,superchat',
  'chat\t,\tsuperchat',
  'chat,  superchat',
  'v1.json.api, v2.json.api, mqtt',
  "!#$%&'*+-.^_`|~09AZaz",
  'Chat, chat',
  // invalid
  '',
  ' ',
  ' chat',
  'chat ',
  'chat,',
  'chat, ',
  ',chat',
  'chat,,superchat',
  'chat superchat',
  'chat; superchat',
  'chat, chat',
  'chat,superchat,chat',
  'chat , chat',
  'ch\u00e2t',
  'chat, s\u0100',
  'chat/1',
  '"chat"',
];

/** Characters that drive every branch of both parsers, plus non-token and non-Latin-1 ones. */
const HEADER_CHARACTER = fc.constantFrom(
  'a',
  'b',
  'x',
  '-',
  '!',
  '=',
  ';',
  ',',
  ' ',
  '\t',
  '"',
  '\\',
  '/',
  '\u00e9',
  '\u0100',
  '\u0000',
);
const HEADER_STRING = fc.string({ unit: HEADER_CHARACTER, maxLength: 24 });

const TOKEN = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,6}$/);
const OWS = fc.constantFrom('', ' ', '\t', '  ');

/** Well-formed Sec-WebSocket-Extensions values, so the fuzzer also reaches the accepting paths. */
const EXTENSION_HEADER = fc
  .array(
    fc.tuple(
      TOKEN,
      fc.array(
        fc.tuple(
          OWS,
          TOKEN,
          fc.oneof(
            fc.constant(''),
            TOKEN.map((value) => `=${value}`),
            TOKEN.map((value) => `="${value}"`),
            TOKEN.map((value) => `="${value.replace(/(.)/g, (c) => (c === 'a' ? '\\a' : c))}"`),
            TOKEN.map((value) => `="\\${value.split('').join('\\')}"`),
          ),
          OWS,
        ),
        { maxLength: 3 },
      ),
      OWS,
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((elements) =>
    elements
      .map(
        ([name, params, after]) =>
          name + params.map(([b, p, v, a]) => `${after};${b}${p}${v}${a}`).join('') + after,
      )
      .join(',')
      .replace(/[ \t]+$/, ''),
  );

describe('RFC 6455 4.2.2 Sec-WebSocket-Accept and 4.1 Sec-WebSocket-Key', () => {
  it('4.2.2 accept key matches the RFC 6455 section 1.3 example', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('4.2.2 accept key is base64(SHA-1(key + GUID)) for any key', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const key = Buffer.from(bytes).toString('base64');
        const expected = createHash('sha1')
          .update(key + WEBSOCKET_GUID)
          .digest('base64');
        expect(acceptKey(key)).toBe(expected);
      }),
    );
  });

  it('4.1 generated keys are valid 16-byte nonces and differ', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const key = generateKey();
      expect(isValidKey(key)).toBe(true);
      expect(Buffer.from(key, 'base64')).toHaveLength(16);
      keys.add(key);
    }
    expect(keys.size).toBe(64);
  });

  it.each([
    ['dGhlIHNhbXBsZSBub25jZQ==', true],
    ['++++++++++++++++++++++==', true],
    ['//////////////////////==', true],
    ['', false],
    ['dGhlIHNhbXBsZSBub25jZQ=', false],
    ['dGhlIHNhbXBsZSBub25jZQ===', false],
    ['dGhlIHNhbXBsZSBub25jZQ', false],
    ['dGhlIHNhbXBsZSBub25jZQ=A', false],
    ['dGhlIHNhbXBsZSBub25jZ===', false],
    ['dGhlIHNhbXBsZSBub25jZ-==', false],
    ['dGhlIHNhbXBsZSBub25jZ_==', false],
    ['dGhlIHNhbXBsZSBub25jZ ==', false],
    ['dGhlIHNhbXBsZSBub25jZ\u0141==', false],
    ['dGhlIHNhbXBsZSBub25jZQ==\n', false],
    [' dGhlIHNhbXBsZSBub25jZQ==', false],
    ['dGhlIHNhbXBsZSBub25jZQ==dGhlIHNhbXBsZSBub25jZQ==', false],
  ])('4.2.1 key %j is valid: %s (as ws)', (key, valid) => {
    expect(isValidKey(key)).toBe(valid);
    expect(WS_KEY_REGEX.test(key)).toBe(valid);
  });

  it('4.2.1 key validation agrees with ws on random strings', () => {
    const unit = fc.constantFrom('A', 'z', '0', '+', '/', '=', '-', '_', ' ', '\u0100');
    fc.assert(
      fc.property(fc.string({ unit, minLength: 20, maxLength: 26 }), (key) => {
        expect(isValidKey(key)).toBe(WS_KEY_REGEX.test(key));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('RFC 6455 9.1 Sec-WebSocket-Extensions parse', () => {
  it.each(EXTENSION_CORPUS)('9.1 parses %j as ws does', (header) => {
    expectSameAsWs(extension.parse, wsExtension.parse, header);
  });

  it('9.1 the corpus covers both outcomes and both messages', () => {
    const outcomes = EXTENSION_CORPUS.map((header) => outcome(wsExtension.parse, header));
    const messages = outcomes.map((o) => ('error' in o ? o.error.replace(/\d+$/, 'N') : 'ok'));
    expect(new Set(messages)).toEqual(
      new Set(['ok', 'Unexpected character at index N', 'Unexpected end of input']),
    );
  });

  it('9.1 parse result is a null-prototype object of arrays in header order', () => {
    const offers = extension.parse('b; x=1; y, a, b; x="2"');
    expect(Object.getPrototypeOf(offers)).toBeNull();
    expect(Object.keys(offers)).toEqual(['b', 'a']);
    expect(Object.getPrototypeOf(offers.b[0])).toBeNull();
    const fromWs = wsExtension.parse('b; x=1; y, a, b; x="2"') as extension.ExtensionOffers;
    expect(offers.b).toStrictEqual(fromWs.b);
    expect(offers.b.map((params) => ({ ...params }))).toEqual([
      { x: ['1'], y: [true] },
      { x: ['2'] },
    ]);
  });

  it('9.1 parse agrees with ws on random strings over the grammar characters', () => {
    fc.assert(
      fc.property(HEADER_STRING, (header) => {
        expectSameAsWs(extension.parse, wsExtension.parse, header);
      }),
      { numRuns: 5000 },
    );
  });

  it('9.1 parse agrees with ws on well-formed headers and their one-character corruptions', () => {
    fc.assert(
      fc.property(EXTENSION_HEADER, fc.nat(), HEADER_CHARACTER, (header, at, character) => {
        expect('value' in expectSameAsWs(extension.parse, wsExtension.parse, header)).toBe(true);
        const index = at % (header.length + 1);
        const corrupted = header.slice(0, index) + character + header.slice(index + 1);
        expectSameAsWs(extension.parse, wsExtension.parse, corrupted);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('RFC 6455 9.1 Sec-WebSocket-Extensions format', () => {
  it('9.1 formats parameters, repeated values and repeated offers as ws does', () => {
    const input: extension.ExtensionsInput = {
      'permessage-deflate': [
        { client_max_window_bits: true, server_max_window_bits: 10 },
        { server_no_context_takeover: [true], client_max_window_bits: [10, 12] },
      ],
      foo: { bar: 'baz' },
      empty: {},
    };
    const expected =
      'permessage-deflate; client_max_window_bits; server_max_window_bits=10, ' +
      'permessage-deflate; server_no_context_takeover; client_max_window_bits=10; ' +
      'client_max_window_bits=12, foo; bar=baz, empty';
    expect(extension.format(input)).toBe(expected);
    expect(wsExtension.format(input)).toBe(expected);
  });

  it('9.1 format agrees with ws on random extension maps, and parse(format(x)) with ws', () => {
    const value = fc.oneof(fc.constant(true as const), TOKEN, fc.nat({ max: 15 }));
    const params = fc.dictionary(TOKEN, fc.oneof(value, fc.array(value, { maxLength: 3 })), {
      maxKeys: 3,
    });
    const extensions = fc.dictionary(TOKEN, fc.oneof(params, fc.array(params, { maxLength: 3 })), {
      maxKeys: 3,
    });
    fc.assert(
      fc.property(extensions, (input) => {
        const formatted = extension.format(input);
        expect(formatted).toBe(wsExtension.format(input));
        expectSameAsWs(extension.parse, wsExtension.parse, formatted);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('RFC 6455 4.1 Sec-WebSocket-Protocol parse', () => {
  it.each(SUBPROTOCOL_CORPUS)('4.1 parses %j as ws does', (header) => {
    expectSameAsWs(subprotocol.parse, wsSubprotocol.parse, header);
  });

  it('4.1 the corpus covers both outcomes and all three messages', () => {
    const outcomes = SUBPROTOCOL_CORPUS.map((header) => outcome(wsSubprotocol.parse, header));
    const messages = outcomes.map((o) =>
      'error' in o ? o.error.replace(/\d+$/, 'N').replace(/"[^"]*"/, '"P"') : 'ok',
    );
    expect(new Set(messages)).toEqual(
      new Set([
        'ok',
        'Unexpected character at index N',
        'Unexpected end of input',
        'The "P" subprotocol is duplicated',
      ]),
    );
  });

  it('4.1 keeps the client order (the server picks the first by default)', () => {
    expect([...subprotocol.parse('b, a, c')]).toEqual(['b', 'a', 'c']);
  });

  it('4.1 parse agrees with ws on random strings and on token lists', () => {
    const list = fc
      .array(fc.tuple(TOKEN, OWS, OWS), { minLength: 1, maxLength: 5 })
      .map((items) => items.map(([token, before, after]) => `${token}${before},${after}`).join(''))
      .map((header) => header.replace(/[ \t]*,[ \t]*$/, ''));
    fc.assert(
      fc.property(fc.oneof(HEADER_STRING, list), (header) => {
        expectSameAsWs(subprotocol.parse, wsSubprotocol.parse, header);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('RFC 6455 4.2.1 Upgrade and Connection header lists', () => {
  it.each([
    ['websocket', 'websocket', true],
    ['WebSocket', 'websocket', true],
    ['WEBSOCKET', 'websocket', true],
    ['h2c, websocket', 'websocket', true],
    [' websocket ,h2c', 'websocket', true],
    ['keep-alive, Upgrade', 'upgrade', true],
    ['Upgrade,,keep-alive', 'upgrade', true],
    ['\tupgrade\t', 'upgrade', true],
    ['', 'websocket', false],
    [',', 'websocket', false],
    ['websockets', 'websocket', false],
    ['web socket', 'websocket', false],
    ['websocket/13', 'websocket', false],
    ['keep-alive', 'upgrade', false],
    ['upgrade-insecure', 'upgrade', false],
    ['x-upgrade', 'upgrade', false],
  ])('4.2.1 %j contains %j: %s', (value, token, expected) => {
    expect(headerListHas(value, token)).toBe(expected);
  });
});

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function requestHeaders(
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  const headers: Record<string, string | undefined> = {
    host: 'example.com',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': KEY,
    'sec-websocket-version': '13',
    ...overrides,
  };
  for (const name of Object.keys(headers)) if (headers[name] === undefined) delete headers[name];
  return headers as Record<string, string>;
}

describe('RFC 6455 4.2.1 upgrade request validation', () => {
  it('4.2.1 accepts a minimal request and returns what the response needs', () => {
    expect(validateUpgradeRequest('GET', requestHeaders())).toStrictEqual({
      ok: true,
      key: KEY,
      version: 13,
      protocols: new Set(),
      extensions: undefined,
      offers: null,
      origin: undefined,
    });
  });

  it('4.2.1 returns subprotocols, extensions, offers and origin', () => {
    const headers = requestHeaders({
      origin: 'https://example.com',
      'sec-websocket-protocol': 'chat, superchat',
      'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits',
    });
    const result = validateUpgradeRequest('GET', headers, { parseExtensions: true });
    expect(result).toMatchObject({
      ok: true,
      origin: 'https://example.com',
      extensions: 'permessage-deflate; client_max_window_bits',
    });
    if (!result.ok) throw new Error('rejected');
    expect([...result.protocols]).toEqual(['chat', 'superchat']);
    expect(result.offers).toStrictEqual(
      wsExtension.parse('permessage-deflate; client_max_window_bits'),
    );
  });

  it('4.2.1 version 8 reads its origin from Sec-WebSocket-Origin, as ws', () => {
    const headers = requestHeaders({
      'sec-websocket-version': '8',
      origin: 'https://wrong.example',
      'sec-websocket-origin': 'https://example.com',
    });
    expect(validateUpgradeRequest('GET', headers)).toMatchObject({
      ok: true,
      version: 8,
      origin: 'https://example.com',
    });
  });

  it.each([
    ['POST', {}, 405, MESSAGE_INVALID_METHOD],
    ['get', {}, 405, MESSAGE_INVALID_METHOD],
    [undefined, {}, 405, MESSAGE_INVALID_METHOD],
    ['GET', { upgrade: undefined }, 400, MESSAGE_INVALID_UPGRADE],
    ['GET', { upgrade: 'h2c' }, 400, MESSAGE_INVALID_UPGRADE],
    ['GET', { upgrade: 'websocket2' }, 400, MESSAGE_INVALID_UPGRADE],
    ['GET', { connection: undefined }, 400, MESSAGE_INVALID_CONNECTION],
    ['GET', { connection: 'keep-alive' }, 400, MESSAGE_INVALID_CONNECTION],
    ['GET', { connection: 'upgrades' }, 400, MESSAGE_INVALID_CONNECTION],
    ['GET', { 'sec-websocket-key': undefined }, 400, MESSAGE_INVALID_KEY],
    ['GET', { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ' }, 400, MESSAGE_INVALID_KEY],
    ['GET', { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ=' }, 400, MESSAGE_INVALID_KEY],
    ['GET', { 'sec-websocket-protocol': '' }, 400, MESSAGE_INVALID_PROTOCOL],
    ['GET', { 'sec-websocket-protocol': 'chat, chat' }, 400, MESSAGE_INVALID_PROTOCOL],
    ['GET', { 'sec-websocket-protocol': 'chat,' }, 400, MESSAGE_INVALID_PROTOCOL],
  ])('4.2.1 %s with %j is refused with %i %j', (method, overrides, status, message) => {
    expect(validateUpgradeRequest(method, requestHeaders(overrides))).toStrictEqual({
      ok: false,
      status,
      message,
      headers: undefined,
    });
  });

  it.each([
    [undefined, 400, '13, 8'],
    ['', 400, '13, 8'],
    [' ', 400, '13, 8'],
    ['abc', 400, '13, 8'],
    ['13abc', 400, '13, 8'],
    ['12', 426, '13'],
    ['7', 426, '13'],
    ['0', 426, '13'],
    ['13.5', 426, '13'],
    ['99999999999999999999', 426, '13'],
  ])('4.2.1 version %j is refused with %i, advertising %j', (version, status, advertised) => {
    const result = validateUpgradeRequest(
      'GET',
      requestHeaders({ 'sec-websocket-version': version }),
    );
    expect(result).toStrictEqual({
      ok: false,
      status,
      message: MESSAGE_INVALID_VERSION,
      headers: { 'Sec-WebSocket-Version': advertised },
    });
  });

  it.each(['13', '8', ' 13 ', '013', '13.0', '0xd'])(
    '4.2.1 version %j reads as a supported version, as ws reads it with Number()',
    (version) => {
      const headers = requestHeaders({ 'sec-websocket-version': version });
      expect(validateUpgradeRequest('GET', headers).ok).toBe(true);
    },
  );

  it('4.2.1 checks in ws order: method, Upgrade, Connection, key, version, protocol, extensions', () => {
    let method = 'PUT';
    const headers = requestHeaders({
      upgrade: 'h2c',
      connection: 'close',
      'sec-websocket-key': 'x',
      'sec-websocket-version': '12',
      'sec-websocket-protocol': ',',
      'sec-websocket-extensions': ',',
    });
    const fixes: Array<[string, () => void]> = [
      [MESSAGE_INVALID_METHOD, () => (method = 'GET')],
      [MESSAGE_INVALID_UPGRADE, () => (headers.upgrade = 'websocket')],
      [MESSAGE_INVALID_CONNECTION, () => (headers.connection = 'Upgrade')],
      [MESSAGE_INVALID_KEY, () => (headers['sec-websocket-key'] = KEY)],
      [MESSAGE_INVALID_VERSION, () => (headers['sec-websocket-version'] = '13')],
      [MESSAGE_INVALID_PROTOCOL, () => (headers['sec-websocket-protocol'] = 'chat')],
      [MESSAGE_INVALID_EXTENSIONS, () => (headers['sec-websocket-extensions'] = 'foo')],
    ];
    for (const [message, fix] of fixes) {
      const result = validateUpgradeRequest(method, headers, { parseExtensions: true });
      expect(result).toMatchObject({ ok: false, message });
      fix();
    }
    expect(validateUpgradeRequest(method, headers, { parseExtensions: true }).ok).toBe(true);
  });

  it('4.2.1 a malformed Sec-WebSocket-Extensions is refused only when parsing is on (ws: perMessageDeflate)', () => {
    const headers = requestHeaders({ 'sec-websocket-extensions': 'permessage-deflate;' });
    expect(validateUpgradeRequest('GET', headers)).toMatchObject({
      ok: true,
      extensions: 'permessage-deflate;',
      offers: null,
    });
    expect(validateUpgradeRequest('GET', headers, { parseExtensions: true })).toStrictEqual({
      ok: false,
      status: 400,
      message: MESSAGE_INVALID_EXTENSIONS,
      headers: undefined,
    });
  });
});

describe('RFC 6455 10.2 Origin allow-list', () => {
  const check = allowedOrigins([
    'https://example.com',
    'http://localhost:8080',
    'https://[::1]:443',
  ]);

  it.each([
    ['https://example.com', true],
    ['HTTPS://EXAMPLE.COM', true],
    ['https://Example.com', true],
    ['http://localhost:8080', true],
    ['http://LOCALHOST:8080', true],
    ['https://[::1]:443', true],
    ['http://example.com', false],
    ['https://example.com:443', false],
    ['https://example.com/', false],
    ['https://example.com.evil.test', false],
    ['https://sub.example.com', false],
    ['http://localhost', false],
    ['http://localhost:8081', false],
    ['null', false],
    ['', false],
    [undefined, false],
    ['https://e\u212axample.com', false],
  ])('10.2 origin %j is accepted: %s', (origin, accepted) => {
    const decision = check(origin);
    if (accepted) expect(decision).toStrictEqual({ ok: true });
    else
      expect(decision).toStrictEqual({
        ok: false,
        status: 403,
        message: 'Forbidden',
        headers: undefined,
      });
  });

  it('10.2 a KELVIN SIGN does not fold onto an allowed "k"', () => {
    expect('\u212a'.toLowerCase()).toBe('k');
    expect(allowedOrigins(['https://k.example'])('https://\u212a.example').ok).toBe(false);
    expect(allowedOrigins(['https://k.example'])('https://K.example').ok).toBe(true);
  });

  it.each([
    'example.com',
    'https://example.com/',
    'https://example.com/path',
    'https://user@example.com',
    'https://example.com?x',
    'https://example.com#x',
    'https://',
    '://example.com',
    '1http://example.com',
    'ht tp://example.com',
    'https://exa mple.com',
    'https://example.com:',
    'https://example.com:123456',
    'https://example.com:80a',
    'https://:80',
    'null',
  ])('10.2 %j is refused as an allow-list entry', (entry) => {
    expect(() => allowedOrigins([entry])).toThrow(TypeError);
  });
});

/** A Duplex that keeps what is written to it, standing in for the client's socket. */
function recordingSocket(): { socket: Duplex; written: () => string } {
  const chunks: Buffer[] = [];
  const socket = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  return { socket, written: () => Buffer.concat(chunks).toString() };
}

describe('RFC 6455 4.2.2 refusing a handshake', () => {
  it('4.2.2 writes a complete HTTP/1.1 response and destroys the socket when it is flushed', async () => {
    const { socket, written } = recordingSocket();
    const closed = new Promise<void>((resolve) => socket.once('close', resolve));
    abortHandshake(socket, 400, 'Invalid Upgrade header');
    await closed;
    expect(written()).toBe(
      'HTTP/1.1 400 Bad Request\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/html\r\n' +
        'Content-Length: 22\r\n' +
        '\r\n' +
        'Invalid Upgrade header',
    );
    expect(socket.destroyed).toBe(true);
  });

  it('4.2.2 defaults the body to the reason phrase, counts bytes not characters, adds headers', async () => {
    const first = recordingSocket();
    abortHandshake(first.socket, 401);
    await new Promise((resolve) => first.socket.once('close', resolve));
    expect(first.written()).toMatch(/\r\nContent-Length: 12\r\n\r\nUnauthorized$/);

    const second = recordingSocket();
    abortHandshake(second.socket, 426, 'versión', { 'Sec-WebSocket-Version': '13', 'X-N': 1 });
    await new Promise((resolve) => second.socket.once('close', resolve));
    expect(second.written()).toBe(
      'HTTP/1.1 426 Upgrade Required\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/html\r\n' +
        'Content-Length: 8\r\n' +
        'Sec-WebSocket-Version: 13\r\n' +
        'X-N: 1\r\n' +
        '\r\n' +
        'versión',
    );
  });

  it('4.2.2 leaves out header fields that would break the header block, and still answers', () => {
    const unsafe: Array<Record<string, string>> = [
      { 'X-A': 'a\r\nSet-Cookie: b', 'X-B': 'kept' },
      { 'X-A\n': 'a', 'X-B': 'kept' },
    ];
    for (const headers of unsafe) {
      const { socket, written } = recordingSocket();
      abortHandshake(socket, 403, 'no', headers);
      const response = written();
      expect(response).toBe(
        'HTTP/1.1 403 Forbidden\r\n' +
          'Connection: close\r\n' +
          'Content-Type: text/html\r\n' +
          'Content-Length: 2\r\n' +
          'X-B: kept\r\n' +
          '\r\n' +
          'no',
      );
      expect(response).not.toContain('Set-Cookie');
    }
  });
});

/**
 * A live comparison: the same raw request sent to a ws 8 server and to a server built from these
 * blocks must get the same bytes back, except for the one deliberate difference (426).
 */
describe('RFC 6455 4.2.1 refused handshakes byte for byte against ws', () => {
  let wsServer: Server;
  let ourServer: Server;
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true });

  function listen(onUpgrade: (req: IncomingMessage, socket: Duplex) => void) {
    const server = createServer((_req, res) => res.writeHead(426).end());
    server.on('upgrade', (req, socket) => onUpgrade(req, socket));
    return new Promise<Server>((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
  }

  beforeAll(async () => {
    wsServer = await listen((req, socket) => {
      wss.handleUpgrade(req, socket, Buffer.alloc(0), (client: WebSocket) => client.terminate());
    });
    ourServer = await listen((req, socket) => {
      const result = validateUpgradeRequest(req.method, req.headers, { parseExtensions: true });
      if (!result.ok) abortHandshake(socket, result.status, result.message, result.headers);
      else socket.destroy();
    });
  });

  afterAll(async () => {
    wss.close();
    await Promise.all(
      [wsServer, ourServer].map((server) => new Promise((resolve) => server.close(resolve))),
    );
  });

  function exchange(server: Server, request: string): Promise<string> {
    const { port } = server.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(request));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
    });
  }

  function request(method: string, overrides: Record<string, string | undefined>): string {
    const headers = requestHeaders(overrides);
    const lines = Object.keys(headers).map((name) => `${name}: ${headers[name]}`);
    return `${method} / HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
  }

  it.each([
    ['POST', {}],
    ['GET', { upgrade: 'h2c' }],
    ['GET', { 'sec-websocket-key': undefined }],
    ['GET', { 'sec-websocket-key': 'short==' }],
    ['GET', { 'sec-websocket-version': undefined }],
    ['GET', { 'sec-websocket-version': 'abc' }],
    ['GET', { 'sec-websocket-protocol': 'chat, chat' }],
    ['GET', { 'sec-websocket-protocol': 'chat,,superchat' }],
    ['GET', { 'sec-websocket-extensions': 'permessage-deflate; x="' }],
  ])('4.2.1 %s with %j gets the same response as from ws', async (method, overrides) => {
    const raw = request(method, overrides);
    const fromWs = await exchange(wsServer, raw);
    expect(fromWs).toMatch(/^HTTP\/1\.1 4\d\d /);
    expect(await exchange(ourServer, raw)).toBe(fromWs);
  });

  it('4.2.2 a present but unsupported version: ws says 400, we say 426 with Sec-WebSocket-Version: 13', async () => {
    const raw = request('GET', { 'sec-websocket-version': '12' });
    expect(await exchange(wsServer, raw)).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(await exchange(ourServer, raw)).toBe(
      'HTTP/1.1 426 Upgrade Required\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/html\r\n' +
        `Content-Length: ${MESSAGE_INVALID_VERSION.length}\r\n` +
        'Sec-WebSocket-Version: 13\r\n' +
        '\r\n' +
        MESSAGE_INVALID_VERSION,
    );
  });

  it('4.2.1 Node hands a request without Connection: upgrade to the request handler, not to ws', async () => {
    const raw = request('GET', { connection: 'close' });
    expect(await exchange(wsServer, raw)).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
  });
});

describe('RFC 6455 4.2.1 the fields a port-mode handshake reads', () => {
  const FIELDS = [
    'upgrade',
    'connection',
    'sec-websocket-key',
    'sec-websocket-version',
    'sec-websocket-protocol',
    'sec-websocket-extensions',
    'sec-websocket-origin',
    'origin',
    'content-length',
    'transfer-encoding',
  ] as const;
  /** Each name in a random ASCII case, as a client may send it. */
  const anyCase = (name: string): fc.Arbitrary<string> =>
    fc
      .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
      .map((upper) => [...name].map((char, i) => (upper[i] ? char.toUpperCase() : char)).join(''));
  const fieldName = fc.oneof(
    fc.constantFrom(...FIELDS, 'host', 'cookie', 'set-cookie', 'user-agent', 'x-other').chain(anyCase),
    fc.stringMatching(/^[a-z-]{1,12}$/),
  );
  const rawHeaders = fc
    .array(fc.tuple(fieldName, fc.stringMatching(/^[ -~]{0,12}$/)), { maxLength: 24 })
    .map((pairs) => pairs.flat());

  it('reads each field as req.headers does, repeats and all (headerObject, itself checked against http.Server)', () => {
    fc.assert(
      fc.property(rawHeaders, (raw) => {
        const fields = handshakeFields(raw) as Record<string, unknown>;
        const headers = headerObject(raw) as Record<string, unknown>;
        for (const name of FIELDS) expect(fields[name]).toBe(headers[name]);
      }),
      { numRuns: 2000 },
    );
  });

  it('joins a repeated list field with ", " and keeps the first Content-Length', () => {
    const fields = handshakeFields([
      'Upgrade', 'websocket', 'Connection', 'keep-alive', 'connection', 'Upgrade',
      'Content-Length', '0', 'content-length', '5', 'Sec-WebSocket-Protocol', 'a', 'SEC-WEBSOCKET-PROTOCOL', 'b',
    ]);
    expect(fields).toMatchObject({
      upgrade: 'websocket',
      connection: 'keep-alive, Upgrade',
      'content-length': '0',
      'sec-websocket-protocol': 'a, b',
      'sec-websocket-key': undefined,
      origin: undefined,
    });
  });
});
