/** Types for control.js, which the JavaScript servers require and simdws-server.ts imports. */
export function portFromArgs(): number;
export function announceReady(port: number, description: string): void;
export function deflateSetting<T extends string>(extra?: readonly T[]): 'on' | T | null;
export function allowedOriginsSetting(): string[] | null;
