/** Identity and Flatten. */
import { Tensor } from '../../tensor/tensor';
import { flatten } from '../../ops/shape';
import { Module } from '../module';

/** Returns its input unchanged. */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/** Merges dims startDim..endDim (default 1..-1: everything but the batch). */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}
