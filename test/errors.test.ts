/**
 * Every op fed wrong shapes, wrong dtypes and empty tensors: misuse throws a
 * SparsetrainError (with code) whose message names the op and the shapes;
 * empty tensors work as in torch or throw clearly, never crash. Then the
 * kernels themselves (backend().xxx, native and reference) fed bad buffers.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as st from '../src';
import { Tensor, backend, SparsetrainError } from '../src';
import { KERNEL_NAMES } from '../src/backend';
import { rnd, throwsST, withBackend, haveNative, arr } from './ops-helpers';

const f = (shape: number[], seed = 1) => rnd(shape, seed);
const i32 = (shape: number[]) => st.zeros(shape, { dtype: 'int32' });
const bool = (shape: number[]) => st.zeros(shape, { dtype: 'bool' });
const labels = (v: number[]) => st.tensor(v, { dtype: 'int32' });

type Case = [label: string, fn: () => unknown, code: string, ...patterns: string[]];

const UNARY_OPS: [string, (x: Tensor) => unknown][] = [
  ['neg', st.neg], ['exp', st.exp], ['log', st.log], ['sqrt', st.sqrt], ['rsqrt', st.rsqrt], ['abs', st.abs],
  ['sign', st.sign], ['square', st.square], ['reciprocal', st.reciprocal], ['log1p', st.log1p], ['expm1', st.expm1],
  ['floor', st.floor], ['ceil', st.ceil], ['round', st.round], ['step', st.step], ['relu', st.relu],
  ['sigmoid', st.sigmoid], ['tanh', st.tanh], ['leakyRelu', (x) => st.leakyRelu(x)], ['pow', (x) => st.pow(x, 2)],
  ['clamp', (x) => st.clamp(x, 0, 1)], ['softmax', (x) => st.softmax(x, 1)], ['logSoftmax', (x) => st.logSoftmax(x, 1)],
  ['dropout', (x) => st.dropout(x, 0.5)], ['sum', (x) => st.sum(x)], ['mean', (x) => st.mean(x)], ['max', (x) => st.max(x)],
  ['min', (x) => st.min(x)], ['var', (x) => st.variance(x)], ['var', (x) => st.std(x)], ['norm', (x) => st.norm(x)],
  ['sumAll', (x) => st.sumAll(x)], ['kthvalue', (x) => st.kthvalue(x, 1)], ['quantile', (x) => st.quantile(x, 0.5)],
  ['topk', (x) => st.topk(x, 1)], ['sort', (x) => st.sort(x)],
];

const BINARY_OPS: [string, (a: Tensor, b: Tensor) => Tensor][] = [
  ['add', st.add], ['sub', st.sub], ['mul', st.mul], ['div', st.div], ['pow', st.pow], ['maximum', st.maximum], ['minimum', st.minimum],
];

test('every float op rejects int32 and bool tensors with ERR_DTYPE naming the op and the shape', () => {
  for (const [name, fn] of UNARY_OPS) {
    throwsST(() => fn(i32([2, 3])), 'ERR_DTYPE', `${name}:`, 'int32', '[2,3]');
    throwsST(() => fn(bool([4, 2])), 'ERR_DTYPE', `${name}:`, 'bool', '[4,2]');
  }
  for (const [name, fn] of BINARY_OPS) {
    throwsST(() => fn(i32([2, 3]), f([2, 3])), 'ERR_DTYPE', `${name}:`, 'int32', '[2,3]');
    throwsST(() => fn(f([2, 3]), bool([3])), 'ERR_DTYPE', `${name}:`, 'bool', '[3]');
  }
});

test('every binary op rejects shapes that do not broadcast, naming the op and both shapes', () => {
  for (const [name, fn] of BINARY_OPS) {
    throwsST(() => fn(f([2, 3]), f([4])), 'ERR_SHAPE', `${name}: shapes [2,3] and [4] cannot be broadcast`);
    throwsST(() => fn(f([5, 1, 3]), f([2, 4, 1])), 'ERR_SHAPE', `${name}:`, '[5,1,3]', '[2,4,1]');
  }
  for (const [name, fn] of [['eq', st.eq], ['ne', st.ne], ['lt', st.lt], ['le', st.le], ['gt', st.gt], ['ge', st.ge]] as const) {
    throwsST(() => fn(f([2, 3]), f([2])), 'ERR_SHAPE', `${name}:`, '[2,3]', '[2]');
  }
  throwsST(() => st.where(bool([3]), f([2, 2]), f([2, 2])), 'ERR_SHAPE', 'where:', '[3]', '[2,2]');
  throwsST(() => st.where(bool([2, 2]), i32([2, 2]), f([2, 2])), 'ERR_DTYPE', 'where:', 'int32');
  throwsST(() => st.logicalAnd(f([3]), f([2])), 'ERR_SHAPE', '[3]', '[2]');
});

const MISUSE: Case[] = [
  // linear algebra
  ['matmul inner', () => st.matmul(f([64, 784]), f([300, 785])), 'ERR_SHAPE', 'matmul: [64,784] @ [300,785]: inner dimensions differ (784 vs 300)'],
  ['matmul 1-d', () => st.matmul(f([3]), f([4])), 'ERR_SHAPE', 'matmul: [3] @ [4]: inner dimensions differ'],
  ['matmul batch', () => st.matmul(f([2, 3, 4]), f([3, 4, 5])), 'ERR_SHAPE', 'matmul: [2,3,4] @ [3,4,5]'],
  ['matmul rank', () => st.matmul(f([2, 3, 4]), f([4])), 'ERR_SHAPE', 'matmul: [2,3,4] @ [4]'],
  ['matmul 0-d', () => st.matmul(st.tensor(2), f([4])), 'ERR_SHAPE', 'matmul: [] @ [4]'],
  ['matmul int', () => st.matmul(i32([2, 2]), f([2, 2])), 'ERR_DTYPE', 'matmul', 'int32', '[2,2]'],
  ['mm transposed', () => st.mm(f([3, 4]), f([3, 5]), false, true), 'ERR_SHAPE', 'matmul: [3,4] @ [3,5]^T: inner dimensions differ (4 vs 5)'],
  ['mm 3-d', () => st.mm(f([1, 3, 4]), f([4, 5])), 'ERR_SHAPE', 'matmul: [1,3,4] @ [4,5]'],
  ['linear inner', () => st.linear(f([64, 784]), f([300, 785])), 'ERR_SHAPE', 'linear: input [64,784] @ weight [300,785]^T: inner dimensions differ (784 vs 785)'],
  ['linear weight rank', () => st.linear(f([2, 3]), f([3])), 'ERR_SHAPE', 'linear: weight must be 2-d', '[3]'],
  ['linear bias', () => st.linear(f([2, 3]), f([4, 3]), f([3])), 'ERR_SHAPE', 'linear: bias must be [4], got [3]'],
  ['linear bias dtype', () => st.linear(f([2, 3]), f([4, 3]), i32([4])), 'ERR_DTYPE', 'linear', 'int32', '[4]'],
  ['linear 0-d', () => st.linear(st.tensor(1), f([4, 3])), 'ERR_SHAPE', 'linear', '[]', '[4,3]'],
  // convolution and pooling
  ['conv2d rank', () => st.conv2d(f([3, 5, 5]), f([2, 3, 3, 3])), 'ERR_SHAPE', 'conv2d: input must be 4-d', '[3,5,5]'],
  ['conv2d weight rank', () => st.conv2d(f([1, 3, 5, 5]), f([2, 3, 3])), 'ERR_SHAPE', 'conv2d: weight must be 4-d', '[2,3,3]'],
  ['conv2d channels', () => st.conv2d(f([1, 4, 5, 5]), f([2, 3, 3, 3])), 'ERR_SHAPE', 'conv2d: input [1,4,5,5] has 4 channels but weight [2,3,3,3] expects 3'],
  ['conv2d groups', () => st.conv2d(f([1, 4, 5, 5]), f([3, 2, 3, 3]), null, { groups: 2 }), 'ERR_SHAPE', 'conv2d', 'groups 2'],
  ['conv2d too small', () => st.conv2d(f([1, 3, 2, 2]), f([2, 3, 3, 3])), 'ERR_SHAPE', 'conv2d: kernel 3x3', 'input 2x2'],
  ['conv2d bias', () => st.conv2d(f([1, 3, 5, 5]), f([2, 3, 3, 3]), f([3])), 'ERR_SHAPE', 'conv2d: bias must be [2], got [3]'],
  ['conv2d bias dtype', () => st.conv2d(f([1, 3, 5, 5]), f([2, 3, 3, 3]), i32([2])), 'ERR_DTYPE', 'conv2d', 'int32'],
  ['conv2d int', () => st.conv2d(i32([1, 3, 5, 5]), f([2, 3, 3, 3])), 'ERR_DTYPE', 'conv2d', 'int32', '[1,3,5,5]'],
  ['conv2d stride', () => st.conv2d(f([1, 3, 5, 5]), f([2, 3, 3, 3]), null, { stride: 0 }), 'ERR_ARGUMENT', 'conv2d: stride must be an integer >= 1, got 0'],
  ['conv2d padding', () => st.conv2d(f([1, 3, 5, 5]), f([2, 3, 3, 3]), null, { padding: -1 }), 'ERR_ARGUMENT', 'conv2d: padding'],
  ['maxPool2d rank', () => st.maxPool2d(f([1, 4, 4]), 2), 'ERR_SHAPE', 'maxPool2d: input must be 4-d', '[1,4,4]'],
  ['maxPool2d int', () => st.maxPool2d(i32([1, 1, 4, 4]), 2), 'ERR_DTYPE', 'maxPool2d', 'int32', '[1,1,4,4]'],
  ['maxPool2d too small', () => st.maxPool2d(f([1, 1, 2, 2]), 3), 'ERR_SHAPE', 'maxPool2d: kernel 3', 'input size 2'],
  ['maxPool2d kernel', () => st.maxPool2d(f([1, 1, 4, 4]), 0), 'ERR_ARGUMENT', 'maxPool2d: kernel size'],
  ['maxPool2d padding', () => st.maxPool2d(f([1, 1, 4, 4]), 2, { padding: 2 }), 'ERR_ARGUMENT', 'maxPool2d: padding 2x2', '2x2'],
  ['avgPool2d rank', () => st.avgPool2d(f([4, 4]), 2), 'ERR_SHAPE', 'avgPool2d: input must be 4-d', '[4,4]'],
  ['avgPool2d int', () => st.avgPool2d(i32([1, 1, 4, 4]), 2), 'ERR_DTYPE', 'avgPool2d', 'int32'],
  ['avgPool2d stride', () => st.avgPool2d(f([1, 1, 4, 4]), 2, { stride: 0 }), 'ERR_ARGUMENT', 'avgPool2d: stride'],
  ['adaptiveAvgPool2d rank', () => st.adaptiveAvgPool2d(f([2, 5, 5]), 1), 'ERR_SHAPE', 'adaptiveAvgPool2d', '[2,5,5]'],
  ['adaptiveAvgPool2d int', () => st.adaptiveAvgPool2d(i32([1, 2, 5, 5]), 1), 'ERR_DTYPE', 'adaptiveAvgPool2d', 'int32'],
  ['adaptiveAvgPool2d size', () => st.adaptiveAvgPool2d(f([1, 2, 5, 5]), [2, 0]), 'ERR_ARGUMENT', 'adaptiveAvgPool2d: output size'],
  // normalisation
  ['batchNorm rank', () => st.batchNorm(f([4])), 'ERR_SHAPE', 'batchNorm: input must be [N, C, *], got [4]'],
  ['batchNorm int', () => st.batchNorm(i32([4, 3])), 'ERR_DTYPE', 'batchNorm', 'int32', '[4,3]'],
  ['batchNorm weight', () => st.batchNorm(f([4, 3]), { weight: f([4]) }), 'ERR_SHAPE', 'batchNorm: weight must be [3] for input [4,3], got [4]'],
  ['batchNorm bias', () => st.batchNorm(f([4, 3, 2]), { bias: f([3, 1]) }), 'ERR_SHAPE', 'batchNorm: bias must be [3]', '[3,1]'],
  ['batchNorm running', () => st.batchNorm(f([4, 3]), { runningMean: f([2]), runningVar: f([3]) }), 'ERR_SHAPE', 'batchNorm: runningMean must be [3]', '[2]'],
  ['batchNorm weight dtype', () => st.batchNorm(f([4, 3]), { weight: i32([3]) }), 'ERR_DTYPE', 'batchNorm: weight must be float32', 'int32'],
  ['batchNorm one value', () => st.batchNorm(f([1, 3]), { training: true }), 'ERR_SHAPE', 'batchNorm: expected more than 1 value per channel', '[1,3]'],
  ['batchNorm eval stats', () => st.batchNorm(f([4, 3]), { training: false }), 'ERR_ARGUMENT', 'batchNorm: evaluation mode needs runningMean and runningVar'],
  // losses
  ['crossEntropy rank', () => st.crossEntropy(f([2, 3, 4]), labels([0, 1])), 'ERR_SHAPE', 'crossEntropy: input must be [N, C], got [2,3,4]'],
  ['crossEntropy labels dtype', () => st.crossEntropy(f([2, 3]), f([2])), 'ERR_DTYPE', 'crossEntropy: labels must be int32, got float32'],
  ['crossEntropy labels shape', () => st.crossEntropy(f([2, 3]), labels([0, 1, 2])), 'ERR_SHAPE', 'crossEntropy: labels must be [2] for input [2,3], got [3]'],
  ['crossEntropy label range', () => st.crossEntropy(f([2, 3]), labels([0, 3])), 'ERR_ARGUMENT', 'crossEntropy: label 3 at row 1 is out of range for 3 classes'],
  ['crossEntropy negative label', () => st.crossEntropy(f([2, 3]), labels([-1, 0])), 'ERR_ARGUMENT', 'crossEntropy: label -1 at row 0'],
  ['crossEntropy logits dtype', () => st.crossEntropy(i32([2, 3]), labels([0, 1])), 'ERR_DTYPE', 'crossEntropy', 'int32', '[2,3]'],
  ['crossEntropy reduction', () => st.crossEntropy(f([2, 3]), labels([0, 1]), { reduction: 'avg' as 'mean' }), 'ERR_ARGUMENT', "crossEntropy: reduction must be 'mean', 'sum' or 'none'", '"avg"'],
  ['nllLoss labels', () => st.nllLoss(f([2, 3]), labels([0])), 'ERR_SHAPE', 'nllLoss: labels must be [2] for input [2,3], got [1]'],
  ['nllLoss range', () => st.nllLoss(f([2, 3]), labels([0, 5])), 'ERR_ARGUMENT', 'nllLoss: label 5'],
  ['nllLoss reduction', () => st.nllLoss(f([2, 3]), labels([0, 1]), { reduction: 'max' as 'sum' }), 'ERR_ARGUMENT', 'nllLoss: reduction'],
  ['mseLoss size', () => st.mseLoss(f([3, 4]), f([5])), 'ERR_SHAPE', 'mseLoss: input [3,4] and target [5] differ in size'],
  ['mseLoss dtype', () => st.mseLoss(f([3]), i32([3])), 'ERR_DTYPE', 'mseLoss', 'int32', '[3]'],
  ['mseLoss reduction', () => st.mseLoss(f([3]), f([3]), 'avg' as 'mean'), 'ERR_ARGUMENT', 'mseLoss: reduction'],
  // shape ops
  ['reshape', () => st.reshape(f([2, 3]), [4, 2]), 'ERR_SHAPE', 'reshape: cannot reshape [2,3] (6 elements) into [4,2] (8 elements)'],
  ['reshape infer', () => st.reshape(f([2, 3]), [4, -1]), 'ERR_SHAPE', 'reshape: cannot reshape [2,3]', '[4,-1]'],
  ['reshape two -1', () => st.reshape(f([2, 3]), [-1, -1]), 'ERR_SHAPE', 'reshape: only one dimension can be -1'],
  ['reshape negative', () => st.reshape(f([2, 3]), [-2, -3]), 'ERR_SHAPE', 'reshape: invalid target shape [-2,-3]'],
  ['permute count', () => st.permute(f([2, 3]), [0]), 'ERR_ARGUMENT', 'permute: got 1 dims', '[2,3]'],
  ['permute repeat', () => st.permute(f([2, 3]), [1, 1]), 'ERR_ARGUMENT', 'permute: repeated dimension'],
  ['transpose range', () => st.transpose(f([2, 3]), 0, 2), 'ERR_ARGUMENT', 'transpose: dimension 2 is out of range for a tensor of 2 dimensions'],
  ['expand', () => st.expand(f([3, 2]), [3, 4]), 'ERR_SHAPE', 'expand: cannot expand [3,2] to [3,4]'],
  ['expand rank', () => st.expand(f([3, 2]), [6]), 'ERR_SHAPE', 'expand: target [6] has fewer dimensions than [3,2]'],
  ['slice dim', () => st.slice(f([2, 3]), 2), 'ERR_ARGUMENT', 'slice: dimension 2 is out of range'],
  ['slice step', () => st.slice(f([2, 3]), 1, 0, 3, -1), 'ERR_ARGUMENT', 'slice: step must be a positive integer, got -1'],
  ['slice 0-d', () => st.slice(st.tensor(1), 0), 'ERR_SHAPE', 'slice', '[]'],
  ['select index', () => st.select(f([2, 3]), 1, 3), 'ERR_ARGUMENT', 'select: index 3 is out of range for dimension 1 of size 3'],
  ['select 0-d', () => st.select(st.tensor(1), 0, 0), 'ERR_SHAPE', 'select', '[]'],
  ['cat shapes', () => st.cat([f([2, 3]), f([2, 4])], 0), 'ERR_SHAPE', 'cat: tensor 1 has shape [2,4], incompatible with [2,3] along dimension 0'],
  ['cat rank', () => st.cat([f([2, 3]), f([3])], 0), 'ERR_SHAPE', 'cat: tensor 1 has shape [3]'],
  ['cat dtype', () => st.cat([f([2]), i32([2])]), 'ERR_DTYPE', 'cat: tensor 1 has dtype int32, expected float32'],
  ['cat 0-d', () => st.cat([st.tensor(1), st.tensor(2)]), 'ERR_SHAPE', 'cat: tensor 0 is 0-d'],
  ['cat empty list', () => st.cat([]), 'ERR_ARGUMENT', 'cat: expected a non-empty list'],
  ['stack shapes', () => st.stack([f([2]), f([3])]), 'ERR_SHAPE', 'cat', '[1,3]', '[1,2]'],
  ['stack empty list', () => st.stack([]), 'ERR_ARGUMENT', 'stack: expected a non-empty list'],
  ['split size', () => st.split(f([4]), 0), 'ERR_ARGUMENT', 'split: size must be a positive integer, got 0'],
  ['chunk count', () => st.chunk(f([4]), 0), 'ERR_ARGUMENT', 'chunk: chunks must be a positive integer, got 0'],
  ['pad odd', () => st.pad(f([2, 3]), [1, 2, 3]), 'ERR_ARGUMENT', 'pad: expected an even number of pads', '[2,3]'],
  ['pad too many', () => st.pad(f([3]), [1, 1, 1, 1]), 'ERR_ARGUMENT', 'pad:', '[3]'],
  ['pad negative', () => st.pad(f([3]), [-1, 1]), 'ERR_ARGUMENT', 'pad: pads must be non-negative integers'],
  ['indexSelect dtype', () => st.indexSelect(f([3, 2]), f([2])), 'ERR_DTYPE', 'indexSelect: index must be a 1-d int32 tensor, got float32 of shape [2]'],
  ['indexSelect rank', () => st.indexSelect(f([3, 2]), i32([2, 1])), 'ERR_DTYPE', 'indexSelect', '[2,1]'],
  ['indexSelect 0-d', () => st.indexSelect(st.tensor(1), i32([1])), 'ERR_SHAPE', 'indexSelect: x must have at least one dimension'],
  ['flatten dims', () => st.flatten(f([2, 3, 4]), 2, 1), 'ERR_ARGUMENT', 'flatten: startDim 2 comes after endDim 1'],
  ['unsqueeze dim', () => st.unsqueeze(f([2, 3]), 3), 'ERR_ARGUMENT', 'unsqueeze: dimension 3 is out of range'],
  ['squeeze dim', () => st.squeeze(f([2, 3]), -3), 'ERR_ARGUMENT', 'squeeze: dimension -3'],
  // reductions and selection
  ['sum dim', () => st.sum(f([2, 3]), 2), 'ERR_ARGUMENT', 'sum: dimension 2 is out of range for a tensor of 2 dimensions'],
  ['mean dims', () => st.mean(f([2, 3]), [0, -3]), 'ERR_ARGUMENT', 'mean: dimension -3'],
  ['max dim', () => st.max(f([2, 3]), 5), 'ERR_ARGUMENT', 'max: dimension 5'],
  ['argmax dim', () => st.argmax(f([2, 3]), 2), 'ERR_ARGUMENT', 'argmax: dimension 2'],
  ['norm p', () => st.norm(f([3]), 3 as 2), 'ERR_ARGUMENT', 'norm: p must be 1 or 2, got 3'],
  ['kthvalue k', () => st.kthvalue(f([5]), 6), 'ERR_ARGUMENT', 'kthvalue: k must be an integer in 1..5, got 6'],
  ['kthvalue NaN', () => st.kthvalue(st.tensor([1, NaN, 2]), 1), 'ERR_ARGUMENT', 'kthvalue: input of shape [3] has a NaN at flat index 1'],
  ['quantile q', () => st.quantile(f([5]), -0.1), 'ERR_ARGUMENT', 'quantile: q must be in [0, 1], got -0.1'],
  ['quantile NaN', () => st.quantile(st.tensor([NaN]), 0.5), 'ERR_ARGUMENT', 'quantile', 'NaN'],
  ['topk k', () => st.topk(f([2, 5]), 6), 'ERR_ARGUMENT', 'topk: k must be an integer in 0..5, got 6'],
  ['topk dim', () => st.topk(f([2, 5]), 1, 2), 'ERR_ARGUMENT', 'topk: dimension 2'],
  ['sort dim', () => st.sort(f([2, 5]), -3), 'ERR_ARGUMENT', 'sort: dimension -3'],
  ['softmax dim', () => st.softmax(f([2, 5]), 2), 'ERR_ARGUMENT', 'softmax: dimension 2'],
  ['logSoftmax dim', () => st.logSoftmax(st.tensor(1), 1), 'ERR_ARGUMENT', 'logSoftmax: dimension 1'],
  // elementwise arguments
  ['clamp bounds', () => st.clamp(f([3]), 2, 1), 'ERR_ARGUMENT', 'clamp: min 2 is greater than max 1'],
  ['dropout p', () => st.dropout(f([3]), 2), 'ERR_ARGUMENT', 'dropout: probability must be in [0, 1], got 2'],
  // creation
  ['tensor ragged', () => st.tensor([[1, 2], [3]]), 'ERR_SHAPE', 'tensor: nested arrays are ragged'],
  ['tensor shape', () => st.tensor([1, 2, 3], { shape: [2, 2] }), 'ERR_SHAPE', 'tensor: 3 values do not fill shape [2,2]'],
  ['zeros shape', () => st.zeros([2, -1]), 'ERR_SHAPE', 'full: invalid shape [2,-1]'],
  ['randn shape', () => st.randn([1.5]), 'ERR_SHAPE', 'randn: invalid shape [1.5]'],
  ['rand shape', () => st.rand([-1]), 'ERR_SHAPE', 'rand: invalid shape [-1]'],
  ['randint range', () => st.randint(5, 2, [3]), 'ERR_ARGUMENT', 'randint: expected integers low < high, got 5, 2'],
  ['randperm n', () => st.randperm(1.5), 'ERR_ARGUMENT', 'randperm: n must be a non-negative integer, got 1.5'],
  ['arange step', () => st.arange(0, 5, 0), 'ERR_ARGUMENT', 'arange: step must be a non-zero finite number'],
  ['arange end', () => st.arange(0, Infinity), 'ERR_ARGUMENT', 'arange: start and end must be finite'],
  ['Tensor data', () => new Tensor(new Float32Array(3), [2, 2], 'float32'), 'ERR_SHAPE', 'Tensor: data has 3 elements but shape [2,2] needs 4'],
  ['item', () => f([2, 2]).item(), 'ERR_SHAPE', 'item: tensor has 4 elements (shape [2,2])'],
  ['Generator seed', () => new st.Generator(NaN), 'ERR_ARGUMENT', 'manualSeed'],
  ['Generator state', () => new st.Generator(1).setState([0, 0, 0, 0]), 'ERR_ARGUMENT', 'Generator.setState'],
];

test('misuse of every op throws a SparsetrainError with a code and a message naming the op and shapes', () => {
  for (const [label, fn, code, ...patterns] of MISUSE) {
    try {
      throwsST(fn, code, ...patterns);
    } catch (e) {
      throw new Error(`${label}: ${(e as Error).message}`);
    }
  }
});

/** Expected result shape (as torch) or the error code an op must throw on empty input. */
type EmptyCase = [label: string, fn: () => unknown, expect: number[] | string | number];

