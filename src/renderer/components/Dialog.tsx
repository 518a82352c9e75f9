/**
 * A modal dialog. The app behind it is made inert while it is open (App.tsx),
 * so Tab stays inside; Escape cancels; focus starts on the element marked
 * `data-autofocus` (else the first control) and returns where it was after.
 */
import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef } from 'react';

const FOCUSABLE = 'button:not(:disabled), input:not(:disabled), textarea:not(:disabled), select:not(:disabled), [tabindex]:not([tabindex="-1"])';

export function Dialog({
  title,
  onCancel,
  children,
  testId,
  tone,
}: {
  title: string;
  onCancel: () => void;
  children: ReactNode;
  testId?: string;
  tone?: 'warn';
}) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  useEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const box = ref.current;
    (box?.querySelector<HTMLElement>('[data-autofocus]') ?? box?.querySelector<HTMLElement>(FOCUSABLE))?.focus();
    return () => before?.focus();
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key !== 'Escape') return;
    e.preventDefault();
    onCancel();
  };
  return (
    <div className="dialog-backdrop">
      <div
        ref={ref}
        className={`dialog card${tone ? ` dialog-${tone}` : ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        onKeyDown={onKeyDown}
        data-testid={testId}
      >
        <h2 id={titleId}>{title}</h2>
        {children}
      </div>
    </div>
  );
}
