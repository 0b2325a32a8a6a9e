import { expect, it } from "vitest";
import { GroupCommitWriter } from "../src";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

it("writes a lone row at once, and everything that arrives meanwhile in one later write", async () => {
  const writes: number[][] = [];
  const gate = deferred();
  const writer = new GroupCommitWriter<number>(async (items) => {
    writes.push(items);
    if (writes.length === 1) await gate.promise;
  });
  const first = writer.add(1);
  // The first write is in flight (held by the gate): these three wait for the next one.
  const rest = [writer.add(2), writer.add(3), writer.add(4)];
  expect(writes).toEqual([[1]]);
  gate.resolve();
  await Promise.all([first, ...rest]);
  expect(writes).toEqual([[1], [2, 3, 4]]);
});

it("never writes more than maxBatch rows at once", async () => {
  const sizes: number[] = [];
  const gate = deferred();
  const writer = new GroupCommitWriter<number>(async (items) => {
    sizes.push(items.length);
    if (sizes.length === 1) await gate.promise;
  }, 3);
  const all = [writer.add(0)];
  for (let i = 1; i <= 7; i++) all.push(writer.add(i));
  gate.resolve();
  await Promise.all(all);
  expect(sizes).toEqual([1, 3, 3, 1]);
});

it("rejects exactly the waiters of a failed write; the next batch is still written", async () => {
  const written: number[] = [];
  const gate = deferred();
  let call = 0;
  const writer = new GroupCommitWriter<number>(async (items) => {
    call++;
    if (call === 1) await gate.promise;
    if (call === 2) throw new Error("connection lost");
    written.push(...items);
  });
  const a = writer.add(1);
  const b = writer.add(2);
  const c = writer.add(3);
  gate.resolve();
  await expect(a).resolves.toBeUndefined();
  await expect(b).rejects.toThrow("connection lost");
  await expect(c).rejects.toThrow("connection lost");
  await expect(writer.add(4)).resolves.toBeUndefined();
  await writer.flushed();
  expect(written).toEqual([1, 4]);
});
