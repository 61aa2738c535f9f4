// The first line of `npm test`: which kernel tiers loaded, and why any did not.
import { formatKernelInfo, kernelInfo } from '../src/kernels/select';

console.log(`Node ${process.version}, ${formatKernelInfo(kernelInfo)}`);
