/**
 * The OpenAPI document: well-formed (OpenAPI 3.1 structure, unique operation ids, every path parameter declared,
 * every reference resolving, every schema compiling under JSON Schema 2020-12 in strict mode), and in one-to-one
 * correspondence with the router's handlers.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { METHODS, OpenApi } from './openapi.js';
import { createRoutes } from './router.js';

const doc = parse(readFileSync(path.join(__dirname, 'openapi.yaml'), 'utf8'));

function resolve(ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<any>((node, part) => node?.[part], doc);
}

function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    value.forEach(v => refs(v, out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref') {
        out.push(v as string);
      } else {
        refs(v, out);
      }
    }
  }
  return out;
}

describe('openapi.yaml', () => {
  it('is an OpenAPI 3.1 document whose operations are complete and whose references resolve', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBeTruthy();
    const ids: string[] = [];
    for (const [template, item] of Object.entries<any>(doc.paths)) {
      expect(template.startsWith('/')).toBe(true);
      const declared = [...(item.parameters ?? [])]
        .map((p: any) => (p.$ref ? resolve(p.$ref) : p))
        .filter((p: any) => p.in === 'path')
        .map((p: any) => p.name);
      for (const method of METHODS.filter(m => item[m])) {
        const op = item[method];
        ids.push(op.operationId);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
        const own = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
        const names = [...template.matchAll(/\{([^}]+)\}/g)].map(m => m[1]);
        expect([...declared, ...own].sort()).toEqual(names.sort());
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const ref of refs(doc)) {
      expect([ref, resolve(ref) !== undefined]).toEqual([ref, true]);
    }
  });

  it('documents every answer the server gives: 400 where it validates parameters, one event per SSE schema', () => {
    // The server answers 400 AGENT_REQUEST_INVALID to any parameter or body that does not match (schemathesis
    // found a dozen operations that did not say so); the Jupyter pass-through documents `default`.
    const missing: string[] = [];
    for (const [template, item] of Object.entries<any>(doc.paths)) {
      for (const method of METHODS.filter(m => item[m])) {
        const op = item[method];
        const validated = [...(item.parameters ?? []), ...(op.parameters ?? [])].length > 0 || op.requestBody;
        if (validated && !op.responses['400'] && !op.responses.default) {
          missing.push(`${method.toUpperCase()} ${template}`);
        }
        for (const response of Object.values<any>(op.responses)) {
          const stream = response.content?.['text/event-stream'];
          if (stream) {
            // OpenAPI 3.1 tools (schemathesis) read a stream's schema as the schema of each event.
            expect(resolve(stream.schema.$ref)).toMatchObject({ type: 'object', required: ['data'] });
          }
        }
      }
    }
    expect(missing).toEqual([]);
    const proof = doc.paths['/runs/{runId}/receipts/{step}/proof'].get.responses;
    expect(Object.keys(proof)).toContain('404');
  });

  it('has schemas that compile in strict JSON Schema 2020-12', () => {
    const ajv = new Ajv2020({ strict: true, strictTypes: false });
    addFormats(ajv);
    ajv.addFormat('binary', true);
    ajv.addKeyword('x-greedy');
    const schemas = JSON.parse(
      JSON.stringify(doc.components.schemas).replace(/"#\/components\/schemas\//g, '"s#/$defs/')
    );
    ajv.addSchema({ $id: 's', $defs: schemas });
    for (const name of Object.keys(schemas)) {
      expect(() => ajv.getSchema(`s#/$defs/${name}`)).not.toThrow();
    }
  });

  it('matches the router: every operation has a handler and every handler is documented', () => {
    const api = OpenApi.load();
    const handlers = Object.keys(createRoutes({} as never, api)).sort();
    expect(api.operations.map(o => o.id).sort()).toEqual(handlers);
  });

  it('validates parameters and bodies, coercing query strings', () => {
    const api = OpenApi.load();
    const run = '0x' + 'ab'.repeat(32);
    const found = api.find('GET', `/runs/${run}/receipts/3/proof`)!;
    expect(found.op.id).toBe('getReceiptProof');
    const params = { path: { ...found.params }, query: {}, headers: {} };
    expect(found.op.validateParams(params)).toEqual([]);
    expect(params.path.step).toBe(3);
    expect(api.find('GET', `/runs/${run}/receipts/stream`)!.op.id).toBe('streamReceipts');
    expect(api.find('GET', `/runs/${run}/jupyter/api/kernels/k/channels`)!.params.jupyterPath).toBe(
      'api/kernels/k/channels'
    );
    const create = api.find('POST', '/runs')!.op;
    expect(create.validateParams({ path: {}, query: { runId: 'nope' }, headers: {} })[0]).toMatch(/runId/);
    expect(create.validateParams({ path: {}, query: { runId: run, extra: '1' }, headers: {} }).length).toBe(
      1
    );
    const login = api.find('POST', '/auth/login')!.op;
    expect(login.body).toBe('json');
    expect(login.validateBody({ message: 'm', signature: '0x' + '1'.repeat(130) })).toEqual([]);
    expect(login.validateBody({ message: 'm', signature: '0x12' }).length).toBeGreaterThan(0);
  });
});
