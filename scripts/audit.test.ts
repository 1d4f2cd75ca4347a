import { describe, expect, it } from 'vitest';
import { type AllowEntry, judge } from './audit.ts';

// The report shape of `npm audit --json` (auditReportVersion 2): each vulnerable package lists,
// under `via`, the advisories that hit it directly (objects) or the packages it gets them through.
const advisory = (name: string, id: string, severity: string) => ({
  source: 1_100_000,
  name,
  dependency: name,
  title: `A flaw in ${name}`,
  url: `https://github.com/advisories/${id}`,
  severity,
  cwe: ['CWE-400'],
  cvss: { score: 7.5, vectorString: null },
  range: '<1.2.3',
});
const report = (...vias: ReturnType<typeof advisory>[]) => ({
  auditReportVersion: 2,
  vulnerabilities: Object.fromEntries(
    vias.map((v) => [
      v.name,
      { name: v.name, severity: v.severity, isDirect: false, via: [v], effects: ['parent'], range: v.range },
    ]),
  ),
  metadata: { vulnerabilities: { total: vias.length } },
});
const TODAY = '2026-11-30';
const allow = (id: string, pkg: string, expires = '2027-01-31'): AllowEntry => ({
  id,
  package: pkg,
  reason: 'reviewed',
  expires,
});

describe('dependency audit verdict', () => {
  it('fails on a moderate-or-worse advisory that is not allowlisted, and counts lower ones apart', () => {
    const v = judge(
      report(
        advisory('left', 'GHSA-aaaa-bbbb-cccc', 'high'),
        advisory('right', 'GHSA-dddd-eeee-ffff', 'low'),
      ),
      [],
      TODAY,
    );
    expect(v.kind).toBe('ran');
    if (v.kind !== 'ran') return;
    expect(v.failures).toHaveLength(1);
    expect(v.failures[0]).toMatch(/^high GHSA-aaaa-bbbb-cccc in left/);
    expect(v.below).toBe(1);
  });

  it('passes an allowlisted advisory until its entry expires, and only for the package it names', () => {
    const r = report(advisory('left', 'GHSA-aaaa-bbbb-cccc', 'critical'));
    const ok = judge(r, [allow('GHSA-aaaa-bbbb-cccc', 'left')], TODAY);
    expect(ok.kind === 'ran' && ok.failures).toEqual([]);
    const expired = judge(r, [allow('GHSA-aaaa-bbbb-cccc', 'left', '2026-11-29')], TODAY);
    expect(expired.kind === 'ran' && expired.failures[0]).toMatch(/review it again/);
    const otherPackage = judge(r, [allow('GHSA-aaaa-bbbb-cccc', 'elsewhere')], TODAY);
    expect(otherPackage.kind === 'ran' && otherPackage.failures).toHaveLength(1);
    expect(otherPackage.kind === 'ran' && otherPackage.unusedEntries).toEqual([
      'GHSA-aaaa-bbbb-cccc (elsewhere)',
    ]);
  });

  it('reports an unreachable advisory service as not run, never as a pass', () => {
    // What npm printed on this machine: the registry refuses the bulk advisory endpoint.
    const v = judge(
      {
        message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
        statusCode: 405,
        error: { summary: '', detail: '' },
      },
      [],
      TODAY,
    );
    expect(v).toEqual({ kind: 'not_run', why: expect.stringMatching(/405/) });
  });
});
