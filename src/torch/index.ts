/**
 * Lion's tensor layer over libtorch: the only way the rest of Lion computes.
 * @module
 */
export { Tensor, linear, embedding, dropout, crossEntropy, klDiv, mseLoss, type Operand, type Device } from './tensor.ts';
export { tidy, noGrad, enableGrad, autocast, currentAutocast, isGradEnabled, liveTensors, type AutocastState } from './scope.ts';
export { manualSeed, getRngState, setRngState } from './random.ts';
export { AdamW, clipGradNorm, type AdamWOptions, type ParamGroup, type AdamWParamState } from './optim.ts';
export { Module, ModuleList, Linear, Embedding, RMSNorm, engineInfo, uniformInit, type LoadReport, type InitOptions } from './nn.ts';
export { DeviceUnavailableError, parseDevice, requireDevice, deviceType } from './device.ts';
export { DTYPES, BYTES_PER_ELEMENT, isFloat, type DType, type FloatDType, type TypedArrayOf, type AnyTypedArray } from './dtype.ts';
export { native, LibtorchLoadError, addonPath } from './native.ts';
export { setNumThreads, getNumThreads, devices } from './threads.ts';
