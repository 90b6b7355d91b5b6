/** Every op, as free functions (the Tensor methods call these). */
export * from './creation';
export * from './elementwise';
export * from './reduce';
export * from './shape';
export * from './linalg';
export * from './activation';
export * from './conv';
export * from './pool';
export * from './norm';
export * from './loss';
export * from './select';
