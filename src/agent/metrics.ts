/**
 * Metrics and structured logs of the agent. Metrics are Prometheus series (prom-client) in a registry of the
 * agent's own, so that two agents in one process (tests) never share counters. Logs are one JSON object a line on
 * stderr; every field whose name says it could hold a secret (keys, tokens, salts, passwords, signatures of login
 * messages) is dropped before writing, whatever the caller passed, so a careless log line cannot leak one.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: LogLevel[] = ['debug', 'info', 'warn', 'error'];

/** Field names never written to a log (matched case-insensitively, anywhere in the name). */
const SECRET_FIELD = /key|token|salt|secret|password|authorization|cookie|signature|message/i;

/** A structured logger. */
export interface ILogger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
}

/** Options of createLogger. */
export interface ILoggerOptions {
  level?: LogLevel;
  /** Where lines go (stderr by default); tests collect them. */
  write?: (line: string) => void;
}

/** A logger writing JSON lines with `at`, `level`, `event` and the (redacted) fields. */
export function createLogger(options: ILoggerOptions = {}): ILogger {
  const min = LEVELS.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  return {
    log(level, event, fields = {}) {
      if (LEVELS.indexOf(level) < min) {
        return;
      }
      write(JSON.stringify({ at: new Date().toISOString(), level, event, ...redact(fields) }));
    }
  };
}

/** Copies `fields` without the ones that could hold a secret; bigints become strings. */
export function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(name)) {
      continue;
    }
    if (typeof value === 'bigint') {
      out[name] = value.toString();
    } else if (value instanceof Error) {
      out[name] = value.message;
    } else {
      out[name] = value;
    }
  }
  return out;
}

/** The agent's Prometheus series. */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly runsTotal: Counter<'outcome'>;
  readonly runsActive: Gauge;
  readonly receiptsTotal: Counter;
  readonly anchorsTotal: Counter<'result'>;
  readonly anchorLagReceipts: Gauge;
  readonly anchorLagSeconds: Gauge;
  readonly requestDuration: Histogram<'method' | 'route' | 'status'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'ain_agent_' });
    this.runsTotal = new Counter({
      name: 'ain_agent_runs_total',
      help: 'Runs by outcome: accepted, refused, stopped, exhausted, limit, failed.',
      labelNames: ['outcome'],
      registers
    });
    this.runsActive = new Gauge({ name: 'ain_agent_runs_active', help: 'Runs not yet ended.', registers });
    this.receiptsTotal = new Counter({
      name: 'ain_agent_receipts_total',
      help: 'Signed step receipts seen by the service.',
      registers
    });
    this.anchorsTotal = new Counter({
      name: 'ain_agent_anchors_total',
      help: 'Checkpoint anchors by result: landed, already (found on-chain), retry, failed, withheld.',
      labelNames: ['result'],
      registers
    });
    this.anchorLagReceipts = new Gauge({
      name: 'ain_agent_anchor_lag_receipts',
      help: 'Receipts queued for anchoring but not yet on-chain, over all runs.',
      registers
    });
    this.anchorLagSeconds = new Gauge({
      name: 'ain_agent_anchor_lag_seconds',
      help: 'Age of the oldest checkpoint waiting to be anchored (0 when none waits).',
      registers
    });
    this.requestDuration = new Histogram({
      name: 'ain_agent_http_request_duration_seconds',
      help: 'HTTP request durations by operation and status (Jupyter pass-through counted until hand-over).',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers
    });
  }
}
