// Tells the data plane that a VPC's state may have changed (emitted after the commit).
export type NetworkChangeListener = (vpcId: string) => void | Promise<void>;

export class NetworkEvents {
  readonly #listeners: NetworkChangeListener[] = [];

  /** The listener re-reads what it needs (it gets only the VPC id); its errors are logged, not thrown. */
  onChange(listener: NetworkChangeListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  emit(vpcId: string): void {
    for (const l of this.#listeners) {
      try {
        const r = l(vpcId);
        if (r instanceof Promise) r.catch((e) => console.error(`network change listener (${vpcId}):`, e));
      } catch (e) {
        console.error(`network change listener (${vpcId}):`, e);
      }
    }
  }
}
