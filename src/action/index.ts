// The GitHub Action entry point (dist/index.js). The action itself is built in src/action/main.ts.
import { run } from './main.js';

await run();
