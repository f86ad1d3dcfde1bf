/** Counts free build slots; `acquire` waits for one and returns its release function. */
export class Semaphore {
  private waiting: Array<() => void> = [];

  constructor(private free: number) {}

  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const grant = () => {
        this.free--;
        let released = false;
        resolve(() => {
          if (released) return;
          released = true;
          this.free++;
          this.waiting.shift()?.();
        });
      };
      if (this.free > 0) grant();
      else this.waiting.push(grant);
    });
  }
}
