import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from 'react';
import type { Citation, RagStatus, Section } from '../../sync-server/shared/assistant.ts';
import { ApiError, api } from '../api/client.ts';
import { age } from '../i18n/i18n.ts';
import { useSession } from '../state/session.ts';
import {
  type Answer,
  applyEvent,
  ask,
  emptyAnswer,
  recentQuestions,
  saveAnswer,
  savedAnswer,
} from './ask.ts';
import './assistant.css';

type SourceView =
  | { readonly citation: Citation; readonly state: 'loading' }
  | { readonly citation: Citation; readonly state: 'ready'; readonly section: Section }
  | { readonly citation: Citation; readonly state: 'error'; readonly message: string };

const sourceUrl = (c: Citation) =>
  `/api/v1/rag/source?path=${encodeURIComponent(c.path)}&anchor=${encodeURIComponent(c.anchor)}`;

/** The documentation assistant: ask, read the answer as it streams, open what it cites. */
export function AssistantScreen() {
  const user = useSession((s) => s.user);
  const inputId = useId();
  const [question, setQuestion] = useState('');
  const [answer, setAnswer] = useState<Answer>();
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string>();
  const [source, setSource] = useState<SourceView>();
  const [recent, setRecent] = useState<{ question: string; at: number }[]>([]);
  const [status, setStatus] = useState<RagStatus>();
  const inflight = useRef<AbortController | undefined>(undefined);

  const refreshRecent = useCallback(() => {
    recentQuestions()
      .then(setRecent)
      .catch(() => {});
  }, []);
  useEffect(() => {
    refreshRecent();
    api<RagStatus>('/api/v1/rag/status')
      .then(setStatus)
      .catch(() => setStatus(undefined));
    return () => inflight.current?.abort();
  }, [refreshRecent]);

  const submit = async (q: string) => {
    const text = q.trim();
    if (!text || busy) return;
    inflight.current?.abort();
    const ctl = new AbortController();
    inflight.current = ctl;
    setQuestion(text);
    setBusy(true);
    setProblem(undefined);
    setSource(undefined);
    // Offline, the answer kept on this device (if this question was asked before) is shown.
    const fromDevice = async (why: string) => {
      const saved = await savedAnswer(text).catch(() => undefined);
      setAnswer(saved);
      if (!saved) setProblem(`${why}, and this device has no saved answer to that question.`);
    };
    try {
      if (!navigator.onLine) {
        await fromDevice('You are offline');
        return;
      }
      let current = emptyAnswer(text);
      setAnswer(current);
      await ask(
        text,
        (e) => {
          current = applyEvent(current, e);
          setAnswer(current);
        },
        ctl.signal,
      );
      await saveAnswer(current).catch(() => {});
      refreshRecent();
    } catch (err) {
      if (ctl.signal.aborted) return;
      if (err instanceof ApiError && err.code === 'offline') await fromDevice('The server cannot be reached');
      else {
        setAnswer(undefined);
        setProblem((err as Error).message);
      }
    } finally {
      if (inflight.current === ctl) setBusy(false);
    }
  };

  const openSource = (citation: Citation) => {
    setSource({ citation, state: 'loading' });
    api<Section>(sourceUrl(citation)).then(
      (section) => setSource({ citation, state: 'ready', section }),
      (err: Error) =>
        setSource({
          citation,
          state: 'error',
          message:
            err instanceof ApiError && err.code === 'offline'
              ? 'Offline: the source opens when the server is back.'
              : err.message,
        }),
    );
  };

  if (!user) return null;
  return (
    <section className="panel assistant" aria-labelledby="assistant-title">
      <header className="as-head">
        <h2 id="assistant-title">Assistant</h2>
        <IndexStatus status={status} />
      </header>
      <form
        className="as-ask"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          void submit(question);
        }}
      >
        <label htmlFor={inputId}>Ask about the desk's documents</label>
        <div className="as-row">
          <input
            id={inputId}
            value={question}
            maxLength={1000}
            placeholder="e.g. What happens when my socket falls behind?"
            onChange={(e) => setQuestion(e.target.value)}
          />
          <button type="submit" disabled={busy || question.trim() === ''}>
            {busy ? 'Asking…' : 'Ask'}
          </button>
        </div>
      </form>
      {problem && (
        <p role="alert" className="error as-problem">
          {problem}
        </p>
      )}
      <div className={`as-layout${source ? ' with-source' : ''}`}>
        <div className="as-main">
          {answer && <AnswerView answer={answer} busy={busy} onCite={openSource} />}
          {!answer && recent.length > 0 && (
            <nav aria-label="Recent questions" className="as-recent">
              <h3>Recent</h3>
              <ul>
                {recent.map((r) => (
                  <li key={r.question}>
                    <button type="button" className="link" onClick={() => void submit(r.question)}>
                      {r.question}
                    </button>
                  </li>
                ))}
              </ul>
            </nav>
          )}
        </div>
        {source && <SourcePanel view={source} onClose={() => setSource(undefined)} />}
      </div>
    </section>
  );
}