const EMPTY: EmptyCase[] = [
  ...UNARY_OPS.slice(0, 22).map(([n, fn]): EmptyCase => [n, () => fn(st.zeros([0, 3])), [0, 3]]),
  ['add broadcast', () => st.add(st.zeros([0, 3]), f([3])), [0, 3]],
  ['mul broadcast to empty', () => st.mul(f([2, 1]), st.zeros([0])), [2, 0]],
  ['gt', () => st.gt(st.zeros([0]), 1), [0]],
  ['where', () => st.where(bool([0, 2]), f([2]), 0), [0, 2]],
  ['dropout', () => st.dropout(st.zeros([0, 4]), 0.5), [0, 4]],
  ['sum', () => st.sum(st.zeros([0, 3])), []],
  ['sum dim 0', () => st.sum(st.zeros([0, 3]), 0), [3]],
  ['mean dim 1', () => st.mean(st.zeros([0, 3]), 1), [0]],
  ['var', () => st.variance(st.zeros([0])), []],
  ['max', () => st.max(st.zeros([0, 3])), 'ERR_SHAPE'],
  ['max over empty dim', () => st.max(st.zeros([0, 3]), 0), 'ERR_SHAPE'],
  ['max over non-empty dim', () => st.max(st.zeros([0, 3]), 1), [0]],
  ['min keepdim', () => st.min(st.zeros([0, 3]), 1, true), [0, 1]],
  ['argmax', () => st.argmax(st.zeros([0])), 'ERR_SHAPE'],
  ['argmin over non-empty dim', () => st.argmin(st.zeros([0, 3]), 1), [0]],
  ['norm', () => st.norm(st.zeros([0])), []],
  ['countNonzero', () => st.countNonzero(st.zeros([0])), 0],
  ['sumAll', () => st.sumAll(st.zeros([0])), 0],
  ['kthvalue', () => st.kthvalue(st.zeros([0]), 1), 'ERR_SHAPE'],
  ['quantile', () => st.quantile(st.zeros([0]), 0.5), 'ERR_SHAPE'],
  ['topk', () => st.topk(st.zeros([0, 5]), 2).values, [0, 2]],
  ['sort', () => st.sort(st.zeros([3, 0])).values, [3, 0]],
  ['softmax', () => st.softmax(st.zeros([0, 4]), 1), [0, 4]],
  ['logSoftmax dim 0', () => st.logSoftmax(st.zeros([0, 4]), 0), [0, 4]],
  ['reshape', () => st.reshape(st.zeros([0, 4]), [4, 0]), [4, 0]],
  ['permute', () => st.permute(st.zeros([0, 4, 2]), [2, 0, 1]), [2, 0, 4]],
  ['expand', () => st.expand(st.zeros([1, 0]), [3, 0]), [3, 0]],
  ['slice', () => st.slice(st.zeros([0, 4]), 1, 1, 3), [0, 2]],
  ['slice to empty', () => st.slice(f([5, 4]), 0, 3, 3), [0, 4]],
  ['select', () => st.select(st.zeros([0, 4]), 1, 2), [0]],
  ['select empty dim', () => st.select(st.zeros([0, 4]), 0, 0), 'ERR_ARGUMENT'],
  ['cat', () => st.cat([st.zeros([0, 3]), f([2, 3]), st.zeros([0, 3])]), [2, 3]],
  ['stack', () => st.stack([st.zeros([0]), st.zeros([0])]), [2, 0]],
  ['split', () => st.split(st.zeros([0, 3]), 2).length, 1],
  ['chunk', () => st.chunk(st.zeros([0, 3]), 2).length, 1],
  ['pad', () => st.pad(st.zeros([0, 3]), [1, 1]), [0, 5]],
  ['pad an empty dim', () => st.pad(st.zeros([2, 0]), [1, 2]), [2, 3]],
  ['indexSelect', () => st.indexSelect(f([3, 2]), i32([0])), [0, 2]],
  ['indexSelect of empty', () => st.indexSelect(st.zeros([0, 2]), i32([0])), [0, 2]],
  ['mm K = 0', () => st.mm(st.zeros([2, 0]), st.zeros([0, 3])), [2, 3]],
  ['mm M = 0', () => st.mm(st.zeros([0, 2]), f([2, 3])), [0, 3]],
  ['matmul batch 0', () => st.matmul(st.zeros([0, 2, 3]), st.zeros([0, 3, 4])), [0, 2, 4]],
  ['linear batch 0', () => st.linear(st.zeros([0, 3]), f([4, 3]), f([4])), [0, 4]],
  ['linear in 0', () => st.linear(st.zeros([2, 0]), st.zeros([4, 0]), f([4])), [2, 4]],
  ['linear out 0', () => st.linear(f([2, 3]), st.zeros([0, 3])), [2, 0]],
  ['conv2d batch 0', () => st.conv2d(st.zeros([0, 3, 5, 5]), f([2, 3, 3, 3]), f([2])), [0, 2, 3, 3]],
  ['conv2d out channels 0', () => st.conv2d(f([1, 3, 5, 5]), st.zeros([0, 3, 3, 3])), [1, 0, 3, 3]],
  ['conv2d empty image', () => st.conv2d(st.zeros([1, 3, 0, 5]), f([2, 3, 1, 1])), 'ERR_SHAPE'],
  ['maxPool2d batch 0', () => st.maxPool2d(st.zeros([0, 2, 4, 4]), 2), [0, 2, 2, 2]],
  ['maxPool2d channels 0', () => st.maxPool2d(st.zeros([1, 0, 4, 4]), 2), [1, 0, 2, 2]],
  ['maxPool2d empty image', () => st.maxPool2d(st.zeros([1, 1, 0, 4]), 1), 'ERR_SHAPE'],
  ['avgPool2d batch 0', () => st.avgPool2d(st.zeros([0, 2, 4, 4]), 2), [0, 2, 2, 2]],
  ['adaptiveAvgPool2d batch 0', () => st.adaptiveAvgPool2d(st.zeros([0, 2, 4, 4]), 2), [0, 2, 2, 2]],
  ['adaptiveAvgPool2d empty image', () => st.adaptiveAvgPool2d(st.zeros([1, 2, 0, 4]), 2), 'ERR_SHAPE'],
  ['batchNorm train, batch 0', () => st.batchNorm(st.zeros([0, 3]), { training: true }), 'ERR_SHAPE'],
  ['batchNorm eval, batch 0', () => st.batchNorm(st.zeros([0, 3, 2]), { runningMean: st.zeros([3]), runningVar: st.ones([3]), training: false }), [0, 3, 2]],
  ['batchNorm train, channels 0', () => st.batchNorm(st.zeros([4, 0, 2]), { training: true }), [4, 0, 2]],
  ['crossEntropy batch 0', () => st.crossEntropy(st.zeros([0, 5]), i32([0])), []],
  ['crossEntropy none batch 0', () => st.crossEntropy(st.zeros([0, 5]), i32([0]), { reduction: 'none' }), [0]],
  ['nllLoss batch 0', () => st.nllLoss(st.zeros([0, 5]), i32([0]), { reduction: 'sum' }), []],
  ['mseLoss', () => st.mseLoss(st.zeros([0]), st.zeros([0])), []],
];

