/**
 * `--max-memory-mb`: a local kernel that allocates past the cap gets a MemoryError in its outputs (and a receipt
 * that says so), and the kernel lives on for the next cell. Real uv environment, jupyter server and ipykernel.
 */
import { executeCell, ILocalRuntime, startLocalRuntime } from './agent-kernel-fixture';

jest.setTimeout(180_000);

let local: ILocalRuntime;

beforeAll(async () => {
  local = await startLocalRuntime({ maxMemoryMb: 300 });
});

afterAll(async () => {
  expect(await local?.stop()).toEqual([]);
});

it('turns an allocation past the cap into a MemoryError, receipted, and the kernel goes on', async () => {
  const kernel = await local.manager.startNew({ name: 'python3' });
  await kernel.info;
  const execute = async (code: string) => (await executeCell(kernel, code)).outputs;
  const small = await execute('len(bytearray(50 * 2**20))');
  expect(JSON.stringify(small)).toContain('52428800');
  const big = await execute('x = bytearray(1024 * 2**20)');
  expect(big).toEqual([expect.objectContaining({ output_type: 'error', ename: 'MemoryError' })]);
  const after = await execute('print("still alive")');
  expect(JSON.stringify(after)).toContain('still alive');
  await local.runtime.settled();
  expect(local.run.store.receipts(local.run.ctx.runId)).toHaveLength(3);
  await kernel.shutdown();
});
