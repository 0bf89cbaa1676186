/**
 * What a run may use, and the clock that ends it. The budget is the escrow at the run's price: a run with escrow
 * E at P tokens an hour may run E / P hours from the moment the agent accepted it (the contract pays the provider
 * for openRun .. last anchor, bounded by the escrow, so the agent never works past what it can be paid for). A
 * warning event comes first (at `warnFraction` of the budget). The wall-time limit ends a run the same way;
 * output volume is counted from the receipts the runtime reports. Memory is capped by the kernel backend, which
 * owns the kernel process: `local` sets RLIMIT_DATA in the kernel (backend-local.ts); a gateway applies its own.
 */
import type { BundleLimits } from '../core/bundle-manifest.js';

/** Limits of the agent (every run gets the same). */
export interface IAgentLimits {
  /** Largest bundle accepted by POST /runs, bytes (also the reader's total-size limit). */
  maxBundleBytes: number;
  /** Longest a run may last, seconds (0: only the budget bounds it). */
  maxWallSeconds: number;
  /** Most output a run's receipts may carry, bytes of JSON (0: unbounded). */
  maxOutputBytes: number;
  /** Memory a kernel may use, MiB: enforced by the local backend (RLIMIT_DATA), a gateway's own (0: unbounded). */
  maxMemoryMb: number;
  /** The escrow must pay at least this many seconds at the run's price. */
  minEscrowSeconds: number;
  /** Fraction of the budget at which the warning event is sent. */
  warnFraction: number;
}

/** The defaults: 256 MiB bundles, 24 h runs, 256 MiB of output, one minute of escrow at least, warn at 80%. */
export const DEFAULT_LIMITS: Readonly<IAgentLimits> = Object.freeze({
  maxBundleBytes: 256 * 1024 * 1024,
  maxWallSeconds: 24 * 3600,
  maxOutputBytes: 256 * 1024 * 1024,
  maxMemoryMb: 0,
  minEscrowSeconds: 60,
  warnFraction: 0.8
});

/** The bundle reader's limits derived from the agent's. */
export function bundleReaderLimits(limits: IAgentLimits): Partial<BundleLimits> {
  return {
    maxTotalSize: limits.maxBundleBytes,
    maxFileSize: Math.min(limits.maxBundleBytes, 100 * 1024 * 1024)
  };
}

/** Milliseconds of run time that `escrow` buys at `pricePerHour` (Infinity for a free provider). */
export function budgetMs(escrow: bigint, pricePerHour: bigint): number {
  if (pricePerHour === 0n) {
    return Infinity;
  }
  return Number((escrow * 3_600_000n) / pricePerHour);
}

/** What ends a run, as the clock sees it. */
export type ClockEnd = { state: 'exhausted' | 'limit'; reason: string };

/** Timers of one run: the budget warning, then the end (budget or wall time, whichever comes first). */
export class RunClock {
  private readonly timers: NodeJS.Timeout[] = [];
  /** When the budget runs out (ms since the epoch), or null when unbounded. */
  readonly budgetEndsAt: number | null;

  constructor(
    options: { createdAt: number; escrow: bigint; pricePerHour: bigint; limits: IAgentLimits },
    handlers: { warn: (message: string, data: Record<string, unknown>) => void; end: (end: ClockEnd) => void }
  ) {
    const { createdAt, escrow, pricePerHour, limits } = options;
    const budget = budgetMs(escrow, pricePerHour);
    this.budgetEndsAt = Number.isFinite(budget) ? createdAt + budget : null;
    const wallEndsAt = limits.maxWallSeconds > 0 ? createdAt + limits.maxWallSeconds * 1000 : null;
    const at = (when: number, f: () => void) => {
      // setTimeout overflows past 2^31-1 ms (~24.8 days): re-arm in steps instead.
      const arm = () => {
        const left = when - Date.now();
        if (left <= 0) {
          f();
          return;
        }
        const t = setTimeout(arm, Math.min(left, 2 ** 31 - 1));
        t.unref();
        this.timers.push(t);
      };
      arm();
    };
    const budgetEnds = this.budgetEndsAt;
    if (budgetEnds !== null && (wallEndsAt === null || budgetEnds <= wallEndsAt)) {
      at(createdAt + budget * limits.warnFraction, () =>
        handlers.warn(
          `${Math.round(limits.warnFraction * 100)}% of the escrow is used; the run ends at ${new Date(budgetEnds).toISOString()}`,
          {
            budgetEndsAt: budgetEnds
          }
        )
      );
      at(budgetEnds, () =>
        handlers.end({ state: 'exhausted', reason: 'the escrow is used up at the provider price' })
      );
    } else if (wallEndsAt !== null) {
      at(wallEndsAt, () =>
        handlers.end({
          state: 'limit',
          reason: `the wall-time limit of ${limits.maxWallSeconds} s was reached`
        })
      );
    }
  }

  /** Cancels the timers (the run ended another way, or the agent stops). */
  cancel(): void {
    this.timers.forEach(t => clearTimeout(t));
    this.timers.length = 0;
  }
}
