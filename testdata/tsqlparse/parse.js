'use strict';
// Parses T-SQL statements with node-sql-parser's TransactSQL grammar (a real
// third-party T-SQL parser) and prints one JSON line per statement:
//   {"file":..., "n":..., "sql":..., "ok":true, "types":["select"]}
//   {"file":..., "n":..., "sql":..., "ok":false, "error":"..."}
// It only reports; mappings' TestGoldenTSQLParses judges (known grammar gaps
// included), so that the list of exemptions lives in one place.
//
//   node parse.js DIR   every "-- sqlserver" block of every DIR/*.sql golden
//                       file (the format mappings' TestSearchSQLGolden writes)
//   node parse.js -     JSON lines {"id":..., "sql":...} on stdin (the test's
//                       re-parse of a statement with a known gap rewritten)
const fs = require('fs');
const path = require('path');
// the TransactSQL build alone: loading every dialect's grammar costs seconds
const { Parser } = require('node-sql-parser/build/transactsql');

const parser = new Parser();

function parse(sql) {
  try {
    let ast = parser.astify(sql, { database: 'TransactSQL' });
    if (!Array.isArray(ast)) ast = [ast];
    // types let the caller see what the grammar made of the text: it reads
    // some garbage ("SELEC a FROM t") as assignments rather than rejecting it
    return { ok: true, types: ast.map((s) => (s && s.type) || (s && s.stmt && s.stmt.type) || null) };
  } catch (e) {
    const where = e.location ? ` (column ${e.location.start.column})` : '';
    // the message lists every token the grammar expected: keep its gist
    const found = e.found === undefined ? '' : e.found === null ? ' but found end of input' : ` but found ${JSON.stringify(e.found)}`;
    const msg = e.name === 'SyntaxError' ? `syntax error${where}${found}` : String(e.message).slice(0, 300);
    return { ok: false, error: msg };
  }
}

// splitStatements splits a block on ';' outside quotes and brackets.
function splitStatements(block) {
  const out = [];
  let cur = '';
  let quote = null;
  for (const ch of block) {
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '[') {
      quote = ']';
    } else if (ch === ';') {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

// sqlserverBlocks returns the statement text after each "-- sqlserver"
// header, up to its "-- args:" line (or the next blank line or header).
function sqlserverBlocks(text) {
  const blocks = [];
  let cur = null;
  for (const line of text.split('\n')) {
    if (cur === null) {
      if (line.trim() === '-- sqlserver') cur = [];
      continue;
    }
    if (line.startsWith('-- ') || line.trim() === '') {
      blocks.push(cur.join('\n'));
      cur = line.trim() === '-- sqlserver' ? [] : null;
      continue;
    }
    cur.push(line);
  }
  if (cur !== null) blocks.push(cur.join('\n'));
  return blocks;
}

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function fromDir(dir) {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    let n = 0;
    for (const block of sqlserverBlocks(text)) {
      for (const sql of splitStatements(block)) {
        n++;
        emit({ file: f, n, sql, ...parse(sql) });
      }
    }
    if (n === 0) emit({ file: f, n: 0, sql: '', ok: false, error: 'no -- sqlserver statement in file' });
  }
}

function fromStdin() {
  const lines = fs.readFileSync(0, 'utf8').split('\n').filter((l) => l.trim());
  for (const l of lines) {
    const { id, sql } = JSON.parse(l);
    emit({ id, sql, ...parse(sql) });
  }
}

const arg = process.argv[2];
if (!arg) {
  process.stderr.write('usage: node parse.js DIR | node parse.js - < statements.jsonl\n');
  process.exit(2);
}
if (arg === '-') fromStdin();
else fromDir(arg);
