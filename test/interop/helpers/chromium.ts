/**
 * Headless Chromium through playwright-core, using the Debian build at /usr/bin/chromium (no
 * browser download). The flags keep it from reaching the network on its own; QUIC is off so the
 * only traffic is the page and its WebSocket to 127.0.0.1.
 */
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
}

/**
 * Calls `window.interop[method](...args)` in the page. The call is sent as source text with JSON
 * arguments, so no test-side function (and nothing a transpiler added to it) is serialized.
 */
export function callPage<T>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  const list = args.map((arg) => JSON.stringify(arg)).join(', ');
  return page.evaluate(`window.interop.${method}(${list})`) as Promise<T>;
}
