import type { IAgentReceipt } from '../chain/agent-client.js';
import { AgentEvidenceSource, IAgentReads } from './verify-source.js';

const RUN = ('0x' + 'ab'.repeat(32)) as `0x${string}`;
const SHA = ('0x' + '0a'.repeat(32)) as `0x${string}`;

function receipt(step: number, outputs?: unknown[]): IAgentReceipt {
  return {
    signed: { receipt: { step } as never, signature: '0x' },
    digest: RUN,
    ...(outputs ? { outputs } : {})
  };
}

describe("the browser's evidence source", () => {
  it("reads a step's claimed outputs from the agent's receipts (once per run) and artifacts by hash", async () => {
    let reads = 0;
    const agent: IAgentReads = {
      receipts: async () => {
        reads += 1;
        return [receipt(0, [{ output_type: 'stream', name: 'stdout', text: '42\n' }]), receipt(1)];
      },
      artifact: async sha => (sha === SHA ? new Uint8Array([1, 2]) : null)
    };
    const source = new AgentEvidenceSource(async () => agent);
    expect(await source.claimedOutputs(RUN, 0)).toEqual([
      { output_type: 'stream', name: 'stdout', text: '42\n' }
    ]);
    expect(await source.claimedOutputs(RUN, 1)).toBeNull();
    expect(await source.claimedOutputs(RUN, 7)).toBeNull();
    expect(reads).toBe(1);
    expect(await source.artifact(SHA)).toEqual(new Uint8Array([1, 2]));
    expect(await source.artifact(RUN)).toBeNull();
    expect(source.problem).toBeNull();
  });

  it('answers null, and says why, when the agent refuses (not the run’s client) or cannot be reached', async () => {
    const refused = new AgentEvidenceSource(async () => {
      throw new Error('The provider refused logging in: not your run');
    });
    expect(await refused.claimedOutputs(RUN, 0)).toBeNull();
    expect(await refused.artifact(SHA)).toBeNull();
    expect(refused.problem).toBe('The provider refused logging in: not your run');

    const failing = new AgentEvidenceSource(async () => ({
      receipts: async () => {
        throw new Error('HTTP 403');
      },
      artifact: async () => {
        throw new Error('HTTP 404');
      }
    }));
    expect(await failing.claimedOutputs(RUN, 0)).toBeNull();
    expect(await failing.artifact(SHA)).toBeNull();
    expect(failing.problem).toBe('HTTP 403');
  });

  it("reads a published run's evidence when the agent does not take the reader for the run's client", async () => {
    const forbidden: IAgentReads = {
      receipts: async () => {
        throw new Error('AGENT_FORBIDDEN: log in as its client');
      },
      artifact: async () => {
        throw new Error('AGENT_FORBIDDEN: log in as the client of its run');
      }
    };
    const published: IAgentReads = {
      receipts: async () => [receipt(0, [{ output_type: 'stream', name: 'stdout', text: '42\n' }])],
      artifact: async sha => (sha === SHA ? new Uint8Array([7]) : null)
    };
    const source = new AgentEvidenceSource(async () => forbidden, published);
    expect(await source.claimedOutputs(RUN, 0)).toEqual([
      { output_type: 'stream', name: 'stdout', text: '42\n' }
    ]);
    expect(await source.artifact(SHA)).toEqual(new Uint8Array([7]));
    expect(source.problem).toBeNull();

    // Not published either: null, and the reason the client's read gave.
    const unpublished = new AgentEvidenceSource(async () => forbidden, {
      receipts: async () => {
        throw new Error('Run 0xab… is not published at http://agent');
      },
      artifact: async () => null
    });
    expect(await unpublished.claimedOutputs(RUN, 0)).toBeNull();
    expect(unpublished.problem).toBe('AGENT_FORBIDDEN: log in as its client');
  });
});
