/**
 * ws 8 from node_modules as the oracle for the modules its package "exports" hide (lib/extension.js,
 * subprotocol.js, permessage-deflate.js …): they are loaded by path from the resolved package folder.
 */
import { createRequire } from 'module';
import { dirname, join } from 'path';

const requireHere = createRequire(__filename);
const wsLib = join(dirname(requireHere.resolve('ws')), 'lib');

/** ws's lib/`file`, typed as the shape the caller relies on (ws ships no types for its internals). */
export function requireWsLib<T>(file: string): T {
  return requireHere(join(wsLib, file)) as T;
}
