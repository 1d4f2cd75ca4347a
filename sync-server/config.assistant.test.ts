import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

// The assistant's settings in sync-server/config.ts.

describe('assistant settings', () => {
  it('defaults to the embedded mode: ./docs, no Qdrant, no Ollama', () => {
    const c = loadConfig({}, '/srv/tape');
    expect(c.rag).toMatchObject({
      sources: [{ label: 'docs', dir: '/srv/tape/docs' }],
      qdrantUrl: undefined,
      ollamaHosts: [],
      chatModel: 'llama3.1:8b',
      embedModel: 'nomic-embed-text',
      llmTimeoutMs: 15_000,
      questionsPerMinute: 20,
      burst: 5,
      cacheTtlS: 86_400,
    });
    expect(Object.isFrozen(c.rag)).toBe(true);
  });

  it('reads the production settings', () => {
    const c = loadConfig(
      {
        TAPE_RAG_DOCS_DIRS: './docs, /srv/desk-notes',
        QDRANT_URL: 'http://qdrant:6333',
        QDRANT_API_KEY: 'k',
        OLLAMA_HOSTS: 'http://gpu1:11434, http://gpu2:11434',
        TAPE_RAG_RATE: '6',
      },
      '/srv/tape',
    );
    expect(c.rag.sources).toEqual([
      { label: 'docs', dir: '/srv/tape/docs' },
      { label: 'desk-notes', dir: '/srv/desk-notes' },
    ]);
    expect(c.rag.ollamaHosts).toEqual(['http://gpu1:11434', 'http://gpu2:11434']);
    expect(c.rag.qdrantUrl).toBe('http://qdrant:6333');
    expect(c.rag.questionsPerMinute).toBe(6);
  });

  it.each([
    ['OLLAMA_HOSTS', 'gpu1:11434', /OLLAMA_HOSTS: a comma list of http\(s\) URLs/],
    ['QDRANT_URL', 'qdrant:6333', /QDRANT_URL: a URL starting with http: or https:/],
    ['TAPE_RAG_BURST', '0', /TAPE_RAG_BURST/],
    ['TAPE_OLLAMA_TIMEOUT_MS', '5', /TAPE_OLLAMA_TIMEOUT_MS/],
    [
      'TAPE_RAG_DOCS_DIRS',
      './docs,/elsewhere/docs',
      /TAPE_RAG_DOCS_DIRS: two directories have the same name/,
    ],
  ])('rejects %s=%s naming the variable and the expected form', (name, value, message) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(message);
  });

  it('never echoes the hosts or the Qdrant key in an error', () => {
    const err = (() => {
      try {
        loadConfig({ OLLAMA_HOSTS: 'gpu1, http://u:hunter2@gpu2', QDRANT_URL: 'ftp://x:sekrit@q' });
      } catch (e) {
        return String(e);
      }
    })();
    expect(err).toContain('OLLAMA_HOSTS');
    expect(err).not.toContain('hunter2');
    expect(err).not.toContain('sekrit');
  });
});
