/**
 * The agent's OpenAPI document (openapi.yaml, next to this file in the repository) turned into what the router
 * needs: one operation per method and path template, with Ajv validators for its path, query and header
 * parameters and its JSON body, compiled once at start-up. The document is the single source of truth: a route
 * the router serves but the document lacks is a start-up error (see Router), and so is the reverse.
 *
 * The YAML is read at run time: from beside this module (jest runs src/agent/*.ts), else from the package's
 * src/agent/ (the compiled lib-node/agent/ has no copy; tsc copies no YAML).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { makeError } from '../core/errors.js';

/** HTTP methods an OpenAPI path item can hold. */
export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** One documented operation. */
export interface IOperation {
  id: string;
  method: string;
  template: string;
  /** Whether a token is required (the document's `security` is not empty). */
  secured: boolean;
  /** How the body is read: parsed JSON, raw bytes, not at all, or left on the stream for the Jupyter proxy. */
  body: 'json' | 'binary' | 'none' | 'passthrough';
  match(pathname: string): Record<string, string> | null;
  /** Validates (and coerces, e.g. "5" to 5) the parameters; returns the problems, or [] when they are valid. */
  validateParams(input: {
    path: Record<string, unknown>;
    query: Record<string, unknown>;
    headers: object;
  }): string[];
  validateBody(body: unknown): string[];
}

/** A parsed OpenAPI document with compiled operations. */
export class OpenApi {
  readonly document: Record<string, unknown>;
  readonly operations: IOperation[];

  constructor(document: Record<string, unknown>) {
    this.document = document;
    const ajv = new Ajv2020({ strict: false, allErrors: true, coerceTypes: true, useDefaults: true });
    addFormats(ajv);
    ajv.addFormat('binary', true);
    const components = (document.components ?? {}) as Record<string, Record<string, unknown>>;
    ajv.addSchema({ $id: 'openapi', $defs: Private.refs(components.schemas ?? {}) });
    const ops: IOperation[] = [];
    const paths = (document.paths ?? {}) as Record<string, Record<string, unknown>>;
    for (const [template, item] of Object.entries(paths)) {
      for (const method of METHODS) {
        const op = item[method] as Record<string, unknown> | undefined;
        if (op) {
          ops.push(Private.operation(ajv, document, template, method, item, op));
        }
      }
    }
    // Literal routes before templated ones, and a greedy tail last, so /runs/{id}/receipts/stream wins.
    this.operations = ops.sort((a, b) => Private.rank(a.template) - Private.rank(b.template));
  }

  /** Loads openapi.yaml from `file` or the default places; AGENT_OPENAPI_INVALID when it is missing or broken. */
  static load(file?: string): OpenApi {
    const candidates = file
      ? [file]
      : [
          path.join(__dirname, 'openapi.yaml'),
          path.join(__dirname, '..', '..', 'src', 'agent', 'openapi.yaml')
        ];
    const found = candidates.find(f => existsSync(f));
    if (!found) {
      throw makeError(
        'AGENT_OPENAPI_INVALID',
        `The agent's OpenAPI document is missing (looked in ${candidates.join(', ')}); reinstall jupyterlab-ain.`
      );
    }
    try {
      return new OpenApi(parse(readFileSync(found, 'utf8')) as Record<string, unknown>);
    } catch (e) {
      throw makeError(
        'AGENT_OPENAPI_INVALID',
        `The OpenAPI document ${found} is invalid: ${(e as Error).message}.`
      );
    }
  }

  /** The operation serving `method` `pathname` and its path parameters, or null. */
  find(method: string, pathname: string): { op: IOperation; params: Record<string, string> } | null {
    const m = method.toLowerCase();
    for (const op of this.operations) {
      if (op.method !== m) {
        continue;
      }
      const params = op.match(pathname);
      if (params) {
        return { op, params };
      }
    }
    return null;
  }

  /** Whether some operation serves `pathname` with another method (a 405 rather than a 404). */
  knowsPath(pathname: string): boolean {
    return this.operations.some(op => op.match(pathname) !== null);
  }
}