test('empty tensors: every op works as torch does or throws a clear SparsetrainError', () => {
  for (const [label, fn, expect] of EMPTY) {
    if (typeof expect === 'string') {
      let err: unknown = null;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof SparsetrainError, `${label}: expected a SparsetrainError ${expect}, got ${String(err)}`);
      assert.equal(err.code, expect, `${label}: ${err.message}`);
      assert.match(err.message, /\[[\d,]*\]|\d+x\d+|size \d+|empty|range|0-d/, `${label}: the message names the shape: ${err.message}`);
    } else {
      const r = fn();
      if (typeof expect === 'number') assert.equal(r, expect, label);
      else assert.deepEqual((r as Tensor).shape, expect, label);
    }
  }
  // Values where torch defines them: empty sums are 0, empty means NaN, K = 0 products are 0 (+ bias).
  assert.equal(st.sum(st.zeros([0])).item(), 0);
  assert.ok(Number.isNaN(st.mean(st.zeros([0])).item()));
  assert.ok(Number.isNaN(st.variance(st.zeros([0])).item()));
  assert.deepEqual(arr(st.sum(st.zeros([0, 3]), 0)), [0, 0, 0]);
  assert.deepEqual(arr(st.mm(st.zeros([2, 0]), st.zeros([0, 2]))), [0, 0, 0, 0]);
  assert.deepEqual(arr(st.linear(st.zeros([1, 0]), st.zeros([2, 0]), st.tensor([3, 4]))), [3, 4]);
  assert.ok(Number.isNaN(st.crossEntropy(st.zeros([0, 5]), i32([0])).item()));
  assert.equal(st.softmax(st.tensor(3), 0).item(), 1);
  assert.equal(st.logSoftmax(st.tensor(3), -1).item(), 0);
  // Gradients flow through empty tensors without error.
  const x = st.zeros([0, 3], { requiresGrad: true });
  st.sum(st.mul(st.linear(x, f([2, 3])), 2)).backward();
  assert.deepEqual(x.grad!.shape, [0, 3]);
});

