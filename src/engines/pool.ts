/**
 * Runs tasks with at most `limit` in flight and yields results in completion order (what
 * `/crawl/stream` wants). If a task throws, or the consumer stops early, the tasks still in flight
 * are left to finish with their errors swallowed (their resources are owned by the caller's finally).
 */
export async function* completionOrder<T, R>(
  items: readonly T[],
  limit: number,
  run: (item: T, index: number) => Promise<R>,
): AsyncGenerator<R> {
  const inFlight = new Map<number, Promise<{ index: number; value: R }>>();
  let next = 0;
  const start = () => {
    const index = next++;
    inFlight.set(
      index,
      run(items[index]!, index).then((value) => ({ index, value })),
    );
  };
  try {
    while (next < items.length && inFlight.size < Math.max(1, limit)) start();
    while (inFlight.size > 0) {
      const { index, value } = await Promise.race(inFlight.values());
      inFlight.delete(index);
      if (next < items.length) start();
      yield value;
    }
  } finally {
    for (const pending of inFlight.values()) pending.catch(() => undefined);
  }
}
