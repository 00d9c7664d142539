import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { startAuth } from '../auth';
import { Explorer } from './Explorer';
import './workers';
// GraphiQL's styles without graphiql/style.css's extras: that file also carries Monaco's CSS (which the
// bundled monaco-editor loads itself, with the editor) and Roboto and Fira Code inlined as data (some
// 450 KB the page would block on). The explorer uses the system's fonts instead, as the console does.
import '@graphiql/react/style.css';
import '@graphiql/plugin-history/style.css';
import '@graphiql/plugin-doc-explorer/style.css';
import 'graphiql/graphiql.css';
import './explorer.css';

// The explorer is an entry of its own (web/graphiql.html): GraphiQL and Monaco load on /graphql only,
// never with the console.
startAuth();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Explorer />
  </StrictMode>,
);