// ---- kernels fed bad buffers --------------------------------------------------------------

const F = (n: number) => new Float32Array(n);
const I = (...v: number[]) => Int32Array.from(v);
const U = (n: number) => new Uint8Array(n);
const CONV_G = () => I(1, 1, 3, 3, 1, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1, 1);
const POOL_G = () => I(1, 1, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0, 1, 1);
const RNG = () => {
  const s = new Uint32Array(4);
  backend().rngSeed(s, 1);
  return s;
};

/** [kernel, a valid call's arguments, bad variants (argument index -> replacement)]. */
type KernelCase = [name: string, args: () => unknown[], bad: [what: string, idx: number, value: () => unknown][]];

const KERNELS: KernelCase[] = [
  ['sgemm', () => [false, false, 2, 2, 2, 1, F(4), 2, F(4), 2, 0, F(4), 2, null, 1, 0], [
    ['C too short', 11, () => F(3)], ['A too short', 6, () => F(3)], ['B a Float64Array', 8, () => new Float64Array(4)], ['bias too short', 13, () => F(1)]]],
  ['conv2dForward', () => [F(9), F(4), null, F(4), CONV_G()], [
    ['y too short', 3, () => F(3)], ['x too short', 0, () => F(8)], ['x an Int32Array', 0, () => new Int32Array(9)], ['geometry too short', 4, () => I(1, 1, 3)], ['bias too short', 2, () => F(0)]]],
  ['conv2dBackwardInput', () => [F(4), F(4), F(9), CONV_G()], [['dx too short', 2, () => F(8)], ['dy too short', 0, () => F(3)]]],
  ['conv2dBackwardWeight', () => [F(4), F(9), F(4), F(1), CONV_G()], [['dw too short', 2, () => F(3)], ['dbias too short', 3, () => F(0)]]],
  ['maxPool2dForward', () => [F(16), F(4), new Int32Array(4), POOL_G()], [
    ['y too short', 1, () => F(3)], ['indices a Float32Array', 2, () => F(4)], ['indices too short', 2, () => new Int32Array(3)], ['x too short', 0, () => F(15)]]],
  ['maxPool2dBackward', () => [F(4), new Int32Array(4), F(16), POOL_G()], [['dx too short', 2, () => F(15)], ['indices too short', 1, () => new Int32Array(2)]]],
  ['avgPool2dForward', () => [F(16), F(4), POOL_G(), true], [['y too short', 1, () => F(3)], ['x too short', 0, () => F(10)]]],
  ['avgPool2dBackward', () => [F(4), F(16), POOL_G(), false], [['dx too short', 1, () => F(15)]]],
  ['adaptiveAvgPool2dForward', () => [F(9), F(1), 1, 3, 3, 1, 1], [['x too short', 0, () => F(8)], ['y too short', 1, () => F(0)]]],
  ['adaptiveAvgPool2dBackward', () => [F(1), F(9), 1, 3, 3, 1, 1], [['dx too short', 1, () => F(8)]]],
  ['batchNormForwardTrain', () => [F(4), F(2), F(2), F(4), 2, 2, 1, 1e-5, F(2), F(2), null, null, 0.1, false, null], [
    ['y too short', 3, () => F(3)], ['saveMean too short', 8, () => F(1)], ['gamma too short', 1, () => F(1)], ['runningVar too short', 11, () => F(1)],
    ['residual too short', 14, () => F(3)]]],
  ['batchNormForwardEval', () => [F(4), null, null, F(2), F(2), F(4), 2, 2, 1, 1e-5, true, F(4)], [['runningVar too short', 4, () => F(1)], ['y too short', 5, () => F(3)],
    ['residual too short', 11, () => F(3)]]],
  ['batchNormBackward', () => [F(4), F(4), null, F(2), F(2), F(4), null, null, 2, 2, 1, F(4), null], [['dx too short', 5, () => F(3)], ['reluOut too short', 11, () => F(3)], ['saveInvStd too short', 4, () => F(1)],
    ['gradOut too short', 12, () => F(3)]]],
  ['unary', () => [0, F(4), F(4), 4, 0], [['y too short', 2, () => F(3)], ['x a Float64Array', 1, () => new Float64Array(4)]]],
  ['binary', () => [0, F(4), I(1), F(4), I(1), F(4), I(4)], [
    ['out too short', 5, () => F(3)], ['a too short', 1, () => F(3)], ['strides a Float32Array', 2, () => F(1)], ['strides of the wrong length', 4, () => I(1, 1)]]],
  ['where', () => [U(4), I(1), F(4), I(1), F(4), I(1), F(4), I(4)], [['cond a Float32Array', 0, () => F(4)], ['out too short', 6, () => F(2)]]],
  ['clamp', () => [F(4), F(4), 4, 0, 1], [['y too short', 1, () => F(3)]]],
  ['axpy', () => [4, 1, F(4), F(4)], [['y too short', 3, () => F(3)], ['x too short', 2, () => F(1)]]],
  ['reduce', () => [0, F(6), 2, 3, 1, F(2)], [['out too short', 5, () => F(1)], ['x too short', 1, () => F(5)]]],
  ['argReduce', () => [true, F(6), 2, 3, 1, new Int32Array(2)], [['out a Float32Array', 5, () => F(2)], ['out too short', 5, () => new Int32Array(1)]]],
  ['sumAll', () => [F(4), 4], [['n beyond the buffer', 1, () => 5], ['x an Int32Array', 0, () => new Int32Array(4)]]],
  ['softmax', () => [F(6), F(6), 2, 3, false], [['y too short', 1, () => F(5)]]],
  ['softmaxBackward', () => [F(6), F(6), F(6), 2, 3, true], [['dy too short', 1, () => F(5)], ['dx too short', 2, () => F(1)]]],
  ['crossEntropyForward', () => [F(6), I(0, 2), 2, 3, -100, F(2), F(6)], [
    ['probs too short', 6, () => F(5)], ['labels a Float32Array', 1, () => F(2)], ['a label out of range', 1, () => I(0, 3)], ['lossPerRow too short', 5, () => F(1)]]],
  ['crossEntropyBackward', () => [F(6), I(0, 2), F(2), 2, 3, -100, F(6)], [['dlogits too short', 6, () => F(5)], ['labels too short', 1, () => I(0)]]],
  ['rngSeed', () => [new Uint32Array(4), 1], [['state too short', 0, () => new Uint32Array(3)], ['state an Int32Array', 0, () => new Int32Array(4)]]],
  ['rngUniform', () => [RNG(), F(4), 4, 0, 1], [['out too short', 1, () => F(3)], ['state too short', 0, () => new Uint32Array(2)]]],
  ['rngNormal', () => [RNG(), F(4), 4, 0, 1], [['out too short', 1, () => F(3)]]],
  ['rngBernoulli', () => [RNG(), F(4), 4, 0.5], [['out too short', 1, () => F(1)]]],
  ['rngInt', () => [RNG(), new Int32Array(4), 4, 0, 10], [['out a Float32Array', 1, () => F(4)]]],
  ['rngPermutation', () => [RNG(), new Int32Array(4), 4], [['out too short', 1, () => new Int32Array(3)]]],
  ['sgdUpdate', () => [F(4), F(4), F(4), null, 4, 0.1, 0.9, 0, 0, false, true], [
    ['buf too short', 2, () => F(3)], ['g a Float64Array', 1, () => new Float64Array(4)], ['mask too short', 3, () => F(2)], ['p too short', 0, () => F(1)]]],
  ['adamUpdate', () => [F(4), F(4), F(4), F(4), null, null, 4, 0.01, 0.9, 0.999, 1e-8, 0, false, false, 1], [
    ['v too short', 3, () => F(3)], ['m too short', 2, () => F(0)], ['mask too short', 5, () => F(3)]]],
  ['stridedCopy', () => [F(4), 0, I(1), F(4), 0, I(1), I(4)], [
    ['dst too short', 3, () => F(3)], ['src too short', 0, () => F(3)], ['src offset past the end', 1, () => 1], ['an Int32Array src', 0, () => new Int32Array(4)]]],
  ['stridedCopyI32', () => [new Int32Array(4), 0, I(1), new Int32Array(4), 0, I(1), I(4)], [['dst a Float32Array', 3, () => F(4)], ['dst too short', 3, () => new Int32Array(2)]]],
  ['stridedCopyU8', () => [U(4), 0, I(1), U(4), 0, I(1), I(4)], [['dst too short', 3, () => U(3)], ['src a Float32Array', 0, () => F(4)]]],
  ['gatherRows', () => [F(6), 3, 2, I(0, 2), 2, F(4)], [['an index out of range', 3, () => I(0, 3)], ['a negative index', 3, () => I(-1, 0)], ['out too short', 5, () => F(3)]]],
  ['scatterAddRows', () => [F(4), I(0, 2), 2, 2, F(6), 3], [['dx too short', 4, () => F(5)], ['an index out of range', 1, () => I(0, 5)]]],
  ['kthValue', () => [F(4), 4, 2], [['k out of range', 2, () => 5], ['n beyond the buffer', 1, () => 5], ['k = 0', 2, () => 0]]],
  ['topk', () => [F(6), 2, 3, 2, true, F(4), new Int32Array(4)], [['values too short', 5, () => F(3)], ['indices a Float32Array', 6, () => F(4)], ['k > cols', 3, () => 4]]],
  ['sortRows', () => [F(6), 2, 3, false, F(6), new Int32Array(6)], [['indices too short', 5, () => new Int32Array(5)], ['values too short', 4, () => F(1)]]],
];

