/**
 * Classification metrics: top-1 / top-5 counts from logits and evaluation of
 * a model over a dataset (eval mode, no gradients, fixed order).
 */
import type { Module } from '../nn/module';
import type { Tensor } from '../tensor/tensor';
import type { ImageDataset } from '../data/dataset';
import { evalBatches } from '../data/loader';
import { crossEntropy } from '../ops/loss';
import { noGrad } from '../autograd/grad-mode';

/**
 * Counts rows whose label is the arg-max (top-1) and among the 5 largest
 * (top-5) of logits [B, C]. A class ranks before the label when its logit is
 * larger, or equal and of a lower index (the first maximum wins, as argmax and
 * torch.topk on CPU). One pass over the B x C logits.
 */
export function countCorrect(logits: Float32Array, labels: Int32Array, B: number, C: number): { top1: number; top5: number } {
  let top1 = 0;
  let top5 = 0;
  for (let i = 0; i < B; i++) {
    const o = i * C;
    const y = labels[i];
    const v = logits[o + y];
    let rank = 0;
    for (let j = 0; j < C; j++) {
      const l = logits[o + j];
      if (l > v || (l === v && j < y)) rank++;
    }
    if (rank === 0) top1++;
    if (rank < 5) top5++;
  }
  return { top1, top5 };
}

export interface EvalResult {
  /** Mean cross-entropy. */
  loss: number;
  /** Top-1 accuracy in percent. */
  accuracy: number;
  /** Top-5 accuracy in percent. */
  top5: number;
  samples: number;
}

/**
 * Evaluates `model` on `dataset` (or the given indices of it) in eval mode
 * without gradients; the model's training flag is restored afterwards.
 */
export function evaluate(model: Module<any[], any>, dataset: ImageDataset, opts: { batchSize?: number; indices?: ArrayLike<number> } = {}): EvalResult {
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      let lossSum = 0;
      let top1 = 0;
      let top5 = 0;
      let n = 0;
      for (const b of evalBatches(dataset, opts.batchSize ?? 500, opts.indices)) {
        const logits = model.call(b.x) as Tensor;
        const B = b.y.shape[0];
        lossSum += crossEntropy(logits, b.y, { reduction: 'sum' }).item();
        const c = countCorrect(logits.data as Float32Array, b.y.data as Int32Array, B, logits.shape[1]);
        top1 += c.top1;
        top5 += c.top5;
        n += B;
      }
      return { loss: n ? lossSum / n : NaN, accuracy: n ? (100 * top1) / n : NaN, top5: n ? (100 * top5) / n : NaN, samples: n };
    });
  } finally {
    model.train(wasTraining);
  }
}
