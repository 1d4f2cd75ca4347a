// The one reader of /metrics for tests, benches and the soak: a scrape with the scrape token,
// and sums and values of a sample family in the Prometheus text.

/** The scrape token (TAPE_METRICS_TOKEN) of every test server: `scrape` reads /metrics with it. */
export const METRICS_TOKEN = 'test-metrics-scrape-token-0123456789';

/** The server's /metrics text, read as a Prometheus scraper does (with the scrape token). */
export async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${await res.text()}`);
  return res.text();
}

/** One sample family in Prometheus text: each line's label set (`{…}`, or '') and its finite value. */
function samplesOf(text: string, name: string): { labels: string; value: number }[] {
  const out: { labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    const value = Number(m?.[3]);
    if (m?.[1] === name && Number.isFinite(value)) out.push({ labels: m[2] ?? '', value });
  }
  return out;
}

/** Sum of a sample family in /metrics text, optionally only the lines whose labels contain `labels`. */
export const sampleSum = (text: string, name: string, labels = ''): number =>
  samplesOf(text, name).reduce((sum, s) => (s.labels.includes(labels) ? sum + s.value : sum), 0);

/** A labelled family's non-zero samples in /metrics text, keyed by their label values joined by spaces. */
export function sampleValues(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { labels, value } of samplesOf(text, name)) {
    if (value !== 0) out[[...labels.matchAll(/="([^"]*)"/g)].map((m) => m[1]).join(' ')] = value;
  }
  return out;
}

/** Sum of a sample family on the server's /metrics now (see sampleSum). */
export async function metric(url: string, name: string, labels = ''): Promise<number> {
  return sampleSum(await scrape(url), name, labels);
}
