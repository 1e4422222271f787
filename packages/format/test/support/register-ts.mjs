// `node --import <this file> child.ts`: run TypeScript sources directly (see ts-hooks.mjs).
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
