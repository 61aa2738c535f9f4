'use strict';
// Compiles assembly/ twice with the AssemblyScript compiler from node_modules, as asconfig.json
// describes: build/wasm/kernel-simd.wasm (--enable simd) and build/wasm/kernel-scalar.wasm (for
// engines without WebAssembly SIMD). One source serves both: ASC_FEATURE_SIMD is a compile-time
// constant, so the scalar build contains no v128 code. Exits non-zero if either build fails.
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const configPath = path.join(root, 'asconfig.json');

async function main() {
  const { default: asc } = await import('assemblyscript/asc');
  const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
  for (const [target, { outFile }] of Object.entries(config.targets)) {
    const output = path.join(root, outFile);
    fs.rmSync(output, { force: true });
    fs.mkdirSync(path.dirname(output), { recursive: true });
    const { error } = await asc.main(['--config', configPath, '--target', target], {
      stdout: process.stdout,
      stderr: process.stderr,
    });
    if (error) throw new Error(`the ${target} build failed: ${error.message}`);
    // The loader (src/kernels/wasm.ts) looks exactly here: fail now rather than at first use.
    if (!fs.existsSync(output)) throw new Error(`the ${target} build wrote no ${outFile}`);
    console.log(`build-wasm: ${outFile} (${fs.statSync(output).size} bytes)`);
  }
}

main().catch((error) => {
  console.error(`build-wasm: ${error.message}`);
  process.exitCode = 1;
});
