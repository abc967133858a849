#!/usr/bin/env node
// The `gae` CLI: runs the TypeScript sources through tsx's loader in this same process (so signals reach it).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
await main();
