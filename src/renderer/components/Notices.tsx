/** In-page notifications (the web host's): what arrived, what a peer refused; each dismissable, each gone by itself after a while. */
import { useApp } from '../store/context.js';

export function Notices() {
  const notices = useApp((s) => s.notices);
  const dismiss = useApp((s) => s.dismissNotice);
  return (
    <section className="notices" aria-live="polite" aria-label="Notifications" data-testid="notices">
      {notices.map((n) => (
        <div key={n.id} className={`notice card notice-${n.kind}`} role="status" data-testid="notice">
          <div className="grow">
            <strong>{n.title}</strong>
            <p className="small">{n.body}</p>
          </div>
          <button type="button" className="quiet" onClick={() => dismiss(n.id)} aria-label={`Dismiss: ${n.title}`}>
            ×
          </button>
        </div>
      ))}
    </section>
  );
}
