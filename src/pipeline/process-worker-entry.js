// Worker threads do not inherit the main thread's module hooks: register tsx here, then load the
// TypeScript worker (see bin/sentinel.js for the same step in the main thread).
import { register } from 'tsx/esm/api';
register();
await import('./process-worker.ts');
