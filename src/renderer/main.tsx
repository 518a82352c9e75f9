/** The renderer's entry: pick the host adapter, build the store, show the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { pickClient } from './api/pick-client.js';
import { connectEvents, createAppStore } from './store/app-store.js';
import { StoreProvider } from './store/context.js';
import { App } from './views/App.js';
import './styles.css';

const root = createRoot(document.getElementById('root')!);
let onConnection: (up: boolean) => void = () => undefined;
const picked = pickClient((up) => onConnection(up));

if (!picked.ok) {
  root.render(
    <main className="content">
      <h1>Netsync</h1>
      <p className="error-line" role="alert">
        {picked.reason}
      </p>
    </main>,
  );
} else {
  const store = createAppStore(picked.client, { folderPicker: picked.kind === 'electron', nativeNotifications: picked.kind === 'electron' });
  onConnection = (up) => store.getState().setConnected(up);
  connectEvents(store, picked.client);
  void store.getState().boot();
  root.render(
    <StrictMode>
      <StoreProvider store={store}>
        <App />
      </StoreProvider>
    </StrictMode>,
  );
}
