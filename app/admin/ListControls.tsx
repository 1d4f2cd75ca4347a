// The paged lists' controls: a filter form, and what goes under the list.

import { type FormEvent, useState } from 'react';
import { useT } from '../i18n/i18n.ts';

/** One field of a filter: typed (with suggestions), a time, or one of some values. */
export interface FilterField<F> {
  readonly name: keyof F & string;
  readonly label: string;
  readonly kind?: 'text' | 'time';
  readonly suggestions?: readonly string[];
  readonly options?: readonly string[];
  /** What an option shows, when not its value. */
  readonly optionLabel?: (option: string) => string;
}

/**
 * A list's filter as a form: the list follows it on Apply (not on every key), Reset clears it, and
 * a filter changed from outside (a count clicked) shows in the fields.
 */
export function FilterForm<F extends Record<string, string>>({
  label,
  filter,
  empty,
  fields,
  onApply,
}: {
  label: string;
  filter: F;
  empty: F;
  fields: readonly FilterField<F>[];
  onApply(next: F): void;
}) {
  const [draft, setDraft] = useState(filter);
  const t = useT();
  const [shown, setShown] = useState(filter);
  if (shown !== filter) {
    setShown(filter);
    setDraft(filter);
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onApply(draft);
  };
  return (
    <form className="filters" onSubmit={submit} aria-label={label}>
      {fields.map((f) => {
        const bind = {
          value: draft[f.name],
          onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [f.name]: e.target.value }),
        };
        const id = `${label}-${f.name}`.replace(/\W+/g, '-');
        const listId = f.suggestions && `${id}-list`;
        return (
          <div className="field" key={f.name}>
            <label htmlFor={id}>{f.label}</label>
            {f.options ? (
              <select id={id} {...bind}>
                {f.options.map((o) => (
                  <option key={o} value={o}>
                    {f.optionLabel?.(o) ?? o}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={id}
                {...bind}
                type={f.kind === 'time' ? 'datetime-local' : 'text'}
                list={listId}
                placeholder={f.kind === 'time' ? undefined : t('list.any')}
              />
            )}
            {listId && (
              <datalist id={listId}>
                {f.suggestions?.map((s) => (
                  <option key={s} value={s} />
                ))}
              </datalist>
            )}
          </div>
        );
      })}
      <div className="filter-buttons">
        <button type="submit">{t('list.apply')}</button>
        <button type="button" className="secondary" onClick={() => onApply(empty)}>
          {t('list.reset')}
        </button>
      </div>
    </form>
  );
}

/** Under a paged list: that nothing matches, that it loads, or the next page by the cursor. */
export function ListEnd({
  pages,
  shown,
  none,
}: {
  pages: {
    data: unknown;
    isPending: boolean;
    hasNextPage: boolean;
    isFetchingNextPage: boolean;
    fetchNextPage(): Promise<unknown>;
  };
  shown: number;
  none: string;
}) {
  const t = useT();
  if (pages.isPending) return <p className="muted">{t('common.loading')}</p>;
  if (pages.data !== undefined && shown === 0) return <p className="muted">{none}</p>;
  if (!pages.hasNextPage) return null;
  return (
    <button
      type="button"
      className="secondary more"
      disabled={pages.isFetchingNextPage}
      onClick={() => void pages.fetchNextPage()}
    >
      {pages.isFetchingNextPage ? t('common.loading') : t('list.more')}
    </button>
  );
}
