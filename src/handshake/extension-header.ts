/**
 * Sec-WebSocket-Extensions (RFC 6455 section 9.1) parsed and formatted as ws's `extension` module
 * does: the same result shape (null-prototype objects of arrays, in header order) and the same
 * SyntaxError messages, so code written against ws sees no difference.
 *
 *   extension-list  = 1#extension
 *   extension       = extension-token *( ";" extension-param )
 *   extension-param = token [ "=" (token | quoted-string) ]
 *
 * One pass over the header, one table lookup per character, no regex and no backtracking: a header of
 * tens of thousands of spaces or commas (the CVE-2021-32640 shape) costs one step per character.
 */
import { isTokenChar, isWhitespace } from './char-table';

/** A parameter's values in header order; `true` for a parameter without a value. */
export type ExtensionParams = Record<string, Array<string | true>>;
/** Each offered extension's parameter sets, in header order (an extension may be offered twice). */
export type ExtensionOffers = Record<string, ExtensionParams[]>;

export type ExtensionParamValue = string | number | true;
export type ExtensionParamsInput = Readonly<
  Record<string, ExtensionParamValue | readonly ExtensionParamValue[]>
>;
export type ExtensionsInput = Readonly<
  Record<string, ExtensionParamsInput | readonly ExtensionParamsInput[]>
>;

const SEMICOLON = 0x3b;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Where the parser is within one extension-list element. */
const IN_EXTENSION_NAME = 0;
const IN_PARAM_NAME = 1;
const IN_PARAM_VALUE = 2;

function append<T>(target: Record<string, T[]>, name: string, element: NoInfer<T>): void {
  const list = target[name];
  if (list === undefined) target[name] = [element];
  else list.push(element);
}

function unexpectedCharacter(index: number): SyntaxError {
  return new SyntaxError(`Unexpected character at index ${index}`);
}

/**
 * RFC 6455 section 9.1: a quoted parameter value must be a token once unescaped, so a backslash can
 * only escape a token character and removing every backslash unescapes it.
 */
function unescape(value: string): string {
  return value.split('\\').join('');
}

/** Parses a Sec-WebSocket-Extensions value; throws SyntaxError with ws's messages when malformed. */
export function parse(header: string): ExtensionOffers {
  const offers: ExtensionOffers = Object.create(null);
  let params: ExtensionParams = Object.create(null);
  let state = IN_EXTENSION_NAME;
  let extensionName = '';
  let paramName = '';
  // Bounds of the token being read; end is set by the whitespace or closing quote that ends it.
  let start = -1;
  let end = -1;
  // Where a parameter value begins: a quoted-string may open only there.
  let valueStart = -1;
  let inQuotes = false;
  let escaping = false;
  let mustUnescape = false;
  let code = -1;
  let i = 0;

  for (; i < header.length; i++) {
    code = header.charCodeAt(i);

    if (state === IN_EXTENSION_NAME) {
      if (end === -1 && isTokenChar(code)) {
        if (start === -1) start = i;
      } else if (i !== 0 && isWhitespace(code)) {
        if (end === -1 && start !== -1) end = i;
      } else if (code === SEMICOLON || code === COMMA) {
        if (start === -1) throw unexpectedCharacter(i);
        const name = header.slice(start, end === -1 ? i : end);
        if (code === COMMA) {
          append(offers, name, params);
          params = Object.create(null);
        } else {
          extensionName = name;
          state = IN_PARAM_NAME;
        }
        start = end = -1;
      } else {
        throw unexpectedCharacter(i);
      }
    } else if (state === IN_PARAM_NAME) {
      if (end === -1 && isTokenChar(code)) {
        if (start === -1) start = i;
      } else if (isWhitespace(code)) {
        if (end === -1 && start !== -1) end = i;
      } else if (code === SEMICOLON || code === COMMA) {
        if (start === -1) throw unexpectedCharacter(i);
        append(params, header.slice(start, end === -1 ? i : end), true);
        if (code === COMMA) {
          append(offers, extensionName, params);
          params = Object.create(null);
          state = IN_EXTENSION_NAME;
        }
        start = end = -1;
      } else if (code === EQUALS && start !== -1 && end === -1) {
        // No whitespace around '=': RFC 7230's BWS is not accepted here, as in ws.
        paramName = header.slice(start, i);
        valueStart = i + 1;
        state = IN_PARAM_VALUE;
        start = end = -1;
      } else {
        throw unexpectedCharacter(i);
      }
    } else if (escaping) {
      // RFC 7230 section 3.2.6 quoted-pair, restricted to token characters by RFC 6455 section 9.1.
      if (!isTokenChar(code)) throw unexpectedCharacter(i);
      if (start === -1) start = i;
      else mustUnescape = true;
      escaping = false;
    } else if (inQuotes) {
      if (isTokenChar(code)) {
        if (start === -1) start = i;
      } else if (code === QUOTE && start !== -1) {
        inQuotes = false;
        end = i;
      } else if (code === BACKSLASH) {
        escaping = true;
      } else {
        throw unexpectedCharacter(i);
      }
    } else if (code === QUOTE && i === valueStart) {
      inQuotes = true;
    } else if (end === -1 && isTokenChar(code)) {
      if (start === -1) start = i;
    } else if (start !== -1 && isWhitespace(code)) {
      if (end === -1) end = i;
    } else if (code === SEMICOLON || code === COMMA) {
      if (start === -1) throw unexpectedCharacter(i);
      const value = header.slice(start, end === -1 ? i : end);
      append(params, paramName, mustUnescape ? unescape(value) : value);
      mustUnescape = false;
      if (code === COMMA) {
        append(offers, extensionName, params);
        params = Object.create(null);
        state = IN_EXTENSION_NAME;
      } else {
        state = IN_PARAM_NAME;
      }
      start = end = -1;
    } else {
      throw unexpectedCharacter(i);
    }
  }

  if (start === -1 || inQuotes || isWhitespace(code)) {
    throw new SyntaxError('Unexpected end of input');
  }

  const last = header.slice(start, end === -1 ? i : end);
  if (state === IN_EXTENSION_NAME) {
    append(offers, last, params);
    return offers;
  }
  if (state === IN_PARAM_NAME) append(params, last, true);
  else append(params, paramName, mustUnescape ? unescape(last) : last);
  append(offers, extensionName, params);
  return offers;
}

function formatParams(name: string, params: ExtensionParamsInput): string {
  const parts = [name];
  for (const key of Object.keys(params)) {
    const values: readonly ExtensionParamValue[] = Array.isArray(params[key])
      ? params[key]
      : [params[key] as ExtensionParamValue];
    parts.push(values.map((value) => (value === true ? key : `${key}=${value}`)).join('; '));
  }
  return parts.join('; ');
}

/**
 * Builds a Sec-WebSocket-Extensions value: extensions and their parameter sets joined with ", ",
 * parameters with "; ", a `true` value as the bare parameter name. Values are written as given, as ws
 * does: the caller passes tokens.
 */
export function format(extensions: ExtensionsInput): string {
  return Object.keys(extensions)
    .map((name) => {
      const configurations = extensions[name];
      const list: readonly ExtensionParamsInput[] = Array.isArray(configurations)
        ? configurations
        : [configurations as ExtensionParamsInput];
      return list.map((params) => formatParams(name, params)).join(', ');
    })
    .join(', ');
}
