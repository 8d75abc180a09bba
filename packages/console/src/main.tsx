import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App.tsx';
import { loadConsoleSettings } from './app/console-settings.ts';
import { leaveIfExited } from './ui/quick-exit.tsx';
import './styles.css';

// After a quick exit, Back into the console shows nothing of it: the page leaves again at once.
if (!leaveIfExited()) {
  loadConsoleSettings();
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
