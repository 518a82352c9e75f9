/** Network commands: implemented with the protocol (docs/PROTOCOL.md). */
import { fail } from '../errors.js';
import type { Command } from './local-commands.js';

const notYet: Command = () => fail('usage', 'network commands are not available in this build');
export const serve = notYet;
export const sync = notYet;
export const push = notYet;
export const pull = notYet;
export const diff = notYet;
