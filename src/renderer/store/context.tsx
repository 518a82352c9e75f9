/** React access to the one store: plain, shallow and throttled (transient) selections. */
import { type ReactNode, createContext, useContext, useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { AppStore } from './app-store.js';
import type { AppState } from './types.js';

const StoreContext = createContext<AppStore | null>(null);

export function StoreProvider({ store, children }: { store: AppStore; children: ReactNode }) {
  return <StoreContext.Provider value={store}>{children}</StoreContext.Provider>;
}

export function useAppStore(): AppStore {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useApp outside StoreProvider');
  return store;
}

/** A value from the store; re-renders when it changes (by Object.is). */
export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(useAppStore(), selector);
}

/** An object or array picked from the store; re-renders only when one of its members changes. */
export function useAppShallow<T extends object>(selector: (s: AppState) => T): T {
  return useStore(useAppStore(), useShallow(selector));
}

/**
 * A value read through a transient subscription: store updates do not
 * re-render; the component picks up the latest value at most every `ms`.
 * For live progress, which may change thousands of times a second.
 */
export function useThrottledApp<T>(selector: (s: AppState) => T, ms = 200): T {
  const store = useAppStore();
  const selectorRef = useRef(selector);
  selectorRef.current = selector;
  const [value, setValue] = useState(() => selector(store.getState()));
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let shown = selectorRef.current(store.getState());
    setValue(() => shown);
    const flush = () => {
      timer = null;
      const next = selectorRef.current(store.getState());
      if (!Object.is(next, shown)) {
        shown = next;
        setValue(() => next);
      }
    };
    const unsubscribe = store.subscribe(() => {
      timer ??= setTimeout(flush, ms);
    });
    return () => {
      unsubscribe();
      if (timer) clearTimeout(timer);
    };
  }, [store, ms]);
  // A new selector (another session chosen) shows at once, not after the next event.
  const current = selector(store.getState());
  return Object.is(current, value) ? value : current;
}
