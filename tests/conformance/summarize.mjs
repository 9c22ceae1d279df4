// tests/conformance/summarize.mjs: turn the result directories of one
// tests/conformance/run.sh invocation into a compact pass/fail table.
//
//   node summarize.mjs MANIFEST.tsv CONFORMANCE_PACKAGE_DIR
//
// MANIFEST.tsv has one line per suite invocation:
//   label \t results-dir \t exit-code \t requirements-revision|- \t scenario|- \t wire|-
// Each results dir holds server-<scenario>-<timestamp>/checks.json as written by
// `conformance server -o DIR`. For a requirement-set run, the revision's
// requirements/<rev>.yaml (shipped in the package) says which scenarios are scored.
//
// A counted scenario passes when it has no FAILURE check and at least one SUCCESS.
// Prints the table, failing checks, and finally "conformance: N passed, N failed"
// (scenarios). Writes summary.json beside the manifest. Exit 1 if anything failed.

import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const [manifestPath, confDir] = process.argv.slice(2);
if (!manifestPath || !confDir) {
  console.error('usage: summarize.mjs MANIFEST.tsv CONFORMANCE_PACKAGE_DIR');
  process.exit(2);
}

// ---------------------------------------------------------------- requirements
function parseYaml(text) {
  try {
    return createRequire(join(confDir, 'package.json'))('yaml').parse(text);
  } catch {
    return parseRequirementsYamlSubset(text);
  }
}

// Fallback for the simple shape of requirements/*.yaml, should the package's own
// `yaml` dependency ever not resolve: top-level `server:`/`client:` lists of names and
// a `not_scored:` list of {scenario, leg, reason}.
function parseRequirementsYamlSubset(text) {
  const doc = {};
  let key = null;
  let item = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').replace(/^#.*$/, '');
    if (!line.trim()) continue;
    let m;
    if ((m = /^([A-Za-z_]+):\s*$/.exec(line))) {
      key = m[1];
      doc[key] = [];
    } else if (key && (m = /^\s+-\s+([A-Za-z_]+):\s*(.*)$/.exec(line))) {
      item = { [m[1]]: m[2].trim() };
      doc[key].push(item);
    } else if (key && (m = /^\s+-\s+(\S.*)$/.exec(line))) {
      doc[key].push(m[1].trim());
      item = null;
    } else if (item && (m = /^\s+([A-Za-z_]+):\s*(.*)$/.exec(line))) {
      item[m[1]] = m[2].trim();
    }
  }
  return doc;
}

function loadRequirements(rev) {
  const file = join(confDir, 'requirements', `${rev}.yaml`);
  const doc = parseYaml(readFileSync(file, 'utf8')) ?? {};
  const scored = (doc.server ?? []).map(String);
  const notScored = new Map(
    (doc.not_scored ?? [])
      .filter((e) => e && e.leg === 'server')
      .map((e) => [String(e.scenario), String(e.reason ?? 'not scored')])
  );
  return { scored, notScored };
}

// ---------------------------------------------------------------- results
const DIR_RE = /^server-(.+)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)$/;

// scenario -> { checks: [...] | null, dir }
function readResults(resultsDir) {
  const found = new Map();
  if (!existsSync(resultsDir)) return found;
  for (const name of readdirSync(resultsDir).sort()) {
    const m = DIR_RE.exec(name);
    if (!m) continue;
    const file = join(resultsDir, name, 'checks.json');
    let checks = null;
    if (existsSync(file)) {
      try {
        checks = JSON.parse(readFileSync(file, 'utf8'));
        if (!Array.isArray(checks)) checks = null;
      } catch {
        checks = null;
      }
    }
    found.set(m[1], { checks, dir: join(resultsDir, name) });
  }
  return found;
}

function count(checks) {
  const c = { ok: 0, fail: 0, warn: 0, other: 0 };
  for (const k of checks) {
    if (k.status === 'SUCCESS') c.ok++;
    else if (k.status === 'FAILURE') c.fail++;
    else if (k.status === 'WARNING') c.warn++;
    else c.other++;
  }
  return c;
}

// ---------------------------------------------------------------- main
const runs = readFileSync(manifestPath, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => {
    const [label, resultsDir, rc, rev, scenario, wire] = l.split('\t');
    return { label, resultsDir, rc: Number(rc), rev, scenario, wire };
  });

