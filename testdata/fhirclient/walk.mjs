// An independent FHIR client's walk of the facade: what a consumer written
// against any R4 server (Azure Health Data Services) does. It uses only the
// third-party client (fhir-kit-client, pinned in package.json) and writes
// one JSON line per step to stdout:
//   {"step": "...", "ok": true|false, "detail": "..."}
// Usage: node walk.mjs <FHIR base URL> [tag]
// Every step runs even when an earlier one failed (each reports its own
// result); the exit status is 0 whenever the walk itself could run.
import { randomUUID } from 'node:crypto';
import { Client } from 'fhir-kit-client';

const base = process.argv[2];
const tag = process.argv[3] || String(Date.now());
if (!base) {
  console.error('usage: node walk.mjs <FHIR base URL> [tag]');
  process.exit(2);
}
const client = new Client({ baseUrl: base });

function report(step, ok, detail = '') {
  process.stdout.write(JSON.stringify({ step, ok, detail: String(detail).slice(0, 600) }) + '\n');
}

// run performs one step; a thrown error (an HTTP error from the client
// included) is that step's failure, with the status and OperationOutcome.
async function run(step, fn) {
  try {
    const detail = await fn();
    report(step, true, detail || '');
    return true;
  } catch (err) {
    const status = err?.response?.status;
    const body = err?.response?.data ? JSON.stringify(err.response.data) : '';
    report(step, false, status ? `HTTP ${status} ${body}` : err?.message || String(err));
    return false;
  }
}

function must(cond, msg) {
  if (!cond) throw new Error(msg);
}

// statusOf is the HTTP status of a call that is expected to fail.
async function statusOf(promise) {
  try {
    await promise;
    return 200;
  } catch (err) {
    if (err?.response?.status) return err.response.status;
    throw err;
  }
}

const mrnSystem = 'urn:oid:2.16.840.1.113883.3.7777.1';
const mrn = `MRN-KIT-${tag}`;
const uuids = { Patient: randomUUID(), Encounter: randomUUID(), Condition: randomUUID(), Observation: randomUUID() };
const ref = (typ) => ({ reference: `urn:uuid:${uuids[typ]}` });

// resources are the walk's four, US Core-shaped; references between them
// are urn:uuid full URLs the server resolves
const resources = {
  Patient: {
    resourceType: 'Patient',
    identifier: [{ system: mrnSystem, value: mrn }],
    name: [{ family: 'Kitwalk', given: ['Fhir'] }],
    gender: 'female',
    birthDate: '1971-02-03',
  },
  Encounter: {
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: ref('Patient'),
    period: { start: '2024-03-01T09:00:00Z', end: '2024-03-01T09:30:00Z' },
  },
  Condition: {
    resourceType: 'Condition',
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'problem-list-item' }] }],
    code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }] },
    subject: ref('Patient'),
    encounter: ref('Encounter'),
  },
  Observation: {
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '2345-7', display: 'Glucose [Mass/volume] in Serum or Plasma' }] },
    subject: ref('Patient'),
    encounter: ref('Encounter'),
    effectiveDateTime: '2024-03-01T09:10:00Z',
    valueQuantity: { value: 5.4, unit: 'mmol/L', system: 'http://unitsofmeasure.org', code: 'mmol/L' },
  },
};
const order = ['Patient', 'Encounter', 'Condition', 'Observation'];
const ids = {};
let served = []; // the types the CapabilityStatement lists

// idFrom reads "Type/id[/_history/v]" (absolute or relative).
function idFrom(location, typ) {
  const m = new RegExp(`${typ}/([A-Za-z0-9.-]{1,64})`).exec(location || '');
  return m ? m[1] : undefined;
}

async function capabilities() {
  const cs = await client.capabilityStatement();
  must(cs.resourceType === 'CapabilityStatement', `got ${cs.resourceType}`);
  must(cs.fhirVersion === '4.0.1', `fhirVersion ${cs.fhirVersion}`);
  served = (cs.rest?.[0]?.resource || []).map((r) => r.type);
  for (const t of ['Patient', 'Encounter', 'Observation']) must(served.includes(t), `${t} not in the statement`);
  return `types: ${served.join(' ')}`;
}

async function transaction() {
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: order.map((t) => ({
      fullUrl: `urn:uuid:${uuids[t]}`,
      resource: resources[t],
      request: { method: 'POST', url: t },
    })),
  };
  const res = await client.transaction({ body: bundle });
  must(res.type === 'transaction-response', `response type ${res.type}`);
  must(res.entry?.length === order.length, `${res.entry?.length} response entries`);
  order.forEach((t, i) => {
    const r = res.entry[i].response || {};
    must(String(r.status).startsWith('201'), `${t}: status ${r.status}`);
    ids[t] = idFrom(r.location, t) || res.entry[i].resource?.id;
    must(ids[t], `${t}: no id in ${r.location}`);
  });
  return JSON.stringify(ids);
}

