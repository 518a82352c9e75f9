/** The whole renderer on a scripted client, for view tests in jsdom. */
import { render } from '@testing-library/react';
import { connectEvents, createAppStore } from '../../src/renderer/store/app-store.js';
import { StoreProvider } from '../../src/renderer/store/context.js';
import { App } from '../../src/renderer/views/App.js';
import { fakeClient } from './fake-client.js';

export function renderApp(handlers: Parameters<typeof fakeClient>[0]) {
  const fake = fakeClient(handlers);
  const store = createAppStore(fake.client);
  connectEvents(store, fake.client);
  render(
    <StoreProvider store={store}>
      <App />
    </StoreProvider>,
  );
  return { ...fake, store };
}
