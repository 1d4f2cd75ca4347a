// Dependency audit: `npm audit --omit=dev --json`, judged against audit-allowlist.json.
//
// Fails on any advisory of moderate severity or worse in a runtime dependency that the
// allowlist does not name, and on an allowlist entry past its expiry. When npm cannot reach
// the advisory service (this build machine's registry answers the bulk endpoint with 405), the
// audit did not run: that is printed as such, never as a pass, and fails only with
// TAPE_AUDIT_STRICT=1 (set it where the registry is reachable).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SEVERITIES = ['info', 'low', 'moderate', 'high', 'critical'] as const;
type Severity = (typeof SEVERITIES)[number];
const FAIL_FROM: Severity = 'moderate';

/** An advisory in npm's report (auditReportVersion 2: `vulnerabilities[name].via[]` objects). */
interface Advisory {
  readonly source: number;
  readonly name: string;
  readonly title: string;
  readonly url: string;
  readonly severity: Severity;
  readonly range: string;
}

export interface AllowEntry {
  /** The advisory's GHSA id (the last part of its url). */
  readonly id: string;
  readonly package: string;
  /** Why it cannot reach Tape (or what mitigates it): reviewed, not waved through. */
  readonly reason: string;
  /** YYYY-MM-DD: after this the entry fails the audit until someone reviews it again. */
  readonly expires: string;
}

export type Verdict =
  | { readonly kind: 'not_run'; readonly why: string }
  | {
      readonly kind: 'ran';
      readonly failures: readonly string[];
      readonly allowed: readonly string[];
      readonly below: number;
      readonly unusedEntries: readonly string[];
    };

const ghsa = (url: string) => /GHSA-[\w-]+$/i.exec(url)?.[0] ?? url;

/** Judges one `npm audit --json` output against the allowlist, as of `today` (YYYY-MM-DD). */
export function judge(report: unknown, allowlist: readonly AllowEntry[], today: string): Verdict {
  const r = report as {
    auditReportVersion?: number;
    vulnerabilities?: Record<string, { via: (Advisory | string)[] }>;
    statusCode?: number;
    message?: string;
    error?: unknown;
  };
  if (r.auditReportVersion !== 2 || typeof r.vulnerabilities !== 'object' || r.vulnerabilities === null) {
    const why = r.message ?? (r.error ? JSON.stringify(r.error) : 'npm printed no audit report');
    return { kind: 'not_run', why };
  }
  const advisories = new Map<string, Advisory>();
  for (const v of Object.values(r.vulnerabilities)) {
    for (const via of v.via) if (typeof via === 'object') advisories.set(ghsa(via.url), via);
  }
  const failures: string[] = [];
  const allowed: string[] = [];
  let below = 0;
  const used = new Set<string>();
  for (const [id, a] of advisories) {
    if (SEVERITIES.indexOf(a.severity) < SEVERITIES.indexOf(FAIL_FROM)) {
      below++;
      continue;
    }
    const what = `${a.severity} ${id} in ${a.name} ${a.range}: ${a.title}`;
    const entry = allowlist.find((e) => e.id === id && e.package === a.name);
    if (!entry) failures.push(what);
    else if (entry.expires < today)
      failures.push(`${what} (allowlisted until ${entry.expires}: review it again)`);
    else {
      used.add(entry.id);
      allowed.push(`${what} — allowed: ${entry.reason}`);
    }
  }
  const unusedEntries = allowlist.filter((e) => !used.has(e.id)).map((e) => `${e.id} (${e.package})`);
  return { kind: 'ran', failures, allowed, below, unusedEntries };
}

function main() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const allowlist = JSON.parse(readFileSync(`${root}audit-allowlist.json`, 'utf8')).entries as AllowEntry[];
  const npm = spawnSync('npm', ['audit', '--omit=dev', '--json'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  let report: unknown;
  try {
    report = JSON.parse(npm.stdout);
  } catch {
    report = {
      message: `npm audit printed no JSON (exit ${npm.status}): ${npm.stderr.trim().slice(0, 300)}`,
    };
  }
  const verdict = judge(report, allowlist, new Date().toISOString().slice(0, 10));
  if (verdict.kind === 'not_run') {
    const strict = process.env.TAPE_AUDIT_STRICT === '1';
    process.stdout.write(
      `dependency audit NOT RUN: the advisory service could not be used (${verdict.why})\n`,
    );
    process.exit(strict ? 1 : 0);
  }
  for (const a of verdict.allowed) process.stdout.write(`allowed  ${a}\n`);
  for (const u of verdict.unusedEntries)
    process.stdout.write(`note     allowlist entry matches nothing now: ${u}\n`);
  for (const f of verdict.failures) process.stdout.write(`FAIL     ${f}\n`);
  process.stdout.write(
    `dependency audit: ${verdict.failures.length} failing, ${verdict.allowed.length} allowlisted, ${verdict.below} below ${FAIL_FROM}\n`,
  );
  process.exit(verdict.failures.length > 0 ? 1 : 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
