/**
 * sparsetrain: tensors with autograd on native CPU kernels, nn layers,
 * optimizers and the model zoo, for training neural networks with sparsity.
 */
export { Tensor } from './tensor/tensor';
export type { DType } from './tensor/dtype';
export { Generator, manualSeed, defaultGenerator } from './tensor/random';
export * from './ops';
export { noGrad, enableGrad, isGradEnabled } from './autograd/grad-mode';
export { backward, grad } from './autograd/engine';
export { hvp } from './autograd/functional';
export { SparsetrainError } from './errors';
export { backend, setBackend, getThreads, setThreads, nativeAvailable } from './backend';
export * from './nn';
export { buildModel, modelNames, modelInfo, inputShape } from './models';
export type { BuildOptions, ModelInfo } from './models';
export * as models from './models';
export * from './data';
export * from './optim';
export * as sparse from './sparse';
export * as units from './sparse/units';
export {
  buildUnitGraph, scoreUnits, selectUnits, pruneUnits, shrinkModel, loadShrunkStateDict, removeSparseUnits, UnitPruningPlugin, unitPruningPlugin,
} from './sparse/units';
export * from './train';
export * as experiments from './experiments';
export * as diagnose from './diagnose';