const rows = [];
for (const run of runs) {
  const results = readResults(run.resultsDir);
  let output = '';
  try {
    output = readFileSync(join(dirname(run.resultsDir), 'output.txt'), 'utf8');
  } catch {}
  let expected; // [scenario, scored:boolean, reason]
  if (run.rev && run.rev !== '-') {
    let req;
    try {
      req = loadRequirements(run.rev);
    } catch (e) {
      rows.push({ run: run.label, scenario: '(requirements)', counted: true, verdict: 'ERROR', note: `cannot read requirements/${run.rev}.yaml: ${e.message}` });
      continue;
    }
    expected = [
      ...req.scored.map((s) => [s, true, '']),
      ...[...req.notScored].map(([s, why]) => [s, false, why])
    ];
  } else {
    expected = [[run.scenario, true, '']];
  }
  const known = new Set(expected.map(([s]) => s));
  for (const s of results.keys()) if (!known.has(s)) expected.push([s, false, 'unexpected']);

  let countedFailures = 0;
  for (const [scenario, counted, reason] of expected) {
    const r = results.get(scenario);
    const row = { run: run.label, scenario, counted, reason, ok: 0, fail: 0, warn: 0, failures: [] };
    if (!r) {
      row.verdict = 'NOT RUN';
      row.note = 'no result directory';
    } else if (!r.checks && output.includes(`SKIPPED: scenario '${scenario}'`)) {
      row.verdict = 'SKIPPED';
      row.note = `the suite skipped it as not applicable at this wire; pass -- --force to run it anyway`;
    } else if (!r.checks) {
      row.verdict = 'ERROR';
      row.note = `no checks.json (the scenario crashed or timed out): ${r.dir}`;
    } else {
      Object.assign(row, count(r.checks));
      row.failures = r.checks.filter((k) => k.status === 'FAILURE');
      row.verdict = row.fail > 0 ? 'FAIL' : row.ok === 0 ? 'NO CHECKS' : 'PASS';
      if (row.verdict === 'NO CHECKS') {
        // e.g. server-session-lifecycle against a server that issues no session id
        // reports a single INFO check: it tested nothing, so it does not count as a pass.
        const said = r.checks.filter((k) => k.status !== 'SUCCESS').map((k) => `${k.status} ${k.id}: ${k.description}`);
        row.note = `no check succeeded, so nothing was tested${said.length ? ` [${said.join('; ')}]` : ''}`;
      }
    }
    if (counted && row.verdict !== 'PASS') countedFailures++;
    rows.push(row);
  }
  // The suite's exit code is authoritative too: a non-zero exit that the result files do
  // not explain (crash, timeout) is a failure of its own.
  if (run.rc !== 0 && countedFailures === 0) {
    rows.push({ run: run.label, scenario: '(suite exit code)', counted: true, verdict: 'ERROR', ok: 0, fail: 0, warn: 0, failures: [],
      note: run.rc === 124 || run.rc === 137 ? 'suite timed out' : `suite exited ${run.rc}` });
  }
}

// ---------------------------------------------------------------- print
const w = (s, n) => String(s).padEnd(n);
const runW = Math.max(3, ...rows.map((r) => r.run.length));
const scW = Math.max(8, ...rows.map((r) => r.scenario.length));
console.log(`${w('RUN', runW)}  ${w('SCENARIO', scW)}  ${w('SCORED', 24)}  ${'OK'.padStart(3)} ${'FAIL'.padStart(4)} ${'WARN'.padStart(4)}  RESULT`);
for (const r of rows) {
  const scored = r.counted ? 'yes' : `no (${r.reason})`;
  const verdict = r.counted ? r.verdict : r.verdict.toLowerCase();
  console.log(
    `${w(r.run, runW)}  ${w(r.scenario, scW)}  ${w(scored, 24)}  ${String(r.ok ?? '').padStart(3)} ${String(r.fail ?? '').padStart(4)} ${String(r.warn ?? '').padStart(4)}  ${verdict}`
  );
}

const trunc = (s, n) => {
  const one = String(s ?? '').replace(/\s+/g, ' ').trim();
  return one.length > n ? one.slice(0, n - 1) + '…' : one;
};
const bad = rows.filter((r) => r.counted && r.verdict !== 'PASS');
if (bad.length) {
  console.log('\nFailing (counted):');
  for (const r of bad) {
    console.log(`  ${r.run} / ${r.scenario}: ${r.verdict}${r.note ? ` (${r.note})` : ''}`);
    for (const f of r.failures.slice(0, 8)) {
      console.log(`    - [${f.id}] ${trunc(f.description, 120)}${f.errorMessage ? `\n        ${trunc(f.errorMessage, 300)}` : ''}`);
    }
    if (r.failures.length > 8) console.log(`    … ${r.failures.length - 8} more failing checks`);
  }
}
const uncountedBad = rows.filter((r) => !r.counted && r.verdict !== 'PASS');
if (uncountedBad.length) {
  console.log(`\nNot counted and not passing (informational): ${uncountedBad.map((r) => r.scenario).join(', ')}`);
}

const counted = rows.filter((r) => r.counted);
const passed = counted.filter((r) => r.verdict === 'PASS').length;
const failed = counted.length - passed;
const checks = counted.reduce((a, r) => ({ ok: a.ok + (r.ok ?? 0), fail: a.fail + (r.fail ?? 0), warn: a.warn + (r.warn ?? 0) }), { ok: 0, fail: 0, warn: 0 });

writeFileSync(
  join(dirname(manifestPath), 'summary.json'),
  JSON.stringify({ passed, failed, checks, runs, rows: rows.map(({ failures, ...r }) => ({ ...r, failing_checks: (failures ?? []).map((f) => f.id) })) }, null, 2)
);

console.log(`\nchecks in counted scenarios: ${checks.ok} succeeded, ${checks.fail} failing, ${checks.warn} warnings`);
console.log(`conformance: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