namespace Private {
  export function rank(template: string): number {
    return (template.match(/\{/g)?.length ?? 0) * 10 + (template.endsWith('{jupyterPath}') ? 100 : 0);
  }

  /** Points component references at the $defs of the registered `openapi` schema. */
  export function refs<T>(value: T): T {
    return JSON.parse(JSON.stringify(value).replace(/"#\/components\/schemas\//g, '"openapi#/$defs/')) as T;
  }

  function deref(doc: Record<string, unknown>, value: Record<string, unknown>): Record<string, unknown> {
    const ref = value.$ref;
    if (typeof ref !== 'string') {
      return value;
    }
    let node: unknown = doc;
    for (const part of ref.replace(/^#\//, '').split('/')) {
      node = (node as Record<string, unknown> | undefined)?.[part];
    }
    if (typeof node !== 'object' || node === null) {
      throw new Error(`unresolved reference ${ref}`);
    }
    return node as Record<string, unknown>;
  }

  function messages(errors: ErrorObject[] | null | undefined): string[] {
    return (errors ?? []).map(e => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`.trim());
  }

  export function operation(
    ajv: Ajv2020,
    doc: Record<string, unknown>,
    template: string,
    method: string,
    item: Record<string, unknown>,
    op: Record<string, unknown>
  ): IOperation {
    const id = op.operationId as string;
    const security = (op.security ?? doc.security ?? []) as unknown[];
    const params = [...((item.parameters ?? []) as object[]), ...((op.parameters ?? []) as object[])].map(p =>
      deref(doc, p as Record<string, unknown>)
    );
    const group = (where: string) => {
      const list = params.filter(p => p.in === where);
      const name = (p: Record<string, unknown>) =>
        where === 'header' ? String(p.name).toLowerCase() : String(p.name);
      return {
        type: 'object',
        properties: Object.fromEntries(list.map(p => [name(p), refs(p.schema ?? {})])),
        required: list.filter(p => p.required).map(name)
      };
    };
    const query = group('query');
    if (security.length) {
      // The token may travel as a query parameter (kernel WebSockets cannot set headers in browsers).
      (query.properties as Record<string, unknown>).token = { type: 'string' };
    }
    const greedy = params.some(p => p.in === 'path' && p['x-greedy']);
    const paramsValidator: ValidateFunction = ajv.compile({
      type: 'object',
      properties: {
        path: { ...group('path'), additionalProperties: false },
        query: greedy ? group('query') : { ...query, additionalProperties: false },
        headers: group('header')
      }
    });
    const content = ((op.requestBody as Record<string, unknown> | undefined)?.content ?? {}) as Record<
      string,
      { schema?: object }
    >;
    const jsonSchema = content['application/json']?.schema;
    const bodyValidator = jsonSchema ? ajv.compile(refs(jsonSchema)) : null;
    const body: IOperation['body'] = greedy
      ? 'passthrough'
      : jsonSchema
        ? 'json'
        : content['application/octet-stream']
          ? 'binary'
          : 'none';
    const names: string[] = [];
    const source = template
      .replace(/[.*+?^$()|[\]\\]/g, '\\$&')
      .replace(/\{([^}]+)\}/g, (_m, name: string) => {
        names.push(name);
        return name === 'jupyterPath' && greedy ? '(.*)' : '([^/]+)';
      });
    const regex = new RegExp(`^${source}$`);
    return {
      id,
      method,
      template,
      secured: security.length > 0,
      body,
      match(pathname) {
        const m = regex.exec(pathname);
        if (!m) {
          return null;
        }
        try {
          return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
        } catch {
          return null;
        }
      },
      validateParams(input) {
        return paramsValidator(input) ? [] : messages(paramsValidator.errors);
      },
      validateBody(value) {
        if (!bodyValidator) {
          return [];
        }
        return bodyValidator(value) ? [] : messages(bodyValidator.errors);
      }
    };
  }
}
