import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from 'react';
import type { Citation, RagStatus, Section } from '../../sync-server/shared/assistant.ts';
import { ApiError, api } from '../api/client.ts';
import { age, errorText, type PlainId, useT } from '../i18n/i18n.ts';
import { useSession } from '../state/session.ts';
import {
  type Answer,
  applyEvent,
  ask,
  DROPPED,
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
  const t = useT();

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
    const fromDevice = async (why: PlainId) => {
      const saved = await savedAnswer(text).catch(() => undefined);
      setAnswer(saved);
      if (!saved) setProblem(t('as.noSaved', { why: t(why) }));
    };
    try {
      if (!navigator.onLine) {
        await fromDevice('as.youOffline');
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
      if (err instanceof ApiError && err.code === 'offline') await fromDevice('as.serverUnreachable');
      else {
        setAnswer(undefined);
        setProblem(errorText(err));
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
          message: err instanceof ApiError && err.code === 'offline' ? t('as.sourceOffline') : errorText(err),
        }),
    );
  };

  if (!user) return null;
  return (
    <section className="panel assistant" aria-labelledby="assistant-title">
      <header className="as-head">
        <h2 id="assistant-title">{t('as.title')}</h2>
        <IndexStatus status={status} />
      </header>
      <form
        className="as-ask"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          void submit(question);
        }}
      >
        <label htmlFor={inputId}>{t('as.askLabel')}</label>
        <div className="as-row">
          <input
            id={inputId}
            value={question}
            maxLength={1000}
            placeholder={t('as.placeholder')}
            onChange={(e) => setQuestion(e.target.value)}
          />
          <button type="submit" disabled={busy || question.trim() === ''}>
            {busy ? t('as.asking') : t('as.ask')}
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
            <nav aria-label={t('as.recentQuestions')} className="as-recent">
              <h3>{t('as.recent')}</h3>
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
  const t = useT();
  if (!status) return null;
  const llm = status.backends.llm.configured ? t('as.llmOn') : t('as.noLlm');
  const what =
    status.state === 'indexing'
      ? t('as.indexing')
      : status.state === 'empty'
        ? t('as.empty')
        : t('as.indexed', { count: status.documents });
  return (
    <small className="as-status" data-state={status.state}>
      {what} · {llm}
    </small>
  );
}

function ModeBadge({ answer }: { answer: Answer }) {
  const t = useT();
  if (!answer.mode) return null;
  return (
    <span
      className={`as-badge ${answer.mode}`}
      title={answer.mode === 'llm' ? t('as.llmTitle') : t('as.extractiveTitle')}
    >
      {answer.mode === 'llm' ? 'LLM' : t('as.extractive')}
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
  const t = useT();
  return (
    <article className="as-answer" aria-busy={busy}>
      <div className="as-meta">
        <ModeBadge answer={answer} />
        {answer.savedAt !== undefined && (
          <span className="as-saved">{t('as.savedOffline', { age: age(answer.savedAt) })}</span>
        )}
        {answer.cachedAt !== undefined && (
          <span className="as-saved">{t('as.fromCache', { age: age(answer.cachedAt) })}</span>
        )}
        {busy && !answer.mode && <span className="muted">{t('as.searching')}</span>}
      </div>
      <div aria-live="polite">
        <CitedText text={answer.text} citations={answer.citations} onCite={onCite} />
      </div>
      {answer.error && (
        <p role="alert" className="error">
          {answer.error === DROPPED ? t('as.dropped') : answer.error}
        </p>
      )}
      {answer.citations.length > 0 && (
        <ol className="as-citations" aria-label={t('as.sources')}>
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
  const t = useT();
  return (
    <aside className="as-source" aria-label={t('as.source')}>
      <header>
        <strong>{view.citation.heading || view.citation.path}</strong>
        <button type="button" className="link" onClick={onClose} aria-label={t('as.closeSource')}>
          ✕
        </button>
      </header>
      <small className="muted">
        {view.citation.path}
        {view.citation.anchor ? `#${view.citation.anchor}` : ''}
      </small>
      {view.state === 'loading' && <p className="muted">{t('as.opening')}</p>}
      {view.state === 'error' && <p className="error">{view.message}</p>}
      {view.state === 'ready' && <pre className="as-section">{view.section.text}</pre>}
    </aside>
  );
}
