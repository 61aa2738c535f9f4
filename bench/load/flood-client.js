'use strict';
/**
 * One autocannon flood against a benchmark server, in its own process so the orchestrator can pin it
 * to a core. Usage: node flood-client.js '<json>' with { url, connections, durationSeconds, headers }.
 * Prints one JSON line: autocannon's result, the request exactly as autocannon wrote it on the wire,
 * the errors by code (autocannon itself only counts them), and this process's CPU over the flood.
 */
const autocannon = require('autocannon');

const config = JSON.parse(process.argv[2]);
const errorCodes = {};
let request = null;

const cpuBefore = process.cpuUsage();
const wallBefore = process.hrtime.bigint();
const tracker = autocannon(
  {
    url: config.url,
    connections: config.connections,
    duration: config.durationSeconds,
    method: 'GET',
    headers: config.headers,
    setupClient(client) {
      if (request === null) request = client.getRequestBuffer().toString('latin1');
    },
  },
  (error, result) => {
    if (error) throw error;
    const cpu = process.cpuUsage(cpuBefore);
    const wallMicros = Number(process.hrtime.bigint() - wallBefore) / 1000;
    process.stdout.write(
      `${JSON.stringify({ result, request, errorCodes, cpu: (cpu.user + cpu.system) / wallMicros })}\n`,
      () => process.exit(0),
    );
  },
);
tracker.on('reqError', (error) => {
  const code = error.code ?? error.message;
  errorCodes[code] = (errorCodes[code] ?? 0) + 1;
});
