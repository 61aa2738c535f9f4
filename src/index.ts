/**
 * simdws's public surface. The ws-compatible exports (WebSocket, WebSocketServer, …) join this file as
 * they land; what is here now is simdws's own: which kernel tier runs, and the kernel itself.
 */
export { kernel, kernelInfo, formatKernelInfo, selectKernel } from './kernels/select';
export type { KernelInfo, TierStatus } from './kernels/select';
export type { Kernel, TierName } from './kernels/contract';
