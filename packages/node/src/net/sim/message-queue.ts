/** The simulated network's messages in flight, ordered by delivery time, then by sending order. */
export interface InFlight {
  readonly at: number;
  readonly seq: number;
  readonly from: number;
  readonly to: number;
  readonly epoch: number;
  readonly bytes: Uint8Array;
}

/** A binary min-heap of messages by delivery time, then sending order. */
export class MessageQueue {
  private readonly h: InFlight[] = [];
  get size(): number {
    return this.h.length;
  }
  private less(a: InFlight, b: InFlight): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  push(m: InFlight): void {
    const h = this.h;
    h.push(m);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i] as InFlight, h[p] as InFlight)) break;
      [h[i], h[p]] = [h[p] as InFlight, h[i] as InFlight];
      i = p;
    }
  }
  peek(): InFlight | undefined {
    return this.h[0];
  }
  pop(): InFlight | undefined {
    const h = this.h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l] as InFlight, h[m] as InFlight)) m = l;
        if (r < h.length && this.less(h[r] as InFlight, h[m] as InFlight)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as InFlight, h[i] as InFlight];
        i = m;
      }
    }
    return top;
  }
}
