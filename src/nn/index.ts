/** The nn layer: Module, layers, containers and initialisers. */
export { Module, parameter } from './module';
export type {
  CheckpointDType, ForwardHook, ForwardPreHook, RegisterBufferOptions, LoadStateDictOptions, LoadStateDictResult,
  StateDictInput, StateDictValue,
} from './module';
export { Linear, resetWeightAndBias } from './layers/linear';
export type { LinearOptions } from './layers/linear';
export { Conv2d } from './layers/conv';
export type { Conv2dOptions as Conv2dLayerOptions } from './layers/conv';
export { BatchNormBase, BatchNorm1d, BatchNorm2d } from './layers/batchnorm';
export type { BatchNormOptions as BatchNormLayerOptions } from './layers/batchnorm';
export { ReLU, Tanh, Sigmoid, LeakyReLU } from './layers/activation';
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d } from './layers/pooling';
export type { MaxPool2dOptions, AvgPool2dOptions } from './layers/pooling';
export { Identity, Flatten } from './layers/basic';
export { Dropout, setDropoutGenerator, getDropoutGenerator } from './layers/dropout';
export type { DropoutOptions } from './layers/dropout';
export { Sequential, ModuleList } from './layers/container';
export * as init from './init';
