// Monaco (the explorer's editor) runs its language services in web workers. Vite's `?worker` imports
// bundle each worker into web/dist/assets as a file of its own, served by the core like every other
// asset: nothing is fetched from a CDN (graphiql's esm.sh setup would), and the page's policy
// (worker-src 'self') allows them. This is graphiql/setup-workers/vite without its console.info on
// every worker start.
import EditorWorker from 'monaco-editor/esm/vs/editor/editor.worker.js?worker';
import JsonWorker from 'monaco-editor/esm/vs/language/json/json.worker.js?worker';
import GraphQLWorker from 'monaco-graphql/esm/graphql.worker.js?worker';

(globalThis as unknown as { MonacoEnvironment: { getWorker(workerId: string, label: string): Worker } }).MonacoEnvironment = {
  getWorker(_workerId, label) {
    if (label === 'json') return new JsonWorker();
    if (label === 'graphql') return new GraphQLWorker();
    return new EditorWorker();
  },
};