// createSingly stands in for a transaction the server refused, so that the
// later steps still have resources to read (urn:uuid references rewritten
// by hand). A type the statement does not list (Condition, until it is
// mapped) is left out.
async function createSingly() {
  const made = [];
  for (const t of order) {
    if (ids[t] || !served.includes(t)) continue;
    const body = JSON.parse(JSON.stringify(resources[t]).replaceAll(/urn:uuid:([0-9a-f-]{36})/g, (_, u) => {
      const typ = order.find((k) => uuids[k] === u);
      return `${typ}/${ids[typ]}`;
    }));
    const r = await client.create({ resourceType: t, body });
    ids[t] = r.id;
    made.push(`${t}/${r.id}`);
  }
  return made.length ? `created singly: ${made.join(' ')}` : 'not needed: the transaction created them';
}

async function readBack(t) {
  must(ids[t], `no ${t} was created`);
  const r = await client.read({ resourceType: t, id: ids[t] });
  must(r.resourceType === t && r.id === ids[t], `read ${r.resourceType}/${r.id}`);
  return `${t}/${r.id} version ${r.meta?.versionId}`;
}

async function references() {
  const o = await client.read({ resourceType: 'Observation', id: ids.Observation });
  must(o.subject?.reference === `Patient/${ids.Patient}`, `Observation.subject ${o.subject?.reference}`);
  must(o.encounter?.reference === `Encounter/${ids.Encounter}`, `Observation.encounter ${o.encounter?.reference}`);
  const e = await client.read({ resourceType: 'Encounter', id: ids.Encounter });
  must(e.subject?.reference === `Patient/${ids.Patient}`, `Encounter.subject ${e.subject?.reference}`);
  return 'Observation → Patient, Encounter; Encounter → Patient';
}

async function vread() {
  const cur = await client.read({ resourceType: 'Patient', id: ids.Patient });
  const v = cur.meta?.versionId;
  must(v, 'no meta.versionId');
  const r = await client.vread({ resourceType: 'Patient', id: ids.Patient, version: v });
  must(r.id === ids.Patient && r.meta?.versionId === v, `vread gave ${r.id} version ${r.meta?.versionId}`);
  return `Patient/${ids.Patient}/_history/${v}`;
}

async function history() {
  const b = await client.resourceHistory({ resourceType: 'Patient', id: ids.Patient });
  must(b.resourceType === 'Bundle' && b.type === 'history', `got ${b.resourceType} ${b.type}`);
  must((b.entry || []).some((e) => e.resource?.id === ids.Patient), 'the current version is not in the history');
  return `${b.entry.length} version(s)`;
}

async function everything() {
  const b = await client.operation({ name: '$everything', resourceType: 'Patient', id: ids.Patient, method: 'GET' });
  must(b.resourceType === 'Bundle', `got ${b.resourceType}`);
  const got = new Set((b.entry || []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`));
  for (const t of order) {
    if (ids[t]) must(got.has(`${t}/${ids[t]}`), `${t}/${ids[t]} missing from $everything`);
  }
  return `${got.size} resources`;
}

async function conditionalUpdate() {
  const cur = await client.read({ resourceType: 'Patient', id: ids.Patient });
  const body = { ...cur, name: [{ family: 'Kitwalkupdated', given: ['Fhir'] }] };
  const r = await client.update({ resourceType: 'Patient', searchParams: { identifier: `${mrnSystem}|${mrn}` }, body });
  must(r.id === ids.Patient, `conditional update answered ${r.resourceType}/${r.id}`);
  const after = await client.read({ resourceType: 'Patient', id: ids.Patient });
  must(after.name?.[0]?.family === 'Kitwalkupdated', `family after: ${after.name?.[0]?.family}`);
  return `Patient?identifier=…|${mrn} updated`;
}

async function elements() {
  const b = await client.search({ resourceType: 'Patient', searchParams: { _id: ids.Patient, _elements: 'name' } });
  const p = b.entry?.[0]?.resource;
  must(p?.id === ids.Patient, `search found ${p?.id}`);
  must(p.name && !p.birthDate && !p.gender, `not subsetted: ${Object.keys(p).join(',')}`);
  must((p.meta?.tag || []).some((t) => t.code === 'SUBSETTED'), 'no SUBSETTED tag');
  return `kept ${Object.keys(p).join(',')}`;
}

async function remove() {
  await client.delete({ resourceType: 'Observation', id: ids.Observation });
  return `Observation/${ids.Observation} deleted`;
}

async function gone() {
  const st = await statusOf(client.read({ resourceType: 'Observation', id: ids.Observation }));
  must(st === 410, `read after delete answered ${st}, want 410`);
  return '410 Gone';
}

await run('capabilities', capabilities);
await run('transaction', transaction);
await run('create singly', createSingly);
for (const t of order) await run(`read ${t}`, () => readBack(t));
await run('references', references);
await run('vread', vread);
await run('history', history);
await run('$everything', everything);
await run('conditional update', conditionalUpdate);
await run('_elements', elements);
await run('delete', remove);
await run('read after delete is 410', gone);
