// Bulk Data $export for the test FHIR server (HL7 Bulk Data Access IG v2,
// R4), system level only, over Medplum's MemoryRepository:
//
//   GET    [base]/$export              Prefer: respond-async; _type, _since, _outputFormat
//                                      -> 202 + Content-Location: [base]/$export-status/ID
//   GET    [base]/$export-status/ID    202 + X-Progress + Retry-After while running,
//                                      200 + manifest when complete, 500 + OperationOutcome when failed
//   DELETE [base]/$export-status/ID    202: cancelled and deleted (then 404)
//   GET    [base]/$export-file/ID/N    one NDJSON file of the manifest
//
// A job takes its snapshot EXPORT_DELAY_MS (default 0) after the kick-off, so
// that clients see it running; each type's resources are split into files of
// EXPORT_FILE_LINES (default 1000) lines; polls while it runs are told
// Retry-After: EXPORT_RETRY_AFTER seconds (default 1). _typeFilter is not supported (and
// not advertised): it is refused with 400, as the IG asks of a server that
// cannot apply it.
//
// Test hooks (loopback only): GET /_test/export-stats counts the calls
// (kickoffs, polls, downloads, deletes); POST /_test/export-fault?kind=fail
// makes the next job fail, kind=wrongtype puts a line of another type into
// the next job's first file of each type, kind=miscount makes the next
// job's manifest overstate each file's count by one, kind=redirect&to=URL
// makes the next job's file downloads answer 302 to URL + the file's path.
'use strict';
const core = require('@medplum/core');

const formats = new Set(['application/fhir+ndjson', 'application/ndjson', 'ndjson']);

module.exports = function bulkExport({ repo, base, send }) {
  const jobs = new Map();
  const stats = { kickoffs: 0, polls: 0, downloads: 0, deletes: 0 };
  const delay = Number(process.env.EXPORT_DELAY_MS || 0);
  const fileLines = Math.max(1, Number(process.env.EXPORT_FILE_LINES || 1000));
  const retryAfter = String(Number(process.env.EXPORT_RETRY_AFTER || 1));
  let fault = '';
  let redirectTo = '';
  let seq = 0;

  function outcome(status, code, text) {
    const severity = status < 400 ? 'information' : 'error';
    return [status, { resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics: text }] }];
  }

  // kickoff checks the request and queues a job; it answers [status, body, headers].
  function kickoff(req, url) {
    if (!/respond-async/.test(String(req.headers.prefer || ''))) return outcome(400, 'invalid', 'send Prefer: respond-async');
    const known = new Set(['_type', '_since', '_outputFormat']);
    for (const k of url.searchParams.keys()) {
      if (!known.has(k)) return outcome(400, 'not-supported', `$export does not take ${k}`);
    }
    const fmt = url.searchParams.get('_outputFormat');
    if (fmt && !formats.has(fmt)) return outcome(400, 'not-supported', `_outputFormat ${fmt} is not supported`);
    const since = url.searchParams.get('_since');
    if (since && Number.isNaN(Date.parse(since))) return outcome(400, 'invalid', '_since is not an instant');
    const all = core.getResourceTypes();
    const types = url.searchParams.getAll('_type').flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
    for (const t of types) {
      if (!all.includes(t)) return outcome(400, 'not-supported', `_type ${t} is not a resource type`);
    }
    const id = `job${++seq}`;
    const job = { id, request: `${base}/$export${url.search}`, types: types.length ? types : all, since, status: 'running', fault, redirect: fault === 'redirect' ? redirectTo : '' };
    fault = '';
    jobs.set(id, job);
    stats.kickoffs++;
    const run = () => build(job).catch((e) => { job.status = 'failed'; job.error = String(e.message || e); });
    // with no delay the snapshot is taken now (the in-memory search settles
    // before the next request is read), so the first poll finds it complete
    if (delay > 0) job.timer = setTimeout(run, delay); else run();
    return [202, outcome(202, 'informational', 'accepted')[1], { 'Content-Location': `${base}/$export-status/${id}` }];
  }

  // build takes the job's snapshot: every resource of its types (updated
  // at or after _since), in files of fileLines lines.
  async function build(job) {
    if (!jobs.has(job.id)) return;
    job.transactionTime = new Date().toISOString();
    if (job.fault === 'fail') {
      job.status = 'failed';
      job.error = 'injected export failure';
      return;
    }
    job.files = [];
    for (const type of job.types) {
      const query = job.since ? { _lastUpdated: `ge${job.since}` } : {};
      const bundle = await repo.search(core.parseSearchRequest(type, query));
      const lines = (bundle.entry || []).map((e) => JSON.stringify(e.resource));
      if (job.fault === 'wrongtype' && lines.length) lines.splice(1, 0, JSON.stringify({ resourceType: 'Basic', id: 'leak', code: { text: 'x' } }));
      for (let i = 0; i < lines.length; i += fileLines) {
        const chunk = lines.slice(i, i + fileLines);
        job.files.push({ type, count: chunk.length, text: chunk.join('\n') + '\n' });
      }
    }
    job.status = 'complete';
  }

  function manifest(job) {
    return {
      transactionTime: job.transactionTime, request: job.request, requiresAccessToken: true,
      output: job.files.map((f, n) => ({ type: f.type, url: `${base}/$export-file/${job.id}/${n}`, count: f.count + (job.fault === 'miscount' ? 1 : 0) })),
      error: [],
    };
  }

  // status answers a poll (GET) or a cancel (DELETE).
  function status(req, id) {
    const job = jobs.get(id);
    if (!job) return outcome(404, 'not-found', `no export job ${id}`);
    if (req.method === 'DELETE') {
      stats.deletes++;
      clearTimeout(job.timer);
      jobs.delete(id);
      return [202, outcome(202, 'informational', 'deleted')[1]];
    }
    stats.polls++;
    if (job.status === 'running') return [202, undefined, { 'X-Progress': 'building files', 'Retry-After': retryAfter }];
    if (job.status === 'failed') return outcome(500, 'exception', job.error);
    return [200, manifest(job), { Expires: new Date(Date.now() + 3600e3).toUTCString() }];
  }

  // handle serves the $export URLs; it returns false for any other request.
  async function handle(req, res, url) {
    const path = url.pathname.replace(/\/$/, '');
    let m;
    let answer;
    if (path === '/fhir/$export' && req.method === 'GET') {
      answer = kickoff(req, url);
    } else if ((m = /^\/fhir\/\$export-status\/([A-Za-z0-9]+)$/.exec(path)) && (req.method === 'GET' || req.method === 'DELETE')) {
      answer = status(req, m[1]);
    } else if ((m = /^\/fhir\/\$export-file\/([A-Za-z0-9]+)\/(\d+)$/.exec(path)) && req.method === 'GET') {
      const job = jobs.get(m[1]);
      const file = job && job.files && job.files[Number(m[2])];
      if (!file) {
        answer = outcome(404, 'not-found', 'no such export file');
      } else if (job.redirect) {
        res.writeHead(302, { Location: job.redirect + url.pathname });
        res.end();
        return true;
      } else {
        stats.downloads++;
        res.writeHead(200, { 'Content-Type': 'application/fhir+ndjson' });
        res.end(file.text);
        return true;
      }
    } else if (path === '/_test/export-fault' && req.method === 'POST') {
      fault = url.searchParams.get('kind') || 'fail';
      redirectTo = url.searchParams.get('to') || '';
      answer = [200, { fault }];
    } else {
      return false;
    }
    send(res, answer[0], answer[1], answer[2]);
    return true;
  }

  return { handle, stats };
};
