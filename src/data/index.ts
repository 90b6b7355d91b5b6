/** The data layer: datasets, normalisation, augmentation, validation split and the loader. */
export { ImageDataset } from './dataset';
export type { Normalization, Split, ImageDatasetInit } from './dataset';
export {
  parseIdx, parseIdxImages, parseIdxLabels, readIdxImages, readIdxLabels, readIdxPair, encodeIdx, writeIdx,
  IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC,
} from './idx';
export type { IdxArray, IdxImages } from './idx';
export { normalizationLut, unitLut, gatherNormalize } from './normalize';
export { RandomCropFlip } from './augment';
export type { Augmentation } from './augment';
export { validationSplit } from './split';
export type { ValidationSplit, SplitOptions } from './split';
export { DataLoader, evalBatches } from './loader';
export type { Batch, DataLoaderOptions, LoaderState } from './loader';
export { deriveSeed, derivedGenerator, seedFromGenerator } from './seed';
export { listDatasets, datasetInfo, loadDataset, DATASET_NAMES } from './datasets';
export type { DatasetInfo, LoadOptions } from './datasets';
export {
  loadMnist, loadFashionMnist, mnistDataDir, MNIST_NORMALIZATION, FASHION_MNIST_NORMALIZATION, FASHION_MNIST_DEFAULT_DIR,
} from './mnist';
export { loadCifar, parseCifarFile, CIFAR10_NORMALIZATION, CIFAR100_NORMALIZATION, CIFAR10_CLASSES } from './cifar';
export type { CifarVariant } from './cifar';
export { loadSynthetic, syntheticPrototypes, SYNTHETIC_NORMALIZATION } from './synthetic';
export type { SyntheticOptions } from './synthetic';