function IndexStatus({ status }: { status: RagStatus | undefined }) {
  if (!status) return null;
  const llm = status.backends.llm.configured ? 'LLM on' : 'no LLM: extractive answers';
  const what =
    status.state === 'indexing'
      ? 'indexing the documents…'
      : status.state === 'empty'
        ? 'no documents indexed yet'
        : `${status.documents} documents indexed`;
  return (
    <small className="as-status" data-state={status.state}>
      {what} · {llm}
    </small>
  );
}

const MODE_BADGE = {
  llm: { label: 'LLM', title: 'Written by a language model from the cited passages' },
  extractive: { label: 'Extractive', title: 'Passages quoted from the documents; no language model' },
} as const;

function ModeBadge({ answer }: { answer: Answer }) {
  if (!answer.mode) return null;
  const b = MODE_BADGE[answer.mode];
  return (
    <span className={`as-badge ${answer.mode}`} title={b.title}>
      {b.label}
    </span>
  );
}

// The answer's text with each [n] turned into a button that opens citation n.
function CitedText({
  text,
  citations,
  onCite,
}: {
  text: string;
  citations: readonly Citation[];
  onCite(c: Citation): void;
}) {
  const parts = text.split(/(\[\d{1,2}\])/);
  return (
    <p className="as-text">
      {parts.map((part, i) => {
        const n = /^\[(\d{1,2})\]$/.exec(part)?.[1];
        const c = n ? citations.find((x) => x.n === Number(n)) : undefined;
        return c ? (
          <button
            key={i}
            type="button"
            className="as-ref"
            title={`${c.path} › ${c.heading}`}
            onClick={() => onCite(c)}
          >
            {part}
          </button>
        ) : (
          part
        );
      })}
    </p>
  );
}

function AnswerView({ answer, busy, onCite }: { answer: Answer; busy: boolean; onCite(c: Citation): void }) {
  return (
    <article className="as-answer" aria-busy={busy}>
      <div className="as-meta">
        <ModeBadge answer={answer} />
        {answer.savedAt !== undefined && (
          <span className="as-saved">saved answer, offline · {age(answer.savedAt)}</span>
        )}
        {answer.cachedAt !== undefined && (
          <span className="as-saved">from the answer cache · {age(answer.cachedAt)}</span>
        )}
        {busy && !answer.mode && <span className="muted">searching the documents…</span>}
      </div>
      <div aria-live="polite">
        <CitedText text={answer.text} citations={answer.citations} onCite={onCite} />
      </div>
      {answer.error && (
        <p role="alert" className="error">
          {answer.error}
        </p>
      )}
      {answer.citations.length > 0 && (
        <ol className="as-citations" aria-label="Sources">
          {answer.citations.map((c) => (
            <li key={c.n} value={c.n}>
              <button type="button" className="link" onClick={() => onCite(c)}>
                {c.heading || c.path}
              </button>{' '}
              <small className="muted">{c.path}</small>
            </li>
          ))}
        </ol>
      )}
    </article>
  );
}

function SourcePanel({ view, onClose }: { view: SourceView; onClose(): void }) {
  return (
    <aside className="as-source" aria-label="Source">
      <header>
        <strong>{view.citation.heading || view.citation.path}</strong>
        <button type="button" className="link" onClick={onClose} aria-label="Close the source">
          ✕
        </button>
      </header>
      <small className="muted">
        {view.citation.path}
        {view.citation.anchor ? `#${view.citation.anchor}` : ''}
      </small>
      {view.state === 'loading' && <p className="muted">Opening…</p>}
      {view.state === 'error' && <p className="error">{view.message}</p>}
      {view.state === 'ready' && <pre className="as-section">{view.section.text}</pre>}
    </aside>
  );
}
