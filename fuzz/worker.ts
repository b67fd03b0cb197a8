/**
 * The fuzzer's scanning thread: scans one input at a time in memory through the real engine, with every
 * registered analyzer wrapped so an exception's stack is kept (the engine records only its message as
 * MG003). The parent thread terminates this worker when an input hangs it.
 */
import { parentPort } from 'node:worker_threads';
import { analyzeSource, nestedScanner } from '../src/core/engine.js';
import type { Analyzer } from '../src/core/formats/analyzer.js';
import { ANALYZERS } from '../src/core/formats/registry.js';
import { BudgetExceededError, DEFAULT_LIMITS, type Limits } from '../src/core/limits.js';
import { DEFAULT_POLICY, evaluateFile } from '../src/core/policy/policy.js';
import { scanBuffer } from '../src/core/scan-file.js';

export interface FuzzRequest {
  id: number;
  name: string;
  data: Uint8Array;
  limits?: Partial<Limits>;
}

export interface FuzzResponse {
  id: number;
  verdict: string;
  format: string;
  rules: string[];
  ms: number;
  /** CPU time of the process during the scan (the worker's, the parent thread being idle meanwhile). */
  cpuMs: number;
  /** Stacks of non-budget exceptions thrown inside analyzers or detectors (engine turned them into MG003). */
  errors: string[];
  /** An exception that escaped scanBuffer itself (a crash of the engine). */
  escaped?: string;
  heapUsed: number;
}

const errors: string[] = [];

function wrap(a: Analyzer): Analyzer {
  return {
    id: a.id,
    detect(probe) {
      try {
        return a.detect(probe);
      } catch (e) {
        errors.push(`${a.id}.detect: ${stackOf(e)}`);
        throw e;
      }
    },
    async analyze(ctx, d) {
      try {
        await a.analyze(ctx, d);
      } catch (e) {
        if (!(e instanceof BudgetExceededError)) errors.push(`${a.id}.analyze: ${stackOf(e)}`);
        throw e;
      }
    },
  };
}

function stackOf(e: unknown): string {
  return e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e);
}

const analyzers = ANALYZERS.map(wrap);
const nested = nestedScanner(analyzers);

export async function scanOne(req: FuzzRequest): Promise<FuzzResponse> {
  errors.length = 0;
  const limits: Limits = { ...DEFAULT_LIMITS, ...req.limits };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const cpuMs = () => {
    const c = process.cpuUsage(cpu0);
    return (c.user + c.system) / 1000;
  };
  try {
    const r = await scanBuffer(req.name, req.data, {
      settings: { limits, allowGlobals: [] },
      analyze: (ctx) => analyzeSource(ctx, analyzers),
      nested,
    });
    const ev = evaluateFile(
      r.findings,
      { ...DEFAULT_POLICY, limits },
      { path: req.name, sha256: r.sha256 },
      new Date(),
    );
    return {
      id: req.id,
      verdict: ev.verdict,
      format: r.format,
      rules: [...new Set(r.findings.map((f) => f.ruleId))].sort(),
      ms: performance.now() - t0,
      cpuMs: cpuMs(),
      errors: [...errors],
      heapUsed: process.memoryUsage().heapUsed,
    };
  } catch (e) {
    return {
      id: req.id,
      verdict: 'crash',
      format: '',
      rules: [],
      ms: performance.now() - t0,
      cpuMs: cpuMs(),
      errors: [...errors],
      escaped: stackOf(e),
      heapUsed: process.memoryUsage().heapUsed,
    };
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', async (req: FuzzRequest) => {
    port.postMessage(await scanOne(req));
  });
  port.postMessage({ id: 0, ready: true });
  process.on('unhandledRejection', (e) => {
    port.postMessage({ id: -1, verdict: 'crash', escaped: `unhandledRejection: ${stackOf(e)}` });
  });
}
