import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface AccessTab<K extends string> {
  key: K;
  label: string;
  count?: number;
}

/**
 * ClientAccessTabs is an ARIA tab list (automatic activation): the arrow keys, Home and End move
 * between tabs and select the one they land on; Tab moves into the panel. Only the selected tab is
 * in the tab order.
 */
export function ClientAccessTabs<K extends string>({
  idPrefix,
  label,
  tabs,
  selected,
  onSelect,
  children,
}: {
  idPrefix: string;
  label: string;
  tabs: AccessTab<K>[];
  selected: K;
  onSelect(key: K): void;
  children: ReactNode;
}) {
  const refs = useRef(new Map<K, HTMLButtonElement>());
  const onKeyDown = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.key === selected);
    let to: number | null = null;
    if (e.key === 'ArrowRight') to = (i + 1) % tabs.length;
    else if (e.key === 'ArrowLeft') to = (i - 1 + tabs.length) % tabs.length;
    else if (e.key === 'Home') to = 0;
    else if (e.key === 'End') to = tabs.length - 1;
    if (to === null) return;
    e.preventDefault();
    const key = tabs[to]!.key;
    onSelect(key);
    refs.current.get(key)?.focus();
  };
  return (
    <>
      <div role="tablist" aria-label={label} className="tabs" onKeyDown={onKeyDown}>
        {tabs.map((t) => {
          const isSelected = t.key === selected;
          return (
            <button
              key={t.key}
              ref={(el) => {
                if (el) refs.current.set(t.key, el);
                else refs.current.delete(t.key);
              }}
              type="button"
              role="tab"
              id={`${idPrefix}-tab-${t.key}`}
              aria-selected={isSelected}
              aria-controls={`${idPrefix}-panel`}
              tabIndex={isSelected ? 0 : -1}
              onClick={() => onSelect(t.key)}
            >
              {t.label}
              {t.count !== undefined && <span className="tab-count"> {t.count}</span>}
            </button>
          );
        })}
      </div>
      <div role="tabpanel" id={`${idPrefix}-panel`} aria-labelledby={`${idPrefix}-tab-${selected}`} tabIndex={0} className="tabpanel">
        {children}
      </div>
    </>
  );
}
