import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { openStartLink } from './alerts/links.ts';
import { startServiceWorker } from './pwa.ts';
import { resumeSession } from './state/session.ts';
import './styles.css';

resumeSession();
startServiceWorker();
openStartLink();

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
