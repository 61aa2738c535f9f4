'use strict';
// The package's `install` script: builds the native kernel tier (native/, node-addon-api) with
// node-gyp. The native tier is optional, so this script never fails the install: whatever goes wrong,
// it prints one line, records why in build/native-status.json, and exits 0; simdws then uses the
// wasm tier. On success it prints one line and records { built: true, isa }.
//
// SIMDWS_SKIP_NATIVE=1 skips the build. Works when npm runs it (npm passes its config, such as
// nodedir, as npm_config_* variables) and by hand (`node scripts/build-native.js`).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const nativeDir = path.join(root, 'native');
const statusFile = path.join(root, 'build', 'native-status.json');
const addonFile = path.join(nativeDir, 'build', 'Release', 'simdws.node');

/** The lowest Node-API version the addon asks for (NAPI_VERSION in native/binding.gyp). */
const NAPI_VERSION = 8;
/** How much of node-gyp's output to keep when it fails: enough for the compiler's first error. */
const STDERR_TAIL_CHARS = 4000;
/** A build that hangs (a prompt, a stuck toolchain) must not hang `npm install` forever. */
const BUILD_TIMEOUT_MS = 10 * 60 * 1000;

function writeStatus(status) {
  try {
    fs.mkdirSync(path.dirname(statusFile), { recursive: true });
    fs.writeFileSync(statusFile, JSON.stringify(status, null, 2) + '\n');
  } catch (error) {
    console.log(`simdws: could not write ${statusFile} (${error.message})`);
  }
}

function notBuilt(reason, stderrTail = '') {
  writeStatus({ built: false, reason, stderrTail });
  console.log(`simdws: native addon not built (${reason}); the wasm tier will be used`);
}

/** node-gyp from our dependencies, else the copy npm bundles and names in npm_config_node_gyp. */
function findNodeGyp() {
  try {
    return require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  } catch {
    const bundled = process.env.npm_config_node_gyp;
    return bundled && fs.existsSync(bundled) ? bundled : null;
  }
}

/**
 * node-gyp downloads headers unless told where they are; with no internet that fails. npm passes
 * its nodedir setting through the environment; by hand, use the headers installed next to this
 * node binary (e.g. /usr/bin/node with /usr/include/node) when they exist.
 */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

/** A short cause for the one-line message, from what node-gyp and the compiler printed. */
function diagnose(output, status) {
  if (/find any Python|python.*not found/i.test(output)) return 'no Python found for node-gyp';
  if (/(g\+\+|c\+\+|clang\+\+|cc|make): (command )?not found|No such file or directory.*(g\+\+|make)|not find any Visual Studio/i.test(output)) {
    return 'no C++ compiler or make found';
  }
  if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT/.test(output)) {
    return 'node-gyp could not download the Node headers (offline?)';
  }
  return `node-gyp rebuild failed with exit code ${status}`;
}

/** The end of the output without node-gyp's "gyp info" progress lines. */
function tail(text) {
  const kept = text
    .split('\n')
    .filter((line) => !line.startsWith('gyp info'))
    .join('\n');
  return kept.length > STDERR_TAIL_CHARS ? kept.slice(-STDERR_TAIL_CHARS) : kept;
}

function main() {
  if (process.env.SIMDWS_SKIP_NATIVE === '1') return notBuilt('SIMDWS_SKIP_NATIVE=1 is set');
  const napi = Number(process.versions.napi);
  if (!(napi >= NAPI_VERSION)) {
    return notBuilt(`this Node has Node-API ${process.versions.napi}; the addon needs ${NAPI_VERSION}`);
  }
  const nodeGyp = findNodeGyp();
  if (nodeGyp === null) return notBuilt('node-gyp is not installed');

  const result = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--release', ...nodedirArgs()], {
    cwd: nativeDir,
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error) return notBuilt(`node-gyp did not run: ${result.error.message}`, tail(output));
  if (result.status !== 0) return notBuilt(diagnose(output, result.status), tail(result.stderr || output));

  let isa;
  try {
    isa = require(addonFile).isa;
  } catch (error) {
    return notBuilt(`the addon built but did not load: ${error.message}`);
  }
  writeStatus({ built: true, isa });
  console.log(`simdws: native addon built (${isa})`);
}

try {
  main();
} catch (error) {
  // Never fail the install: even a bug here only costs the native tier.
  notBuilt(`unexpected error: ${error && error.message}`);
}
