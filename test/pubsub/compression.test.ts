/**
 * Publish with permessage-deflate (RFC 7692): one deflate per deflate profile, shared by every
 * subscriber that negotiated server_no_context_takeover (section 7.1.1.1); a subscriber without the
 * extension gets the uncompressed frame.
 */
import { afterEach, expect, it } from 'vitest';
import { Harness, logWrites, socketOf, startServer } from './peers';

const RSV1 = 0x40;
let harness: Harness | null = null;

afterEach(async () => {
  await harness?.close();
  harness = null;
});

it('deflates once for N compatible subscribers and sends the same compressed Buffer to each', async () => {
  harness = await startServer({ perMessageDeflate: { serverNoContextTakeover: true, threshold: 0 } });
  const deflating = [
    await harness.connect({ perMessageDeflate: true }),
    await harness.connect({ perMessageDeflate: true }),
    await harness.connect({ perMessageDeflate: true }),
  ];
  const plain = await harness.connect({ perMessageDeflate: false });
  const pairs = [...deflating, plain];
  const logs = pairs.map((pair) => {
    pair.server.subscribe('t');
    return logWrites(socketOf(pair.server));
  });
  expect(deflating.map((pair) => pair.server.extensions)).toEqual(Array(3).fill('permessage-deflate'));
  expect(plain.server.extensions).toBe('');

  const text = 'price update '.repeat(200);
  harness.wss.publish('t', text);
  await Promise.all(pairs.map((pair) => pair.until(1)));

  for (const pair of pairs) expect(pair.received).toEqual([text]);
  const compressed = logs[0].chunks[0];
  expect(compressed[0] & RSV1).toBe(RSV1);
  // Much smaller than the text: it was deflated, once (one Buffer object can only come from one deflate).
  expect(compressed.length).toBeLessThan(text.length / 4);
  expect(logs[1].chunks[0]).toBe(compressed);
  expect(logs[2].chunks[0]).toBe(compressed);
  const uncompressed = logs[3].chunks[0];
  expect(uncompressed[0] & RSV1).toBe(0);
  expect(uncompressed.length).toBeGreaterThan(text.length);
});

it('compress: false sends every subscriber the plain frame', async () => {
  harness = await startServer({ perMessageDeflate: { serverNoContextTakeover: true, threshold: 0 } });
  const a = await harness.connect({ perMessageDeflate: true });
  const log = logWrites(socketOf(a.server));
  a.server.subscribe('t');
  harness.wss.publish('t', 'x'.repeat(2000), { compress: false });
  await a.until(1);
  expect(log.chunks[0][0] & RSV1).toBe(0);
  expect(a.received).toEqual(['x'.repeat(2000)]);
});

it('a subscriber whose deflate keeps context gets the plain frame (RFC 7692 section 6: RSV1 is per message)', async () => {
  harness = await startServer({ perMessageDeflate: { threshold: 0 } });
  const a = await harness.connect({ perMessageDeflate: true });
  const log = logWrites(socketOf(a.server));
  a.server.subscribe('t');
  const text = 'published '.repeat(100);
  harness.wss.publish('t', text);
  await a.until(1);
  expect(a.received).toEqual([text]);
  expect(log.chunks).toHaveLength(1);
  expect(log.chunks[0][0] & RSV1).toBe(0);
  expect(log.chunks[0].length).toBeGreaterThan(text.length);
});

it('a publish waits behind the subscriber\'s own sends that are being deflated', async () => {
  harness = await startServer({ perMessageDeflate: { threshold: 0 } });
  const a = await harness.connect({ perMessageDeflate: true });
  a.server.subscribe('t');
  a.server.send('own 1 '.repeat(50));
  harness.wss.publish('t', 'published');
  a.server.send('own 2');
  harness.wss.publish('t', 'published again');
  await a.until(4);
  expect(a.received).toEqual(['own 1 '.repeat(50), 'published', 'own 2', 'published again']);
});