test('the kernel table covers every kernel of the interface', () => {
  assert.deepEqual(KERNELS.map((k) => k[0]).sort(), [...KERNEL_NAMES].sort());
});

for (const be of haveNative ? (['native', 'reference'] as const) : (['reference'] as const)) {
  test(`${be} kernels called directly with bad buffers throw an error naming the kernel (never a crash)`, () => {
    withBackend(be, () => {
      const b = backend() as unknown as Record<string, (...a: unknown[]) => unknown>;
      for (const [name, args, bad] of KERNELS) {
        // The valid call works, so the failures below are due to the one bad argument.
        assert.doesNotThrow(() => b[name](...args()), `${be} ${name}: the valid call`);
        for (const [what, idx, value] of bad) {
          const a = args();
          a[idx] = value();
          let err: unknown = null;
          try {
            b[name](...a);
          } catch (e) {
            err = e;
          }
          assert.ok(err instanceof Error, `${be} ${name} with ${what}: did not throw`);
          const code = (err as { code?: string }).code;
          assert.ok(err instanceof SparsetrainError || code === 'ERR_SPARSETRAIN', `${be} ${name} with ${what}: not a sparsetrain error: ${String(err)}`);
          assert.ok(err.message.includes(name), `${be} ${name} with ${what}: message "${err.message}" does not name the kernel`);
        }
      }
    });
  });
}
